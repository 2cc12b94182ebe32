using Ctmsr.Imaging;

namespace Ctmsr.Metrics;

/// <summary>
/// cv2.resize(..., interpolation=INTER_CUBIC), the upsampler of BasicSR-style bicubic baselines: Keys cubic with
/// a = -0.75, source coordinate (dst + 0.5) * (in / out) - 0.5 computed in float32, replicated borders, no antialiasing.
/// For 8-bit images OpenCV works in fixed point: the tap weights are rounded to multiples of 1/2048, the horizontal pass
/// sums integers, the vertical pass sums those with weights of 1/2048 and rounds (+2^21, >> 22) to a saturated byte.
/// Float images keep float32 weights and sums. PyTorch's bicubic uses the same kernel and borders, but its weights and
/// output stay in float (no 8-bit rounding), so the two differ by up to half a code per pixel.
/// </summary>
public static class OpenCvResize
{
    const int CoefBits = 11, CoefScale = 1 << CoefBits;

    /// <summary>OpenCV's interpolateCubic in float32.</summary>
    static void Coeffs(float x, Span<float> c)
    {
        const float A = -0.75f;
        c[0] = ((A * (x + 1) - 5 * A) * (x + 1) + 8 * A) * (x + 1) - 4 * A;
        c[1] = ((A + 2) * x - (A + 3)) * x * x + 1;
        c[2] = ((A + 2) * (1 - x) - (A + 3)) * (1 - x) * (1 - x) + 1;
        c[3] = 1f - c[0] - c[1] - c[2];
    }

    /// <summary>Per output index: the first tap (sx - 1, before clamping) and the four float weights.</summary>
    static (int[] first, float[] w) Axis(int inSize, int outSize)
    {
        double scale = 1.0 / ((double)outSize / inSize);
        var first = new int[outSize];
        var w = new float[outSize * 4];
        Span<float> c = stackalloc float[4];
        for (int d = 0; d < outSize; d++)
        {
            float f = (float)((d + 0.5) * scale - 0.5);
            int s = (int)MathF.Floor(f);
            Coeffs(f - s, c);
            first[d] = s - 1;
            c.CopyTo(w.AsSpan(d * 4, 4));
        }
        return (first, w);
    }

    static int Clamp(int i, int n) => i < 0 ? 0 : i >= n ? n - 1 : i;

    /// <summary>
    /// Resizes planar samples [planes, h, w] on the 8-bit code scale (integers 0..255) as OpenCV does for CV_8U images;
    /// the result holds integer codes.
    /// </summary>
    public static double[] Bicubic8U(ReadOnlySpan<double> src, int planes, int h, int w, int outH, int outW)
    {
        Check(src.Length, planes, h, w, outH, outW);
        var (fx, wx) = Axis(w, outW);
        var (fy, wy) = Axis(h, outH);
        var ax = wx.Select(v => FixedPoint(v)).ToArray();
        var ay = wy.Select(v => FixedPoint(v)).ToArray();
        var codes = new int[src.Length];
        for (int i = 0; i < src.Length; i++)
        {
            double v = src[i];
            if (v < 0 || v > 255 || v != Math.Floor(v)) throw new ArgumentException("Bicubic8U takes integer codes 0..255; use BicubicF32 for other samples");
            codes[i] = (int)v;
        }
        var dst = new double[(long)planes * outH * outW];
        var rows = new int[h * outW];
        for (int p = 0; p < planes; p++)
        {
            int po = p * h * w;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < outW; x++)
                {
                    int s = 0;
                    for (int t = 0; t < 4; t++) s += codes[po + y * w + Clamp(fx[x] + t, w)] * ax[x * 4 + t];
                    rows[y * outW + x] = s;
                }
            for (int y = 0; y < outH; y++)
                for (int x = 0; x < outW; x++)
                {
                    long v = 0;
                    for (int t = 0; t < 4; t++) v += (long)rows[Clamp(fy[y] + t, h) * outW + x] * ay[y * 4 + t];
                    long r = (v + (1L << (2 * CoefBits - 1))) >> (2 * CoefBits);
                    dst[(long)p * outH * outW + y * outW + x] = r < 0 ? 0 : r > 255 ? 255 : r;
                }
        }
        return dst;
    }

    /// <summary>saturate_cast&lt;short&gt;(w * 2048): round half to even.</summary>
    static int FixedPoint(float v) => (int)Math.Clamp(MathF.Round(v * CoefScale, MidpointRounding.ToEven), short.MinValue, short.MaxValue);

    /// <summary>Resizes planar float samples [planes, h, w] as OpenCV does for CV_32F images (float32 weights and sums).</summary>
    public static double[] BicubicF32(ReadOnlySpan<double> src, int planes, int h, int w, int outH, int outW)
    {
        Check(src.Length, planes, h, w, outH, outW);
        var (fx, wx) = Axis(w, outW);
        var (fy, wy) = Axis(h, outH);
        var dst = new double[(long)planes * outH * outW];
        var rows = new float[h * outW];
        for (int p = 0; p < planes; p++)
        {
            int po = p * h * w;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < outW; x++)
                {
                    float s = 0;
                    for (int t = 0; t < 4; t++) s += (float)src[po + y * w + Clamp(fx[x] + t, w)] * wx[x * 4 + t];
                    rows[y * outW + x] = s;
                }
            for (int y = 0; y < outH; y++)
                for (int x = 0; x < outW; x++)
                {
                    float v = 0;
                    for (int t = 0; t < 4; t++) v += rows[Clamp(fy[y] + t, h) * outW + x] * wy[y * 4 + t];
                    dst[(long)p * outH * outW + y * outW + x] = v;
                }
        }
        return dst;
    }

    static void Check(int length, int planes, int h, int w, int outH, int outW)
    {
        if (length != planes * h * w) throw new ArgumentException($"{length} samples are not {planes} planes of {w}x{h}");
        if (outH <= 0 || outW <= 0) throw new ArgumentException($"output size {outW}x{outH} must be positive");
    }

    /// <summary>
    /// cv2.resize of a decoded image to <paramref name="outW"/> x <paramref name="outH"/>: 8-bit images take the
    /// fixed-point path and come back as 8-bit codes, 16-bit images the float path (clamped to [0, 1]).
    /// Alpha is kept and resized like the colour planes.
    /// </summary>
    public static Image Bicubic(Image src, int outW, int outH)
    {
        int n = src.Channels;
        var s = new double[src.Data.Length];
        bool byteCodes = src.BitDepth == 8;
        for (int i = 0; i < s.Length; i++) s[i] = byteCodes ? Math.Round(src.Data[i] * 255.0, MidpointRounding.ToEven) : src.Data[i];
        var r = byteCodes ? Bicubic8U(s, n, src.Height, src.Width, outH, outW) : BicubicF32(s, n, src.Height, src.Width, outH, outW);
        var data = new float[r.Length];
        for (int i = 0; i < r.Length; i++) data[i] = byteCodes ? (float)r[i] / 255f : (float)Math.Clamp(r[i], 0, 1);
        return new Image(outW, outH, n, src.BitDepth, data);
    }
}
