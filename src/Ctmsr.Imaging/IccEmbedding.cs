using System.Buffers.Binary;
using System.IO.Compression;

namespace Ctmsr.Imaging;

/// <summary>
/// The ICC profile in the containers whose ImageSharp 2.1.13 codecs leave it out (measured: its PNG encoder and
/// decoder ignore iCCP; its WebP encoder writes no ICCP, though its decoder reads one). PNG: an iCCP chunk right after
/// IHDR (name, compression 0, the profile zlib-compressed; CRC-32 over type and data). WebP: an ICCP chunk right after
/// VP8X with VP8X's ICC flag (0x20) set; a simple VP8/VP8L file gets a VP8X header first (canvas size, alpha flag).
/// JPEG (APP2) and TIFF (tag 34675) go through ImageSharp.
/// </summary>
public static class IccEmbedding
{
    /// <summary>The largest inflated iCCP this reader accepts: profiles are kilobytes, a few megabytes at most.</summary>
    public const int MaxProfileBytes = 16 << 20;

    static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>True when <paramref name="icc"/> describes the output's samples: an RGB profile ('RGB ' data colour space,
    /// header bytes 16..19) for colour, 'GRAY' for grey. A CMYK input's profile (its pixels are converted to RGB
    /// without it) or an RGB profile on grey samples would make a viewer misread the output, so those are left out.</summary>
    public static bool Fits(byte[] icc, bool grey) =>
        icc.Length >= 128 && icc.AsSpan(16, 4).SequenceEqual(grey ? "GRAY"u8 : "RGB "u8);

    /// <summary>The PNG with an iCCP chunk holding <paramref name="icc"/> inserted after IHDR; unchanged when it has an
    /// iCCP or sRGB chunk already (the two exclude each other).</summary>
    public static byte[] AddToPng(byte[] png, byte[] icc)
    {
        if (png.Length < 33 || !png.AsSpan(0, 8).SequenceEqual(PngSignature) || !png.AsSpan(12, 4).SequenceEqual("IHDR"u8))
            throw new ArgumentException("not a PNG starting with IHDR", nameof(png));
        foreach (var (type, _, _) in PngChunks(png))
            if (type is "iCCP" or "sRGB") return png;
        using var data = new MemoryStream();
        data.Write("ICC profile\0"u8);
        data.WriteByte(0); // compression method 0: zlib deflate
        using (var z = new ZLibStream(data, CompressionLevel.Optimal, leaveOpen: true)) z.Write(icc);
        var body = data.ToArray();
        const int at = 8 + 8 + 13 + 4; // signature, IHDR
        var o = new byte[png.Length + 12 + body.Length];
        png.AsSpan(0, at).CopyTo(o);
        var c = o.AsSpan(at);
        BinaryPrimitives.WriteInt32BigEndian(c, body.Length);
        "iCCP"u8.CopyTo(c[4..]);
        body.CopyTo(c[8..]);
        BinaryPrimitives.WriteUInt32BigEndian(c[(8 + body.Length)..], Crc32(c.Slice(4, 4 + body.Length)));
        png.AsSpan(at).CopyTo(c[(12 + body.Length)..]);
        return o;
    }

    /// <summary>The profile of a PNG's iCCP chunk (before IDAT), or null when it has none or it is damaged (a bad
    /// profile is left behind, as libpng does, rather than failing the image).</summary>
    public static byte[]? ReadFromPng(ReadOnlySpan<byte> png)
    {
        if (png.Length < 8 || !png[..8].SequenceEqual(PngSignature)) return null;
        foreach (var (type, start, length) in PngChunks(png.ToArray()))
        {
            if (type == "IDAT") return null;
            if (type != "iCCP") continue;
            var d = png.Slice(start, length);
            int nul = d[..Math.Min(80, d.Length)].IndexOf((byte)0);
            if (nul < 1 || nul + 2 > d.Length || d[nul + 1] != 0) return null;
            try
            {
                using var z = new ZLibStream(new MemoryStream(d[(nul + 2)..].ToArray()), CompressionMode.Decompress);
                using var o = new MemoryStream();
                var buf = new byte[81920];
                for (int n; (n = z.Read(buf)) > 0;)
                {
                    if (o.Length + n > MaxProfileBytes) return null;
                    o.Write(buf, 0, n);
                }
                return o.Length > 0 ? o.ToArray() : null;
            }
            catch (InvalidDataException) { return null; }
        }
        return null;
    }

    /// <summary>(type, data offset, data length) of each whole chunk, stopping at the first that does not fit.</summary>
    static IEnumerable<(string Type, int Start, int Length)> PngChunks(byte[] png)
    {
        for (long p = 8; p + 12 <= png.Length;)
        {
            long len = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan((int)p));
            if (p + 12 + len > png.Length) yield break;
            string type = System.Text.Encoding.ASCII.GetString(png, (int)p + 4, 4);
            yield return (type, (int)p + 8, (int)len);
            if (type == "IEND") yield break;
            p += 12 + len;
        }
    }

    /// <summary>The WebP with an ICCP chunk holding <paramref name="icc"/> after its VP8X header (made for a simple
    /// file from the canvas size and <paramref name="alpha"/>); unchanged when it has one already.</summary>
    public static byte[] AddToWebp(byte[] webp, byte[] icc, int width, int height, bool alpha)
    {
        if (webp.Length < 20 || !webp.AsSpan(0, 4).SequenceEqual("RIFF"u8) || !webp.AsSpan(8, 4).SequenceEqual("WEBP"u8))
            throw new ArgumentException("not a WebP (RIFF/WEBP) file", nameof(webp));
        var first = webp.AsSpan(12, 4);
        byte[] vp8x;
        int rest; // where the chunks after VP8X (or the simple file's only chunk) start
        if (first.SequenceEqual("VP8X"u8))
        {
            if ((webp[20] & 0x20) != 0) return webp;
            vp8x = webp.AsSpan(12, 18).ToArray();
            vp8x[8] |= 0x20;
            rest = 30;
        }
        else
        {
            vp8x = new byte[18];
            "VP8X"u8.CopyTo(vp8x);
            BinaryPrimitives.WriteInt32LittleEndian(vp8x.AsSpan(4), 10);
            vp8x[8] = (byte)(0x20 | (alpha ? 0x10 : 0));
            WriteUInt24(vp8x.AsSpan(12), width - 1);
            WriteUInt24(vp8x.AsSpan(15), height - 1);
            rest = 12;
        }
        int pad = icc.Length & 1;
        var o = new byte[12 + vp8x.Length + 8 + icc.Length + pad + (webp.Length - rest)];
        "RIFF"u8.CopyTo(o);
        BinaryPrimitives.WriteInt32LittleEndian(o.AsSpan(4), o.Length - 8);
        "WEBP"u8.CopyTo(o.AsSpan(8));
        vp8x.CopyTo(o.AsSpan(12));
        int p = 12 + vp8x.Length;
        "ICCP"u8.CopyTo(o.AsSpan(p));
        BinaryPrimitives.WriteInt32LittleEndian(o.AsSpan(p + 4), icc.Length);
        icc.CopyTo(o.AsSpan(p + 8));
        webp.AsSpan(rest).CopyTo(o.AsSpan(p + 8 + icc.Length + pad));
        return o;
    }

    static void WriteUInt24(Span<byte> d, int v)
    {
        d[0] = (byte)v;
        d[1] = (byte)(v >> 8);
        d[2] = (byte)(v >> 16);
    }

    static readonly uint[] CrcTable = MakeCrcTable();

    static uint[] MakeCrcTable()
    {
        var t = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }

    /// <summary>PNG's CRC-32 (ISO 3309, reflected, polynomial 0xEDB88320).</summary>
    static uint Crc32(ReadOnlySpan<byte> d)
    {
        uint c = 0xFFFFFFFFu;
        foreach (byte b in d) c = CrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFFu;
    }
}
