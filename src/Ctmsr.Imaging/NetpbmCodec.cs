using System.Text;

namespace Ctmsr.Imaging;

/// <summary>Binary PGM (P5, grey) and PPM (P6, RGB): a text header "Pn width height maxval" with '#' comments,
/// one whitespace byte, then samples, one byte each for maxval &lt; 256, else two bytes big-endian.
/// Samples are scaled by 1/maxval; values above maxval (invalid) are clamped to 1.</summary>
internal static class NetpbmCodec
{
    public static bool HasSignature(ReadOnlySpan<byte> d) =>
        d.Length >= 3 && d[0] == 'P' && (d[1] == '5' || d[1] == '6') && IsSpace(d[2]);

    static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or 0x0B or 0x0C;

    public static Image Decode(ReadOnlySpan<byte> d, string name, ImageDecodeOptions opt)
    {
        int ch = d[1] == '5' ? 1 : 3;
        int pos = 2;
        long w = Token(d, ref pos, name), h = Token(d, ref pos, name), maxval = Token(d, ref pos, name);
        if (pos >= d.Length || !IsSpace(d[pos]))
            throw new ImageFormatException(name, "corrupt PPM/PGM header (no whitespace after maxval): the file is damaged, re-export it");
        pos++;
        if (maxval is < 1 or > 65535)
            throw new ImageFormatException(name, $"PPM/PGM maxval {maxval} is outside 1..65535: the file is damaged, re-export it");
        ImageCodec.CheckSize(name, w, h, opt);
        int bytesPer = maxval < 256 ? 1 : 2;
        long n = w * h;
        long need = n * ch * bytesPer;
        if (d.Length - pos < need)
            throw new ImageFormatException(name, $"truncated PPM/PGM: {d.Length - pos} data bytes, {need} needed for {w}x{h}: the file is damaged, re-download or remove it");
        var img = new Image((int)w, (int)h, ch, maxval > 255 ? 16 : 8);
        var data = d.Slice(pos, (int)need);
        float scale = 1f / maxval;
        for (int c = 0; c < ch; c++)
        {
            var plane = img.Plane(c);
            for (int i = 0; i < plane.Length; i++)
            {
                int s = i * ch + c;
                int v = bytesPer == 1 ? data[s] : (data[2 * s] << 8) | data[2 * s + 1];
                plane[i] = v >= maxval ? 1f : maxval == 255 ? v / 255f : maxval == 65535 ? v / 65535f : v * scale;
            }
        }
        return img;
    }

    static long Token(ReadOnlySpan<byte> d, ref int pos, string name)
    {
        while (pos < d.Length)
        {
            if (IsSpace(d[pos])) pos++;
            else if (d[pos] == '#') { while (pos < d.Length && d[pos] != '\n' && d[pos] != '\r') pos++; }
            else break;
        }
        long v = 0;
        int start = pos;
        while (pos < d.Length && d[pos] is >= (byte)'0' and <= (byte)'9')
        {
            v = v * 10 + (d[pos] - '0');
            if (v > int.MaxValue)
                throw new ImageFormatException(name, "PPM/PGM header number is too large: the file is damaged, re-export it");
            pos++;
        }
        if (pos == start)
            throw new ImageFormatException(name, "corrupt or truncated PPM/PGM header (expected a number): the file is damaged, re-export it");
        return v;
    }

    /// <summary>P5 for grey, P6 for colour; alpha is dropped. bitDepth 8 writes maxval 255, 16 writes maxval 65535.</summary>
    public static byte[] Encode(Image image, int bitDepth)
    {
        if (bitDepth is not (8 or 16)) throw new ArgumentOutOfRangeException(nameof(bitDepth), $"PPM bit depth {bitDepth} must be 8 or 16");
        int ch = image.ColorChannels;
        int n = image.PlaneSize;
        var header = Encoding.ASCII.GetBytes($"P{(ch == 1 ? 5 : 6)}\n{image.Width} {image.Height}\n{(bitDepth == 8 ? 255 : 65535)}\n");
        int bytesPer = bitDepth / 8;
        var o = new byte[header.Length + (long)n * ch * bytesPer];
        header.CopyTo(o, 0);
        var px = o.AsSpan(header.Length);
        if (bitDepth == 8)
        {
            PixelPacking.Pack8(image.Data, n, ch, px);
        }
        else
        {
            for (int c = 0; c < ch; c++)
            {
                var plane = image.Plane(c);
                for (int i = 0; i < n; i++)
                {
                    ushort v = PixelPacking.To16(plane[i]);
                    int s = 2 * (i * ch + c);
                    px[s] = (byte)(v >> 8);
                    px[s + 1] = (byte)v;
                }
            }
        }
        return o;
    }
}
