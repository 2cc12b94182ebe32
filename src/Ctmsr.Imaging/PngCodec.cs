using System.Buffers.Binary;
using Ctmsr.Imaging.Native;

namespace Ctmsr.Imaging;

/// <summary>PNG through libpng's simplified API, keeping the stored sample values exactly as cv2.imread does.
/// The simplified API would otherwise apply colour management: it converts between a file's gAMA/sRGB/iCCP/cHRM
/// encoding and its output encoding (8-bit output is sRGB, 16-bit output is linear). Those chunks are therefore
/// removed before decoding (and from 16-bit output, where libpng labels the data as linear), so 8-bit data is read
/// as sRGB-to-sRGB and 16-bit data as linear-to-linear, both identities. libpng premultiplies alpha in 16-bit
/// output; that is undone here (exact for opaque pixels, within 1/alpha otherwise).</summary>
internal static unsafe class PngCodec
{
    static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    public static bool HasSignature(ReadOnlySpan<byte> d) => d.Length >= 8 && d[..8].SequenceEqual(Signature);

    public static Image Decode(ReadOnlySpan<byte> data, string name, ImageDecodeOptions opt)
    {
        // IHDR is the first chunk: 8 signature + 4 length + 4 type + 13 data.
        if (data.Length < 8 + 8 + 13 + 4)
            throw new ImageFormatException(name, $"truncated PNG ({data.Length} bytes, no complete IHDR chunk): the file is damaged, re-download or remove it");
        if (BinaryPrimitives.ReadUInt32BigEndian(data[8..]) != 13 || !data.Slice(12, 4).SequenceEqual("IHDR"u8))
            throw new ImageFormatException(name, "corrupt PNG: the first chunk is not a valid IHDR: the file is damaged, re-export or remove it");
        uint w = BinaryPrimitives.ReadUInt32BigEndian(data[16..]);
        uint h = BinaryPrimitives.ReadUInt32BigEndian(data[20..]);
        int bitDepth = data[24];
        ImageCodec.CheckSize(name, (long)w, (long)h, opt);

        byte[]? stripped = StripChunks(data, ColourChunks, out bool complete);
        ReadOnlySpan<byte> clean = stripped is null ? data : stripped;
        var png = LibPng.Api;
        var img = new PngImage { Version = LibPng.ImageVersion };
        try
        {
            fixed (byte* p = clean)
            {
                if (png.BeginReadFromMemory(&img, p, (nuint)clean.Length) == 0)
                    throw Error(name, img.Message);
                if (img.Width != w || img.Height != h)
                    throw new ImageFormatException(name, "corrupt PNG header: the file is damaged, re-export or remove it");
                bool sixteen = bitDepth == 16;
                uint format = img.Format & (LibPng.FormatFlagAlpha | LibPng.FormatFlagColor);
                if (sixteen) format |= LibPng.FormatFlagLinear;
                img.Format = format;
                int ch = (int)(format & 3) + 1;
                int n = (int)w * (int)h;
                Image result;
                if (sixteen)
                {
                    var buf = GC.AllocateUninitializedArray<ushort>(checked(n * ch));
                    fixed (ushort* b = buf)
                        if (png.FinishRead(&img, null, b, 0, null) == 0) throw Error(name, img.Message);
                    if ((format & LibPng.FormatFlagAlpha) != 0) Unpremultiply(buf, ch);
                    result = new Image((int)w, (int)h, ch, 16, GC.AllocateUninitializedArray<float>(n * ch));
                    PixelPacking.Unpack16(buf, ch, result.Data, n);
                }
                else
                {
                    var buf = GC.AllocateUninitializedArray<byte>(checked(n * ch));
                    fixed (byte* b = buf)
                        if (png.FinishRead(&img, null, b, 0, null) == 0) throw Error(name, img.Message);
                    result = new Image((int)w, (int)h, ch, 8, GC.AllocateUninitializedArray<float>(n * ch));
                    PixelPacking.Unpack8(buf, ch, result.Data, n);
                }
                // libpng stops reading once the image data is complete; a file cut after that point still
                // decodes there, but it is a damaged file all the same.
                if (!complete)
                    throw new ImageFormatException(name, "truncated PNG (ends before its IEND chunk): the file is damaged, re-download or remove it");
                return result;
            }
        }
        finally
        {
            png.Free(&img);
        }
    }

    static ImageFormatException Error(string name, string message) =>
        new(name, $"corrupt or truncated PNG ({(message.Length > 0 ? message : "libpng gave no reason")}): the file is damaged, re-download or remove it");

    static void Unpremultiply(ushort[] px, int ch)
    {
        for (int i = 0; i < px.Length; i += ch)
        {
            uint a = px[i + ch - 1];
            if (a == 65535) continue;
            for (int c = 0; c < ch - 1; c++)
                px[i + c] = a == 0 ? (ushort)0 : (ushort)Math.Min(65535u, (px[i + c] * 65535u + a / 2) / a);
        }
    }

    static readonly string[] ColourChunks = ["gAMA", "sRGB", "iCCP", "cHRM"];

    /// <summary>A copy of the PNG without the named chunks, or null when it has none of them. Parsing stops quietly
    /// at the first malformed chunk and passes the remainder through unchanged, leaving libpng to report the damage.</summary>
    static byte[]? StripChunks(ReadOnlySpan<byte> d, string[] names, out bool reachedIend)
    {
        reachedIend = false;
        var keep = new List<(int Start, int Length)>();
        int pos = 8;
        bool any = false;
        while (pos + 12 <= d.Length)
        {
            uint len = BinaryPrimitives.ReadUInt32BigEndian(d[pos..]);
            if (len > int.MaxValue || pos + 12L + len > d.Length) break;
            var type = d.Slice(pos + 4, 4);
            bool drop = false;
            foreach (var nm in names)
                if (type[0] == nm[0] && type[1] == nm[1] && type[2] == nm[2] && type[3] == nm[3]) drop = true;
            int total = 12 + (int)len;
            if (drop) any = true;
            else keep.Add((pos, total));
            pos += total;
            if (type.SequenceEqual("IEND"u8))
            {
                reachedIend = true;
                break;
            }
        }
        if (!any) return null;
        if (pos < d.Length) keep.Add((pos, d.Length - pos));
        int size = 8;
        foreach (var k in keep) size += k.Length;
        var o = new byte[size];
        d[..8].CopyTo(o);
        int at = 8;
        foreach (var k in keep)
        {
            d.Slice(k.Start, k.Length).CopyTo(o.AsSpan(at));
            at += k.Length;
        }
        return o;
    }

    public static byte[] Encode(Image image, int bitDepth)
    {
        if (bitDepth is not (8 or 16)) throw new ArgumentOutOfRangeException(nameof(bitDepth), $"PNG bit depth {bitDepth} must be 8 or 16");
        int ch = image.Channels;
        int n = image.PlaneSize;
        bool alpha = image.HasAlpha;
        uint format = (uint)(ch - 1) | (bitDepth == 16 ? LibPng.FormatFlagLinear : 0);
        var img = new PngImage { Version = LibPng.ImageVersion, Width = (uint)image.Width, Height = (uint)image.Height, Format = format };
        byte[] encoded;
        if (bitDepth == 16)
        {
            var px = GC.AllocateUninitializedArray<ushort>(checked(n * ch));
            PixelPacking.Pack16(image.Data, n, ch, px);
            if (alpha) Premultiply(px, ch);
            fixed (ushort* b = px) encoded = Write(&img, b, (long)px.Length * 2);
            return StripChunks(encoded, ["gAMA", "cHRM", "sRGB"], out _) ?? encoded;
        }
        var bytes = GC.AllocateUninitializedArray<byte>(checked(n * ch));
        PixelPacking.Pack8(image.Data, n, ch, bytes);
        fixed (byte* b = bytes) encoded = Write(&img, b, bytes.Length);
        return encoded;
    }

    // libpng's 16-bit "linear" input is premultiplied and is divided by alpha on writing.
    static void Premultiply(ushort[] px, int ch)
    {
        for (int i = 0; i < px.Length; i += ch)
        {
            uint a = px[i + ch - 1];
            if (a == 65535) continue;
            for (int c = 0; c < ch - 1; c++) px[i + c] = (ushort)((px[i + c] * a + 32767) / 65535);
        }
    }

    static byte[] Write(PngImage* img, void* pixels, long rawBytes)
    {
        var png = LibPng.Api;
        // Deflate never expands by more than a few bytes per 16 KiB block; add room for filter bytes and chunks.
        long guess = rawBytes + img->Height + rawBytes / 1024 + 4096;
        for (int attempt = 0; attempt < 2; attempt++)
        {
            var buf = GC.AllocateUninitializedArray<byte>(checked((int)Math.Min(guess, Array.MaxLength)));
            nuint size = (nuint)buf.Length;
            int ok;
            img->WarningOrError = 0;
            try
            {
                fixed (byte* o = buf) ok = png.WriteToMemory(img, o, &size, 0, pixels, 0, null);
            }
            finally
            {
                png.Free(img);
            }
            if (ok != 0) return buf.AsSpan(0, (int)size).ToArray();
            if ((img->WarningOrError & LibPng.ImageError) != 0 || size <= (nuint)buf.Length)
                throw new InvalidOperationException($"libpng failed to encode a {img->Width}x{img->Height} image: {img->Message}");
            guess = (long)size;
        }
        throw new InvalidOperationException($"libpng failed to encode a {img->Width}x{img->Height} image: output size kept growing");
    }
}
