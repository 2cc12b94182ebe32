using System.Buffers.Binary;
using System.IO.Compression;

namespace Ctmsr.Tests.Imaging;

/// <summary>An independent, test-only PNG reader and writer (zlib through System.IO.Compression, the five
/// row filters, palette/tRNS expansion), used as the reference the libpng-based codec is checked against.
/// Non-interlaced images only.</summary>
public static class PngReference
{
    public sealed record Header(int Width, int Height, int BitDepth, int ColorType, int Interlace);

    /// <summary>Decoded samples, interleaved, at the file's precision (8 or 16; lower depths are scaled to 8 the
    /// way libpng expands them), with palette expanded and tRNS turned into an alpha channel.</summary>
    public sealed record Decoded(int Width, int Height, int Channels, int BitDepth, int[] Samples);

    public static Header ReadHeader(ReadOnlySpan<byte> png)
    {
        if (BinaryPrimitives.ReadUInt32BigEndian(png[8..]) != 13 || !png.Slice(12, 4).SequenceEqual("IHDR"u8)) throw new InvalidDataException("no IHDR");
        return new Header((int)BinaryPrimitives.ReadUInt32BigEndian(png[16..]), (int)BinaryPrimitives.ReadUInt32BigEndian(png[20..]), png[24], png[25], png[28]);
    }

    public static Decoded Decode(byte[] png)
    {
        var hdr = ReadHeader(png);
        if (hdr.Interlace != 0) throw new NotSupportedException("interlaced");
        byte[]? plte = null, trns = null;
        var idat = new MemoryStream();
        for (int pos = 8; pos + 12 <= png.Length;)
        {
            int len = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos));
            string type = System.Text.Encoding.ASCII.GetString(png, pos + 4, 4);
            var data = png.AsSpan(pos + 8, len);
            if (type == "PLTE") plte = data.ToArray();
            else if (type == "tRNS") trns = data.ToArray();
            else if (type == "IDAT") idat.Write(data);
            else if (type == "IEND") break;
            pos += 12 + len;
        }
        int samplesPerPixel = hdr.ColorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => throw new InvalidDataException("color type") };
        int bitsPerPixel = samplesPerPixel * hdr.BitDepth;
        int stride = (hdr.Width * bitsPerPixel + 7) / 8;
        int bpp = Math.Max(1, bitsPerPixel / 8);
        idat.Position = 0;
        var raw = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionMode.Decompress)) z.CopyTo(raw);
        var rows = raw.ToArray();
        var img = new byte[hdr.Height * stride];
        for (int y = 0; y < hdr.Height; y++)
        {
            int filter = rows[y * (stride + 1)];
            var src = rows.AsSpan(y * (stride + 1) + 1, stride);
            var cur = img.AsSpan(y * stride, stride);
            var prev = y > 0 ? img.AsSpan((y - 1) * stride, stride) : new byte[stride];
            for (int i = 0; i < stride; i++)
            {
                int a = i >= bpp ? cur[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
                int pred = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => Paeth(a, b, c),
                    _ => throw new InvalidDataException($"filter {filter}"),
                };
                cur[i] = (byte)(src[i] + pred);
            }
        }
        // Raw samples.
        int n = hdr.Width * hdr.Height;
        var s = new int[n * samplesPerPixel];
        for (int y = 0; y < hdr.Height; y++)
            for (int x = 0; x < hdr.Width * samplesPerPixel; x++)
            {
                int bit = x * hdr.BitDepth, o = y * stride;
                s[y * hdr.Width * samplesPerPixel + x] = hdr.BitDepth switch
                {
                    16 => (img[o + 2 * x] << 8) | img[o + 2 * x + 1],
                    8 => img[o + x],
                    _ => (img[o + bit / 8] >> (8 - hdr.BitDepth - bit % 8)) & ((1 << hdr.BitDepth) - 1),
                };
            }
        if (hdr.ColorType == 3)
        {
            bool alpha = trns is not null;
            int ch = alpha ? 4 : 3;
            var o = new int[n * ch];
            for (int i = 0; i < n; i++)
            {
                int k = s[i];
                for (int c = 0; c < 3; c++) o[i * ch + c] = plte![3 * k + c];
                if (alpha) o[i * ch + 3] = k < trns!.Length ? trns[k] : 255;
            }
            return new Decoded(hdr.Width, hdr.Height, ch, 8, o);
        }
        int depth = hdr.BitDepth == 16 ? 16 : 8;
        int scale = hdr.BitDepth < 8 ? 255 / ((1 << hdr.BitDepth) - 1) : 1;
        if (trns is not null && hdr.ColorType is 0 or 2)
        {
            int ch = samplesPerPixel + 1;
            var o = new int[n * ch];
            int max = (1 << depth) - 1;
            for (int i = 0; i < n; i++)
            {
                bool transparent = true;
                for (int c = 0; c < samplesPerPixel; c++)
                {
                    int v = s[i * samplesPerPixel + c];
                    if (v != BinaryPrimitives.ReadUInt16BigEndian(trns.AsSpan(2 * c))) transparent = false;
                    o[i * ch + c] = v * scale;
                }
                o[i * ch + samplesPerPixel] = transparent ? 0 : max;
            }
            return new Decoded(hdr.Width, hdr.Height, ch, depth, o);
        }
        if (scale != 1) for (int i = 0; i < s.Length; i++) s[i] *= scale;
        return new Decoded(hdr.Width, hdr.Height, samplesPerPixel, depth, s);
    }

    static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    /// <summary>A minimal PNG: IHDR, optional PLTE/tRNS, one IDAT (filter 0 on every row), IEND.
    /// rowBytes holds the packed scanlines without filter bytes.</summary>
    public static byte[] Build(int w, int h, int bitDepth, int colorType, byte[] rowBytes, byte[]? plte = null, byte[]? trns = null,
        IEnumerable<(string Type, byte[] Data)>? extraChunks = null)
    {
        int stride = rowBytes.Length / h;
        var filtered = new MemoryStream();
        for (int y = 0; y < h; y++)
        {
            filtered.WriteByte(0);
            filtered.Write(rowBytes, y * stride, stride);
        }
        var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true)) zs.Write(filtered.ToArray());
        var o = new MemoryStream();
        o.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)w);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), (uint)h);
        ihdr[8] = (byte)bitDepth;
        ihdr[9] = (byte)colorType;
        Chunk(o, "IHDR", ihdr);
        if (extraChunks is not null) foreach (var (t, d) in extraChunks) Chunk(o, t, d);
        if (plte is not null) Chunk(o, "PLTE", plte);
        if (trns is not null) Chunk(o, "tRNS", trns);
        Chunk(o, "IDAT", z.ToArray());
        Chunk(o, "IEND", []);
        return o.ToArray();
    }

    public static void Chunk(Stream o, string type, byte[] data)
    {
        var b = new byte[12 + data.Length];
        BinaryPrimitives.WriteUInt32BigEndian(b, (uint)data.Length);
        System.Text.Encoding.ASCII.GetBytes(type, b.AsSpan(4));
        data.CopyTo(b, 8);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(8 + data.Length), Crc32(b.AsSpan(4, 4 + data.Length)));
        o.Write(b);
    }

    static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    public static uint Crc32(ReadOnlySpan<byte> d)
    {
        uint c = 0xFFFFFFFFu;
        foreach (byte b in d) c = CrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFFu;
    }
}
