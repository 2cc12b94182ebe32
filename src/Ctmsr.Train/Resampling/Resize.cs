using System.Numerics;
using System.Runtime.InteropServices;

namespace Ctmsr.Train.Resampling;

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
        var rows = Axis.Build(h, outH, mode, scaleH);
        var cols = Axis.Build(w, outW, mode, scaleW);
        Run(src, dst, planes, h, w, outH, outW, rows, cols);
        return dst;
    }

    /// <summary>Resize by scale factors (output floor(h * scaleH) x floor(w * scaleW)), F.interpolate(scale_factor=...).</summary>
    public static float[] ApplyScale(float[] src, int planes, int h, int w, double scaleH, double scaleW, ResizeMode mode)
    {
        if (!(scaleH > 0) || !(scaleW > 0))
            throw new ArgumentException($"Resize: scale factors ({scaleH}, {scaleW}) must be positive");
        return Apply(src, planes, h, w, ScaledSize(h, scaleH), ScaledSize(w, scaleW), mode, scaleH, scaleW);
    }

    /// <summary>Per-axis tap table: output i reads in[Index[i*Taps + t]] with weight Weight[i*Taps + t].</summary>
    sealed class Axis
    {
        public int Taps;
        public int[] Index = [];
        public float[] Weight = [];

        public static Axis Build(int inSize, int outSize, ResizeMode mode, double? scale) => mode switch
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

        static Axis Nearest(int inSize, int outSize, double? scale)
        {
            var a = new Axis { Taps = 1, Index = new int[outSize], Weight = new float[outSize] };
            // nearest_idx: identity / halving shortcuts, otherwise floorf(dst * (float)s) in float32.
            float s = scale is double sc && sc > 0 ? (float)(1.0 / sc) : (float)inSize / outSize;
            for (int i = 0; i < outSize; i++)
            {
                int idx = outSize == inSize ? i
                        : outSize == 2 * inSize ? i >> 1
                        : Math.Min((int)MathF.Floor(i * s), inSize - 1);
                a.Index[i] = idx;
                a.Weight[i] = 1f;
            }
            return a;
        }

        static Axis Linear(int inSize, int outSize, double? scale)
        {
            var a = new Axis { Taps = 2, Index = new int[2 * outSize], Weight = new float[2 * outSize] };
            double s = SourceScale(inSize, outSize, scale);
            for (int i = 0; i < outSize; i++)
            {
                double real = Math.Max(s * (i + 0.5) - 0.5, 0.0);
                int i0 = Math.Min((int)Math.Floor(real), inSize - 1);
                double l1 = Math.Clamp(real - i0, 0.0, 1.0);
                int i1 = i0 + (i0 < inSize - 1 ? 1 : 0);
                a.Index[2 * i] = i0; a.Weight[2 * i] = (float)(1.0 - l1);
                a.Index[2 * i + 1] = i1; a.Weight[2 * i + 1] = (float)l1;
            }
            return a;
        }

        const double CubicA = -0.75;
        static double Cubic1(double x) => ((CubicA + 2) * x - (CubicA + 3)) * x * x + 1;               // |x| <= 1
        static double Cubic2(double x) => ((CubicA * x - 5 * CubicA) * x + 8 * CubicA) * x - 4 * CubicA; // 1 < |x| < 2

        static Axis Cubic(int inSize, int outSize, double? scale)
        {
            var a = new Axis { Taps = 4, Index = new int[4 * outSize], Weight = new float[4 * outSize] };
            double s = SourceScale(inSize, outSize, scale);
            for (int i = 0; i < outSize; i++)
            {
                double real = s * (i + 0.5) - 0.5; // not clamped at 0 for cubic
                int i0 = Math.Min((int)Math.Floor(real), inSize - 1);
                double t = Math.Clamp(real - i0, 0.0, 1.0);
                ReadOnlySpan<double> wts = [Cubic2(t + 1), Cubic1(t), Cubic1(1 - t), Cubic2(2 - t)];
                for (int k = 0; k < 4; k++)
                {
                    a.Index[4 * i + k] = Math.Clamp(i0 - 1 + k, 0, inSize - 1);
                    a.Weight[4 * i + k] = (float)wts[k];
                }
            }
            return a;
        }

        // adaptive_avg_pool: window [floor(i*in/out), ceil((i+1)*in/out)).
        static Axis Area(int inSize, int outSize)
        {
            int taps = 1;
            for (int i = 0; i < outSize; i++)
            {
                long st = (long)i * inSize / outSize, en = ((long)(i + 1) * inSize + outSize - 1) / outSize;
                taps = Math.Max(taps, (int)(en - st));
            }
            var a = new Axis { Taps = taps, Index = new int[taps * outSize], Weight = new float[taps * outSize] };
            for (int i = 0; i < outSize; i++)
            {
                int st = (int)((long)i * inSize / outSize), en = (int)(((long)(i + 1) * inSize + outSize - 1) / outSize);
                float wgt = (float)(1.0 / (en - st));
                for (int k = 0; k < taps; k++)
                {
                    a.Index[taps * i + k] = st + k < en ? st + k : st; // padding taps read a valid sample with weight 0
                    a.Weight[taps * i + k] = st + k < en ? wgt : 0f;
                }
            }
            return a;
        }
    }

    static void Run(float[] src, float[] dst, int planes, int h, int w, int outH, int outW, Axis ay, Axis ax)
    {
        // ay: rows (h -> outH), ax: columns (w -> outW).
        // Pass 1 (horizontal gather): tmp[p, r, :] for every input row; pass 2 (vertical, vectorised over columns).
        if (planes == 0) return;
        var tmp = new float[(long)planes * h * outW];
        const int Chunk = 16;
        int hChunks = (h + Chunk - 1) / Chunk, oChunks = (outH + Chunk - 1) / Chunk;
        var opts = new ParallelOptions { MaxDegreeOfParallelism = (long)planes * outH * outW < 32768 ? 1 : -1 };
        Parallel.For(0L, (long)planes * hChunks, opts, item =>
        {
            int p = (int)(item / hChunks), r0 = (int)(item % hChunks) * Chunk, r1 = Math.Min(h, r0 + Chunk);
            for (int r = r0; r < r1; r++)
                HorizontalRow(src.AsSpan((int)(((long)p * h + r) * w), w), tmp.AsSpan((int)(((long)p * h + r) * outW), outW), ax);
        });
        Parallel.For(0L, (long)planes * oChunks, opts, item =>
        {
            int p = (int)(item / oChunks), y0 = (int)(item % oChunks) * Chunk, y1 = Math.Min(outH, y0 + Chunk);
            var tplane = tmp.AsSpan((int)((long)p * h * outW), h * outW);
            for (int oy = y0; oy < y1; oy++)
                VerticalRow(tplane, outW, ay, oy, dst.AsSpan((int)(((long)p * outH + oy) * outW), outW));
        });
    }

    static void VerticalRow(ReadOnlySpan<float> tplane, int outW, Axis ay, int oy, Span<float> drow)
    {
        int taps = ay.Taps, b = oy * taps;
        if (taps == 4)
        {
            ReadOnlySpan<float> a0 = tplane.Slice(ay.Index[b] * outW, outW), a1 = tplane.Slice(ay.Index[b + 1] * outW, outW),
                                a2 = tplane.Slice(ay.Index[b + 2] * outW, outW), a3 = tplane.Slice(ay.Index[b + 3] * outW, outW);
            float w0 = ay.Weight[b], w1 = ay.Weight[b + 1], w2 = ay.Weight[b + 2], w3 = ay.Weight[b + 3];
            int x = 0;
            if (Vector.IsHardwareAccelerated)
            {
                var v0 = new Vector<float>(w0); var v1 = new Vector<float>(w1); var v2 = new Vector<float>(w2); var v3 = new Vector<float>(w3);
                for (; x <= outW - Vector<float>.Count; x += Vector<float>.Count)
                    (v0 * new Vector<float>(a0[x..]) + v1 * new Vector<float>(a1[x..]) + v2 * new Vector<float>(a2[x..]) + v3 * new Vector<float>(a3[x..])).CopyTo(drow[x..]);
            }
            for (; x < outW; x++) drow[x] = w0 * a0[x] + w1 * a1[x] + w2 * a2[x] + w3 * a3[x];
            return;
        }
        drow.Clear();
        for (int t = 0; t < taps; t++)
        {
            float wt = ay.Weight[b + t];
            if (wt == 0f) continue;
            Axpy(wt, tplane.Slice(ay.Index[b + t] * outW, outW), drow);
        }
    }

    static void HorizontalRow(ReadOnlySpan<float> row, Span<float> trow, Axis ax)
    {
        int taps = ax.Taps;
        var idx = ax.Index; var wt = ax.Weight;
        switch (taps)
        {
            case 1:
                for (int o = 0; o < trow.Length; o++) trow[o] = row[idx[o]];
                break;
            case 2:
                for (int o = 0; o < trow.Length; o++)
                    trow[o] = wt[2 * o] * row[idx[2 * o]] + wt[2 * o + 1] * row[idx[2 * o + 1]];
                break;
            case 4:
                for (int o = 0; o < trow.Length; o++)
                {
                    int b = 4 * o;
                    trow[o] = wt[b] * row[idx[b]] + wt[b + 1] * row[idx[b + 1]] + wt[b + 2] * row[idx[b + 2]] + wt[b + 3] * row[idx[b + 3]];
                }
                break;
            default:
                for (int o = 0; o < trow.Length; o++)
                {
                    float acc = 0f;
                    for (int t = 0; t < taps; t++) acc += wt[o * taps + t] * row[idx[o * taps + t]];
                    trow[o] = acc;
                }
                break;
        }
    }

    /// <summary>y += a * x, vectorised.</summary>
    internal static void Axpy(float a, ReadOnlySpan<float> x, Span<float> y)
    {
        int n = y.Length, i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
        {
            var va = new Vector<float>(a);
            var xv = MemoryMarshal.Cast<float, Vector<float>>(x[..n]);
            var yv = MemoryMarshal.Cast<float, Vector<float>>(y);
            for (int v = 0; v < yv.Length; v++) yv[v] += va * xv[v];
            i = yv.Length * Vector<float>.Count;
        }
        for (; i < n; i++) y[i] += a * x[i];
    }
}
