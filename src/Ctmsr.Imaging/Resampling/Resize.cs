using Ctmsr.Kernels;
using Ctmsr.Kernels.Cpu;

namespace Ctmsr.Imaging.Resampling;

/// <summary>Interpolation modes of PyTorch's F.interpolate (align_corners=False, no antialias).</summary>
public enum ResizeMode { Nearest, Bilinear, Bicubic, Area }

/// <summary>
/// Image resampling with PyTorch F.interpolate semantics (align_corners=False, antialias=False) on
/// planar float32 images [planes, h, w] (planes = batch * channels, row-major).
/// Every mode is separable: out = Wy * in * Wx^T with per-axis tap tables (index, weight), so the
/// work is one horizontal gather pass into [h, outW] and one vectorised vertical pass.
/// Source coordinate per axis: src = (dst + 0.5) * s - 0.5 with s = 1/scale when a scale factor
/// is given, else in/out (PyTorch's recompute_scale_factor=None behaviour).
/// Nearest: floor(dst * s) with s in float32 (as PyTorch's nearest_idx); bilinear clamps src at 0;
/// bicubic uses Keys' cubic with a = -0.75 and clamps border samples; area is adaptive_avg_pool2d.
/// </summary>
public static class Resize
{
    /// <summary>Output size for a scale factor, as F.interpolate computes it: floor(in * scale).</summary>
    public static int ScaledSize(int size, double scale) => (int)Math.Floor(size * scale);

    /// <summary>Resize to (outH, outW). When scaleH/scaleW are given (F.interpolate's scale_factor) they set the
    /// source coordinate mapping; outH/outW must then be ScaledSize(h, scaleH) etc.</summary>
    public static float[] Apply(float[] src, int planes, int h, int w, int outH, int outW, ResizeMode mode,
                                double? scaleH = null, double? scaleW = null)
    {
        ArgumentNullException.ThrowIfNull(src);
        if (planes < 0 || h <= 0 || w <= 0)
            throw new ArgumentException($"Resize: input size [{planes}, {h}, {w}] is invalid; planes must be >= 0 and h, w > 0");
        if (outH <= 0 || outW <= 0)
            throw new ArgumentException($"Resize: output size {outH}x{outW} from {h}x{w} is empty; use a larger size or scale factor");
        if (src.Length < (long)planes * h * w)
            throw new ArgumentException($"Resize: the source holds {src.Length} values but [{planes}, {h}, {w}] needs {(long)planes * h * w}");
        var dst = new float[(long)planes * outH * outW];
        CpuImageFilters.Resample2d(src, dst, planes, Axis(h, outH, mode, scaleH), Axis(w, outW, mode, scaleW));
        return dst;
    }

    /// <summary>Resize by scale factors (output floor(h * scaleH) x floor(w * scaleW)), F.interpolate(scale_factor=...).</summary>
    public static float[] ApplyScale(float[] src, int planes, int h, int w, double scaleH, double scaleW, ResizeMode mode)
    {
        if (!(scaleH > 0) || !(scaleW > 0))
            throw new ArgumentException($"Resize: scale factors ({scaleH}, {scaleW}) must be positive");
        return Apply(src, planes, h, w, ScaledSize(h, scaleH), ScaledSize(w, scaleW), mode, scaleH, scaleW);
    }

    /// <summary>
    /// Downscale by an integer factor as MATLAB's imresize(x, 1/factor, 'bicubic') does (antialiased: Keys' cubic with
    /// a = -0.5 stretched by the factor, weights normalised per output, borders mirrored symmetrically), the
    /// operator that makes the "bicubic x4" benchmark pairs (e.g. ../shared/data/Bicubicx4). Output h/factor x w/factor
    /// (ceil, as MATLAB). No rounding: quantise the result as the caller's data needs.
    /// </summary>
    public static float[] MatlabBicubicDown(float[] src, int planes, int h, int w, int factor)
    {
        ArgumentNullException.ThrowIfNull(src);
        if (factor < 1) throw new ArgumentException($"MatlabBicubicDown: factor {factor} must be at least 1");
        if (planes < 0 || h <= 0 || w <= 0)
            throw new ArgumentException($"MatlabBicubicDown: input size [{planes}, {h}, {w}] is invalid; planes must be >= 0 and h, w > 0");
        if (src.Length < (long)planes * h * w)
            throw new ArgumentException($"MatlabBicubicDown: the source holds {src.Length} values but [{planes}, {h}, {w}] needs {(long)planes * h * w}");
        int outH = (h + factor - 1) / factor, outW = (w + factor - 1) / factor;
        var dst = new float[(long)planes * outH * outW];
        CpuImageFilters.Resample2d(src, dst, planes, MatlabCubicAxis(h, outH, factor), MatlabCubicAxis(w, outW, factor));
        return dst;
    }

    // imresize's contributions(): output u (1-based) centred at x = u * f + 0.5 * (1 - f) in input coordinates,
    // kernel h(t) = cubic(t / f) / f over width 4f, taps left = floor(x - 2f) .. + ceil(4f) + 1, mirrored indices.
    static ResampleAxis MatlabCubicAxis(int inSize, int outSize, int factor)
    {
        static double Cubic(double x)
        {
            double a = Math.Abs(x), a2 = a * a, a3 = a2 * a;
            return a <= 1 ? 1.5 * a3 - 2.5 * a2 + 1 : a <= 2 ? -0.5 * a3 + 2.5 * a2 - 4 * a + 2 : 0;
        }
        int taps = 4 * factor + 2;
        var index = new int[outSize * taps];
        var weight = new float[outSize * taps];
        var wd = new double[taps];
        for (int o = 0; o < outSize; o++)
        {
            double x = (o + 1) * (double)factor + 0.5 * (1 - factor);
            int left = (int)Math.Floor(x - 2.0 * factor);
            double sum = 0;
            for (int t = 0; t < taps; t++) { wd[t] = Cubic((x - (left + t)) / factor) / factor; sum += wd[t]; }
            for (int t = 0; t < taps; t++)
            {
                int j = left + t - 1; // 0-based
                int period = 2 * inSize;
                j = ((j % period) + period) % period;
                if (j >= inSize) j = period - 1 - j;
                index[o * taps + t] = j;
                weight[o * taps + t] = (float)(wd[t] / sum);
            }
        }
        return new ResampleAxis(inSize, outSize, taps, index, weight);
    }

    /// <summary>
    /// Resize on a backend: x [planes, h, w] -> y [planes, outH, outW] (device buffers of that backend), the same
    /// tap tables as <see cref="Apply"/>.
    /// </summary>
    public static void Apply(Backend backend, DeviceBuffer x, DeviceBuffer y, int planes, int h, int w, int outH, int outW,
                             ResizeMode mode, double? scaleH = null, double? scaleW = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        if (planes < 0 || h <= 0 || w <= 0 || outH <= 0 || outW <= 0)
            throw new ArgumentException($"Resize: [{planes}, {h}, {w}] -> {outH}x{outW} is invalid; sizes must be positive");
        backend.Resample2d(planes, Axis(h, outH, mode, scaleH), Axis(w, outW, mode, scaleW), x, y);
    }

    /// <summary>The tap table of one axis (in -> out samples) for a mode; scale is F.interpolate's scale_factor if given.</summary>
    public static ResampleAxis Axis(int inSize, int outSize, ResizeMode mode, double? scale = null) => AxisTables.Build(inSize, outSize, mode, scale);

    static class AxisTables
    {
        public static ResampleAxis Build(int inSize, int outSize, ResizeMode mode, double? scale) => mode switch
        {
            ResizeMode.Nearest => Nearest(inSize, outSize, scale),
            ResizeMode.Bilinear => Linear(inSize, outSize, scale),
            ResizeMode.Bicubic => Cubic(inSize, outSize, scale),
            ResizeMode.Area => Area(inSize, outSize),
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Resize: unknown mode; use Nearest, Bilinear, Bicubic or Area"),
        };

        // PyTorch area_pixel_compute_scale (align_corners=False): 1/scale if given, else in/out.
        static double SourceScale(int inSize, int outSize, double? scale) =>
            scale is double s && s > 0 ? 1.0 / s : (double)inSize / outSize;

        static ResampleAxis Nearest(int inSize, int outSize, double? scale)
        {
            int[] index = new int[outSize]; float[] weight = new float[outSize];
            // nearest_idx: identity / halving shortcuts, otherwise floorf(dst * (float)s) in float32.
            float s = scale is double sc && sc > 0 ? (float)(1.0 / sc) : (float)inSize / outSize;
            for (int i = 0; i < outSize; i++)
            {
                int idx = outSize == inSize ? i
                        : outSize == 2 * inSize ? i >> 1
                        : Math.Min((int)MathF.Floor(i * s), inSize - 1);
                index[i] = idx;
                weight[i] = 1f;
            }
            return new ResampleAxis(inSize, outSize, 1, index, weight);
        }

        static ResampleAxis Linear(int inSize, int outSize, double? scale)
        {
            int[] index = new int[2 * outSize]; float[] weight = new float[2 * outSize];
            double s = SourceScale(inSize, outSize, scale);
            for (int i = 0; i < outSize; i++)
            {
                double real = Math.Max(s * (i + 0.5) - 0.5, 0.0);
                int i0 = Math.Min((int)Math.Floor(real), inSize - 1);
                double l1 = Math.Clamp(real - i0, 0.0, 1.0);
                int i1 = i0 + (i0 < inSize - 1 ? 1 : 0);
                index[2 * i] = i0; weight[2 * i] = (float)(1.0 - l1);
                index[2 * i + 1] = i1; weight[2 * i + 1] = (float)l1;
            }
            return new ResampleAxis(inSize, outSize, 2, index, weight);
        }

        const double CubicA = -0.75;
        static double Cubic1(double x) => ((CubicA + 2) * x - (CubicA + 3)) * x * x + 1;               // |x| <= 1
        static double Cubic2(double x) => ((CubicA * x - 5 * CubicA) * x + 8 * CubicA) * x - 4 * CubicA; // 1 < |x| < 2

        static ResampleAxis Cubic(int inSize, int outSize, double? scale)
        {
            int[] index = new int[4 * outSize]; float[] weight = new float[4 * outSize];
            double s = SourceScale(inSize, outSize, scale);
            for (int i = 0; i < outSize; i++)
            {
                double real = s * (i + 0.5) - 0.5; // not clamped at 0 for cubic
                int i0 = Math.Min((int)Math.Floor(real), inSize - 1);
                double t = Math.Clamp(real - i0, 0.0, 1.0);
                ReadOnlySpan<double> wts = [Cubic2(t + 1), Cubic1(t), Cubic1(1 - t), Cubic2(2 - t)];
                for (int k = 0; k < 4; k++)
                {
                    index[4 * i + k] = Math.Clamp(i0 - 1 + k, 0, inSize - 1);
                    weight[4 * i + k] = (float)wts[k];
                }
            }
            return new ResampleAxis(inSize, outSize, 4, index, weight);
        }

        // adaptive_avg_pool: window [floor(i*in/out), ceil((i+1)*in/out)).
        static ResampleAxis Area(int inSize, int outSize)
        {
            int taps = 1;
            for (int i = 0; i < outSize; i++)
            {
                long st = (long)i * inSize / outSize, en = ((long)(i + 1) * inSize + outSize - 1) / outSize;
                taps = Math.Max(taps, (int)(en - st));
            }
            int[] index = new int[taps * outSize]; float[] weight = new float[taps * outSize];
            for (int i = 0; i < outSize; i++)
            {
                int st = (int)((long)i * inSize / outSize), en = (int)(((long)(i + 1) * inSize + outSize - 1) / outSize);
                float wgt = (float)(1.0 / (en - st));
                for (int k = 0; k < taps; k++)
                {
                    index[taps * i + k] = st + k < en ? st + k : st; // padding taps read a valid sample with weight 0
                    weight[taps * i + k] = st + k < en ? wgt : 0f;
                }
            }
            return new ResampleAxis(inSize, outSize, taps, index, weight);
        }
    }
}
