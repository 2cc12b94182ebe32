using Ctmsr.Kernels;
using Ctmsr.Kernels.Reference;
using Ctmsr.Train.Resampling;

namespace Ctmsr.Tests.Ops;

/// <summary>
/// Every op of the catalogue on one backend against the float64 reference, on random non-zero inputs of
/// awkward sizes. Outputs are pre-filled with random values too, so a kernel that should accumulate but
/// writes (or the reverse) fails. Bound: relative L2 below 1e-5 (reductions over long axes 1e-4).
/// Subclass per backend (CPU here; OpenCL and CUDA in tests/Gpu).
/// </summary>
public abstract class BackendOpTests
{
    protected abstract Backend CreateBackend();
    Backend _be = null!;
    readonly ReferenceBackend _ref = new();

    [OneTimeSetUp] public void Setup() => _be = CreateBackend();
    [OneTimeTearDown] public void TearDown() => _be.Dispose();

    static float[] Rand(long n, int seed, float lo = -1f, float hi = 1f)
    {
        var r = new Random(seed);
        var v = new float[n];
        for (long i = 0; i < n; i++) { float x = lo + (hi - lo) * (float)r.NextDouble(); v[i] = x == 0 ? 0.5f : x; }
        return v;
    }

    /// <summary>Runs op on both backends with identical random inputs and pre-filled outputs; compares the outputs.</summary>
    void Compare(long[] ins, long[] outs, Action<Backend, DeviceBuffer[], DeviceBuffer[]> op, double tol = 1e-5,
        Func<int, float[]>? input = null, int[]? skipCompare = null)
    {
        var data = ins.Select((n, i) => input?.Invoke(i) ?? Rand(n, 100 + i)).ToArray();
        var pre = outs.Select((n, i) => Rand(n, 200 + i)).ToArray();
        DeviceBuffer[] Make(Backend b, long[] sizes, float[][] d) => sizes.Select((n, i) => { var x = b.Allocate(Math.Max(1, n)); b.Upload(d[i], x); return x; }).ToArray();
        var ai = Make(_be, ins, data); var ao = Make(_be, outs, pre);
        var ri = Make(_ref, ins, data); var ro = Make(_ref, outs, pre);
        op(_be, ai, ao);
        op(_ref, ri, ro);
        for (int k = 0; k < outs.Length; k++)
        {
            if (skipCompare?.Contains(k) ?? false) continue;
            var a = new float[outs[k]]; _be.Download(ao[k], a);
            var r = new float[outs[k]]; _ref.Download(ro[k], r);
            double e = Model.GoldenModelTests.RelL2(a, r);
            Assert.That(e, Is.LessThan(tol), $"output {k}: relative L2 error {e:E2}");
        }
        foreach (var b in ai.Concat(ao).Concat(ri).Concat(ro)) b.Dispose();
    }

    [TestCase(false, false)] [TestCase(true, false)] [TestCase(false, true)] [TestCase(true, true)]
    public void Gemm(bool ta, bool tb)
    {
        foreach (var (m, n, k) in new[] { (1, 1, 1), (7, 13, 5), (33, 65, 129), (100, 17, 257) })
        {
            int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 1, batch = 2;
            long sa = (long)lda * (ta ? k : m) + 5, sb = (long)ldb * (tb ? n : k) + 7, sc = (long)ldc * m + 3;
            Compare([3 + batch * sa, 4 + batch * sb], [2 + batch * sc],
                (b, i, o) => b.Gemm(ta, tb, m, n, k, 0.75f, i[0], 3, lda, sa, i[1], 4, ldb, sb, 0.5f, o[0], 2, ldc, sc, batch), 1e-5);
            Compare([3 + sa, 4 + sb], [2 + sc],
                (b, i, o) => b.Gemm(ta, tb, m, n, k, 1f, i[0], 3, lda, 0, i[1], 4, ldb, 0, 0f, o[0], 2, ldc, 0, 1), 1e-5);
        }
    }

    static IEnumerable<TestCaseData> ConvCases()
    {
        yield return new TestCaseData(new ConvShape(2, 5, 9, 7, 6, 1, 1, 0));
        yield return new TestCaseData(new ConvShape(2, 7, 10, 13, 5, 3, 1, 1));
        yield return new TestCaseData(new ConvShape(1, 3, 12, 11, 4, 3, 2, 1));
        yield return new TestCaseData(new ConvShape(2, 3, 15, 14, 5, 5, 1, 2));
        yield return new TestCaseData(new ConvShape(1, 3, 35, 31, 4, 11, 4, 2));
    }

    [TestCaseSource(nameof(ConvCases))]
    public void Conv2d(ConvShape s)
    {
        long nx = (long)s.N * s.Cin * s.H * s.W, nw = (long)s.Cout * s.Cin * s.K * s.K, ny = (long)s.N * s.Cout * s.OutH * s.OutW;
        Compare([nx, nw, s.Cout], [ny], (b, i, o) => b.Conv2dForward(s, i[0], i[1], i[2], o[0]));
        Compare([nx, nw], [ny], (b, i, o) => b.Conv2dForward(s, i[0], i[1], null, o[0]));
        foreach (bool acc in new[] { false, true })
            Compare([ny, nw], [nx], (b, i, o) => b.Conv2dBackwardData(s, i[0], i[1], o[0], acc));
        Compare([nx, ny], [nw, s.Cout], (b, i, o) => b.Conv2dBackwardWeight(s, i[0], i[1], o[0], o[1]), 1e-5);
    }

    [TestCase(2, 12, 35, 4, 1e-6f)] [TestCase(1, 32, 64, 32, 1e-5f)] [TestCase(3, 9, 7, 3, 1e-6f)]
    public void GroupNorm(int n, int c, int hw, int groups, float eps)
    {
        long count = (long)n * c * hw;
        // inputs with a non-zero mean per group, as activations have
        Func<int, float[]> input = k => k == 0 ? Rand(count, 7, 0.5f, 3f) : Rand(k == 3 ? count : c, 8 + k);
        Compare([count, c, c], [count, n * groups, n * groups],
            (b, i, o) => b.GroupNormForward(n, c, hw, groups, eps, i[0], i[1], i[2], o[0], o[1], o[2]), 1e-5, input);
        foreach (bool acc in new[] { false, true })
            Compare([count, c, c, count], [count, c, c, n * groups, n * groups],
                (b, i, o) =>
                {
                    b.GroupNormForward(n, c, hw, groups, eps, i[0], i[1], i[2], o[0], o[3], o[4]);
                    b.GroupNormBackward(n, c, hw, groups, i[0], i[1], o[3], o[4], i[3], o[0], acc, o[1], o[2]);
                }, 1e-5, input);
    }

    [TestCase(Activation.SiLU)] [TestCase(Activation.Gelu)] [TestCase(Activation.LeakyReLU)]
    [TestCase(Activation.ReLU)] [TestCase(Activation.Sigmoid)] [TestCase(Activation.Identity)]
    public void Activations(Activation act)
    {
        const long n = 70001;
        Func<int, float[]> input = k => Rand(n, 30 + k, -6f, 6f);
        Compare([n], [n], (b, i, o) => b.ActivationForward(act, 0.2f, n, i[0], o[0]), 1e-6, input);
        foreach (bool acc in new[] { false, true })
            Compare([n, n], [n], (b, i, o) => b.ActivationBackward(act, 0.2f, n, i[0], i[1], o[0], acc), 1e-6, input);
    }

    [Test]
    public void Elementwise()
    {
        const int outer = 6; const long inner = 11113, n = outer * inner;
        Compare([n, n], [n], (b, i, o) => b.AddScaled(n, 0.3f, i[0], -1.7f, i[1], o[0]));
        Compare([n], [], (b, i, o) => b.AddScaled(n, 0.5f, i[0], 2f, i[0], i[0]));
        foreach (bool acc in new[] { false, true })
        {
            Compare([n, n], [n], (b, i, o) => b.Mul(n, i[0], i[1], o[0], acc));
            Compare([outer, n], [n], (b, i, o) => b.ScaleOuter(outer, inner, i[0], i[1], o[0], acc));
            Compare([outer, n], [outer], (b, i, o) => b.SumInner(outer, inner, i[1], o[0], acc), 1e-5);
            Compare([n], [1], (b, i, o) => b.SumInner(1, n, i[0], o[0], acc), 1e-4);
            Compare([n], [(int)inner], (b, i, o) => b.SumRows(outer, (int)inner, i[0], o[0], acc), 1e-5);
            Compare([n], [outer], (b, i, o) => b.SumRows((int)inner, outer, i[0], o[0], acc), 1e-4);
            Compare([n, n, n], [n], (b, i, o) => b.CharbonnierBackward(n, 1e-6f, i[0], i[1], i[2], o[0], acc));
        }
        Compare([outer], [n], (b, i, o) => b.AddOuter(outer, inner, i[0], o[0]));
        Compare([(int)inner], [n], (b, i, o) => b.AddInner(outer, (int)inner, i[0], o[0]));
        Compare([n, n], [n], (b, i, o) => b.CharbonnierForward(n, 1e-6f, i[0], i[1], o[0]));
    }

    [Test]
    public void CopyStrided()
    {
        // window partition of [2, 5, 16, 24] into 8x8 windows, and the inverse with accumulation
        int bsz = 2, e = 5, h = 16, w = 24, ws = 8, ny = 2, nx = 3, t = 64;
        long n = (long)bsz * e * h * w;
        int[] shape = [bsz, ny, nx, ws, e, ws];
        long[] src = [(long)e * h * w, (long)ws * w, ws, w, (long)h * w, 1];
        long[] dst = [(long)ny * nx * t * e, (long)nx * t * e, (long)t * e, (long)ws * e, 1, e];
        Compare([n], [n], (b, i, o) => b.CopyStrided(shape, i[0], 0, src, o[0], 0, dst, false));
        Compare([n], [n], (b, i, o) => b.CopyStrided(shape, i[0], 0, dst, o[0], 0, src, true));
        Compare([100], [130], (b, i, o) => b.CopyStrided([3, 7], i[0], 5, [20, 2], o[0], 9, [40, 1], false));
    }

    [Test]
    public void Pooling()
    {
        int nc = 6, h = 10, w = 14;
        long n = nc * h * w;
        Compare([n], [n / 4], (b, i, o) => b.AvgPool2x2(nc, h, w, i[0], o[0]));
        Compare([n], [n * 4], (b, i, o) => b.UpsampleNearest2x(nc, h, w, i[0], o[0]));
        foreach (bool acc in new[] { false, true })
        {
            Compare([n / 4], [n], (b, i, o) => b.AvgPool2x2Backward(nc, h, w, i[0], o[0], acc));
            Compare([n * 4], [n], (b, i, o) => b.UpsampleNearest2xBackward(nc, h, w, i[0], o[0], acc));
        }
        foreach (var (k, s) in new[] { (2, 2), (3, 2) })
        {
            int oh = (h - k) / s + 1, ow = (w - k) / s + 1;
            Compare([n], [nc * oh * ow], (b, i, o) => b.MaxPool2d(nc, h, w, k, s, i[0], o[0]));
            foreach (bool acc in new[] { false, true })
                Compare([n, nc * oh * ow], [n], (b, i, o) => b.MaxPool2dBackward(nc, h, w, k, s, i[0], i[1], o[0], acc));
        }
    }

    [TestCase(ResizeMode.Bicubic, 9, 13, 36, 52)] [TestCase(ResizeMode.Bilinear, 9, 13, 5, 20)]
    [TestCase(ResizeMode.Area, 17, 23, 5, 7)] [TestCase(ResizeMode.Nearest, 9, 13, 14, 6)]
    public void Resample2d(ResizeMode mode, int h, int w, int oh, int ow)
    {
        const int planes = 5;
        var rows = Resize.Axis(h, oh, mode);
        var cols = Resize.Axis(w, ow, mode);
        Compare([planes * h * w], [planes * oh * ow], (b, i, o) => b.Resample2d(planes, rows, cols, i[0], o[0]));
    }

    [TestCase(2, 3, 11, 16, 3)] [TestCase(2, 3, 12, 9, 7)] [TestCase(1, 2, 5, 6, 13)] [TestCase(3, 1, 1, 8, 5)]
    public void Filter2dReflect(int batch, int channels, int h, int w, int k)
    {
        long n = (long)batch * channels * h * w;
        Compare([batch * k * k, n], [n], (b, i, o) => b.Filter2dReflect(batch, channels, h, w, k, i[0], i[1], o[0]));
    }

    [TestCase(3, 8, 2, 16)] [TestCase(2, 8, 6, 32)] [TestCase(2, 4, 3, 5)]
    public void WindowAttention(int windows, int ws, int heads, int d)
    {
        int t = ws * ws, e = heads * d, span = 2 * ws - 1;
        long nq = (long)windows * t * 3 * e, np = (long)windows * heads * t * t, no = (long)windows * t * e;
        float scale = 1f / MathF.Sqrt(d);
        Compare([nq, span * span * heads], [np, no], (b, i, o) => b.WindowAttentionForward(windows, ws, heads, d, scale, i[0], i[1], o[0], o[1]));
        foreach (bool acc in new[] { false, true })
            Compare([nq, span * span * heads, no], [np, no, nq, np],
                (b, i, o) =>
                {
                    b.WindowAttentionForward(windows, ws, heads, d, scale, i[0], i[1], o[0], o[1]);
                    b.WindowAttentionBackward(windows, ws, heads, d, scale, i[0], o[0], i[2], o[2], acc, o[3]);
                }, 1e-5);
        Compare([(long)heads * t * t], [span * span * heads], (b, i, o) => b.RelativeBiasBackward(ws, heads, i[0], o[0]));
    }

    [Test]
    public void AdamW()
    {
        const long n = 5003;
        Func<int, float[]> input = k => k == 3 ? Rand(n, 50, 0.01f, 1f) : Rand(n, 40 + k);
        Compare([n], [n, n, n, n], (b, i, o) =>
        {
            b.Upload(Rand(n, 60, 0.01f, 1f), o[3]); // v must be non-negative
            for (int step = 1; step <= 3; step++) b.AdamWStep(n, o[0], i[0], o[2], o[3], 1e-3f, 0.9f, 0.99f, 1e-8f, 0.01f, step);
        }, 1e-6, input);
    }

    [Test]
    public void RandomNumbersAreBitIdenticalAcrossBackends()
    {
        const long n = 4099;
        Compare([], [n], (b, i, o) => b.FillUniform(n, 1234, 77, o[0]), 1e-9);
        Compare([], [n], (b, i, o) => b.FillNormal(n, 1234, 77, o[0]), 1e-6);
        Compare([n], [n], (b, i, o) => b.Dropout(n, 0.13f, 99, 5, i[0], o[0]), 1e-6);
        foreach (bool acc in new[] { false, true })
            Compare([n], [n], (b, i, o) => b.DropoutBackward(n, 0.13f, 99, 5, i[0], o[0], acc), 1e-6);
    }
}

public sealed class CpuOpTests : BackendOpTests
{
    protected override Backend CreateBackend() => new Ctmsr.Kernels.Cpu.CpuBackend();
}
