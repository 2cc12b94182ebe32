namespace Ctmsr.Tests.Imaging;

/// <summary>Test-only JPEG helper independent of the codec: frame size from the SOF marker.</summary>
public static class JpegReference
{
    /// <summary>(width, height, components) from the first SOFn marker.</summary>
    public static (int Width, int Height, int Components) ReadSof(ReadOnlySpan<byte> j)
    {
        int pos = 2;
        while (pos + 4 <= j.Length)
        {
            if (j[pos] != 0xFF) throw new InvalidDataException($"marker expected at {pos}");
            byte m = j[pos + 1];
            if (m == 0xFF) { pos++; continue; }
            int len = (j[pos + 2] << 8) | j[pos + 3];
            if (m is >= 0xC0 and <= 0xCF && m is not (0xC4 or 0xC8 or 0xCC))
                return ((j[pos + 7] << 8) | j[pos + 8], (j[pos + 5] << 8) | j[pos + 6], j[pos + 9]);
            pos += 2 + len;
        }
        throw new InvalidDataException("no SOF marker");
    }
}
