using System.Buffers.Binary;

namespace Ctmsr.Imaging;

/// <summary>Cheap structural checks of PNG and JPEG containers that a lenient decoder skips: ImageSharp decodes a
/// PNG cut after its image data and a JPEG cut inside its entropy-coded data without complaint (the missing part
/// comes out grey), which is poison for training data. Walking the chunk or marker structure finds the cut.</summary>
internal static class ContainerWalk
{
    /// <summary>Walks PNG chunks from the signature: whether IEND was reached with every chunk complete, and whether a
    /// tRNS chunk (transparency for grey, RGB and palette images, which then decode with alpha) is present.</summary>
    public static (bool Complete, bool HasTrns) Png(ReadOnlySpan<byte> d)
    {
        bool trns = false;
        long pos = 8;
        while (pos + 12 <= d.Length)
        {
            uint len = BinaryPrimitives.ReadUInt32BigEndian(d[(int)pos..]);
            if (pos + 12L + len > d.Length) return (false, trns);
            var type = d.Slice((int)pos + 4, 4);
            if (type.SequenceEqual("tRNS"u8)) trns = true;
            if (type.SequenceEqual("IEND"u8)) return (true, trns);
            pos += 12L + len;
        }
        return (false, trns);
    }

    /// <summary>True when an end-of-image marker (FF D9) follows the first start-of-scan. Entropy-coded data never
    /// holds an unstuffed FF D9, so a JPEG without one after its first scan was cut short.</summary>
    public static bool JpegHasEndAfterScan(ReadOnlySpan<byte> d)
    {
        int pos = 2;
        while (pos + 4 <= d.Length)
        {
            if (d[pos] != 0xFF) return false;
            byte m = d[pos + 1];
            if (m == 0xFF) { pos++; continue; }
            if (m == 0xD9) return false; // EOI before any scan: no image data
            if (m is >= 0xD0 and <= 0xD7 or 0x01) { pos += 2; continue; }
            int len = (d[pos + 2] << 8) | d[pos + 3];
            if (m == 0xDA)
            {
                int from = pos + 2 + len;
                if (from > d.Length) return false;
                return d[from..].IndexOf([(byte)0xFF, (byte)0xD9]) >= 0;
            }
            pos += 2 + len;
        }
        return false;
    }

    /// <summary>For binary PGM/PPM (P5/P6): null when the header's maxval is one ImageSharp scales correctly (255 or
    /// 65535) and the file holds every sample; otherwise what is wrong. Other Netpbm kinds: null.</summary>
    public static string? PnmProblem(ReadOnlySpan<byte> d)
    {
        if (d.Length < 3 || d[0] != 'P' || d[1] is not ((byte)'5' or (byte)'6')) return null;
        int pos = 2;
        long[] v = new long[3];
        for (int k = 0; k < 3; k++)
        {
            while (pos < d.Length && (IsSpace(d[pos]) || d[pos] == '#'))
            {
                if (d[pos] == '#') while (pos < d.Length && d[pos] is not ((byte)'\n' or (byte)'\r')) pos++;
                else pos++;
            }
            int start = pos;
            while (pos < d.Length && d[pos] is >= (byte)'0' and <= (byte)'9' && v[k] <= int.MaxValue) v[k] = v[k] * 10 + (d[pos++] - '0');
            if (pos == start) return "truncated or corrupt header (expected a number)";
        }
        long maxval = v[2];
        if (maxval is not (255 or 65535))
            return $"maxval {maxval} is not supported (only 255 and 65535 are): re-export it as 8- or 16-bit";
        long need = v[0] * v[1] * (d[1] == '5' ? 1 : 3) * (maxval > 255 ? 2 : 1);
        long have = d.Length - pos - 1;
        return have < need ? $"truncated: {Math.Max(have, 0)} data bytes, {need} needed for {v[0]}x{v[1]}" : null;
    }

    static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or 0x0B or 0x0C;
}
