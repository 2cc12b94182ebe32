namespace Ctmsr.Imaging;

/// <summary>Conversions between interleaved integer pixels (what codecs read and write) and planar float samples.
/// Float to integer rounds half to even after clamping to [0,1], as OpenCV's saturate_cast does; NaN becomes 0.</summary>
internal static class PixelPacking
{
    static readonly float[] Byte2Float = BuildTable();

    static float[] BuildTable()
    {
        var t = new float[256];
        for (int i = 0; i < 256; i++) t[i] = i / 255f;
        return t;
    }

    public static void Unpack8(ReadOnlySpan<byte> src, int channels, Span<float> dstChw, int planeSize)
    {
        var lut = Byte2Float;
        if (channels == 1)
        {
            for (int i = 0; i < planeSize; i++) dstChw[i] = lut[src[i]];
            return;
        }
        for (int c = 0; c < channels; c++)
        {
            var plane = dstChw.Slice(c * planeSize, planeSize);
            for (int i = 0, s = c; i < planeSize; i++, s += channels) plane[i] = lut[src[s]];
        }
    }

    public static void Unpack16(ReadOnlySpan<ushort> src, int channels, Span<float> dstChw, int planeSize)
    {
        for (int c = 0; c < channels; c++)
        {
            var plane = dstChw.Slice(c * planeSize, planeSize);
            for (int i = 0, s = c; i < planeSize; i++, s += channels) plane[i] = src[s] / 65535f;
        }
    }

    public static byte To8(float v)
    {
        if (!(v > 0f)) return 0; // also NaN
        if (v >= 1f) return 255;
        return (byte)MathF.Round(v * 255f, MidpointRounding.ToEven);
    }

    public static ushort To16(float v)
    {
        if (!(v > 0f)) return 0;
        if (v >= 1f) return 65535;
        return (ushort)Math.Round(v * 65535.0, MidpointRounding.ToEven);
    }

    /// <summary>Interleaves the first <paramref name="channels"/> planes of a CHW array into 8-bit pixels.</summary>
    public static void Pack8(ReadOnlySpan<float> srcChw, int planeSize, int channels, Span<byte> dst)
    {
        for (int c = 0; c < channels; c++)
        {
            var plane = srcChw.Slice(c * planeSize, planeSize);
            for (int i = 0, d = c; i < planeSize; i++, d += channels) dst[d] = To8(plane[i]);
        }
    }

    public static void Pack16(ReadOnlySpan<float> srcChw, int planeSize, int channels, Span<ushort> dst)
    {
        for (int c = 0; c < channels; c++)
        {
            var plane = srcChw.Slice(c * planeSize, planeSize);
            for (int i = 0, d = c; i < planeSize; i++, d += channels) dst[d] = To16(plane[i]);
        }
    }
}
