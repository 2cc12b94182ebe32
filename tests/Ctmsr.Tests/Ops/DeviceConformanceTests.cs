using Ctmsr.Kernels;
using Ctmsr.Kernels.Conformance;
using Ctmsr.Kernels.Reference;

namespace Ctmsr.Tests.Ops;

/// <summary>
/// Every op on each registered device (the oracle aside) against the float64 ReferenceBackend, same random non-zero inputs, awkward sizes
/// (odd channels, non-square, batch 2). Forward and backward: relative L2 error below 1e-4.
/// Absent devices skip with the reason (CI has the CPU and PoCL).
/// </summary>
[TestFixtureSource(typeof(TestDevices), nameof(TestDevices.Checked)), NonParallelizable]
public sealed class DeviceConformanceTests(string device)
{
    Backend cl = null!;
    readonly ReferenceBackend re = new();
    string? oldCache;
    string cacheDir = "";

    [OneTimeSetUp]
    public void Open()
    {
        oldCache = Environment.GetEnvironmentVariable("CTMSR_CACHE");
        cacheDir = Path.Combine(Path.GetTempPath(), "ctmsr-conftest-" + Environment.ProcessId);
        Environment.SetEnvironmentVariable("CTMSR_CACHE", cacheDir);
        cl = TestDevices.OpenOrSkip(device);
        TestContext.Out.WriteLine(cl.Description);
    }

    [OneTimeTearDown]
    public void Close()
    {
        cl?.Dispose();
        Environment.SetEnvironmentVariable("CTMSR_CACHE", oldCache);
        try { Directory.Delete(cacheDir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    sealed record Pair(DeviceBuffer C, DeviceBuffer R, int Length);
    delegate DeviceBuffer Pick(Pair p);

    static float[] Rand(int n, int seed, float scale = 1f)
    {
        var r = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++)
        {
            float v = (float)(r.NextDouble() * 2 - 1);
            a[i] = scale * (v + (v < 0 ? -0.05f : 0.05f)); // away from zero
        }
        return a;
    }

    Pair In(float[] data)
    {
        var c = cl.Allocate(data.Length); var r = re.Allocate(data.Length);
        cl.Upload(data, c); re.Upload(data, r);
        return new Pair(c, r, data.Length);
    }

    Pair In(int n, int seed, float scale = 1f) => In(Rand(n, seed, scale));

    void Both(Action<Backend, Pick> op)
    {
        op(cl, p => p.C);
        op(re, p => p.R);
    }

    void Check(Pair p, string what, double tol = 1e-4)
    {
        var got = new float[p.Length];
        cl.Download(p.C, got);
        var want = ReferenceBackend.Raw(p.R).AsSpan(0, p.Length).ToArray();
        foreach (var g in got) Assert.That(float.IsFinite(g), $"{what}: non-finite output");
        double e = OpConformance.RelL2(got, want);
        Assert.That(e, Is.LessThan(tol), $"{what}: relative L2 error {e:E3}");
    }

    // ---- linear algebra ----
    [TestCase(false, false), TestCase(true, false), TestCase(false, true), TestCase(true, true)]
    public void Gemm(bool ta, bool tb)
    {
        const int m = 37, n = 29, k = 45, batch = 2, pad = 3, off = 5;
        int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
        long sa = (long)(ta ? k : m) * lda + 7, sb = (long)(tb ? n : k) * ldb + 2, sc = (long)m * ldc + 4;
        var a = In((int)(off + batch * sa), 1);
        var b = In((int)(off + batch * sb), 2);
        var c = In((int)(off + batch * sc), 3);
        Both((be, P) => be.Gemm(ta, tb, m, n, k, 0.7f, P(a), off, lda, sa, P(b), off, ldb, sb, 0.5f, P(c), off, ldc, sc, batch));
        Check(c, "gemm beta=0.5");
        // beta = 0 must not read C (NaN garbage stays out)
        var nan = new float[c.Length]; Array.Fill(nan, float.NaN);
        for (int i = 0; i < batch; i++) for (int r = 0; r < m; r++) for (int j = 0; j < n; j++) nan[off + i * sc + r * ldc + j] = 0;
        var c0 = In(nan);
        var cRef = new float[c.Length];
        Both((be, P) => be.Gemm(ta, tb, m, n, k, 1f, P(a), off, lda, sa, P(b), off, ldb, sb, 0f, P(c0), off, ldc, sc, batch));
        var got = new float[c.Length];
        cl.Download(c0.C, got);
        for (int i = 0; i < batch; i++) for (int r = 0; r < m; r++) for (int j = 0; j < n; j++)
            Assert.That(float.IsFinite(got[off + i * sc + r * ldc + j]), "beta=0 read C");
        Assert.That(float.IsNaN(got[0]), "gemm wrote outside C");
        var want = ReferenceBackend.Raw(c0.R);
        double num = 0, den = 0;
        for (int i = 0; i < batch; i++) for (int r = 0; r < m; r++) for (int j = 0; j < n; j++)
        {
            long x = off + i * sc + r * ldc + j; num += Math.Pow(got[x] - want[x], 2); den += want[x] * want[x];
        }
        Assert.That(Math.Sqrt(num / den), Is.LessThan(1e-4));
    }

    // ---- convolution ----
    static readonly ConvShape[] Shapes =
    [
        new(2, 3, 9, 7, 5, 3, 1, 1),
        new(2, 5, 10, 7, 3, 3, 2, 1),
        new(2, 7, 6, 5, 9, 1, 1, 0),
        new(1, 4, 8, 8, 6, 4, 2, 1),
    ];

    [TestCaseSource(nameof(Shapes))]
    public void Conv2d(ConvShape s)
    {
        var x = In(s.N * s.Cin * s.H * s.W, 10);
        var w = In(s.Cout * s.Cin * s.K * s.K, 11);
        var bias = In(s.Cout, 12);
        var y = In(s.N * s.Cout * s.OutH * s.OutW, 13);
        Both((b, P) => b.Conv2dForward(s, P(x), P(w), P(bias), P(y)));
        Check(y, "conv forward");
        Both((b, P) => b.Conv2dForward(s, P(x), P(w), null, P(y)));
        Check(y, "conv forward, no bias");
        var dy = In(y.Length, 14);
        var dx = In(x.Length, 15);
        Both((b, P) => b.Conv2dBackwardData(s, P(dy), P(w), P(dx), false));
        Check(dx, "conv backward data");
        Both((b, P) => b.Conv2dBackwardData(s, P(dy), P(w), P(dx), true));
        Check(dx, "conv backward data, accumulate");
        var dw = In(w.Length, 16);
        var db = In(s.Cout, 17);
        Both((b, P) => b.Conv2dBackwardWeight(s, P(x), P(dy), P(dw), P(db)));
        Check(dw, "conv backward weight");
        Check(db, "conv backward bias");
    }

    // ---- normalisation ----
    [TestCase(2, 12, 35, 4), TestCase(1, 6, 17, 3), TestCase(2, 8, 1000, 2)]
    public void GroupNorm(int n, int c, int hw, int groups)
    {
        var x = In(n * c * hw, 20, 2f);
        var gamma = In(c, 21); var beta = In(c, 22);
        var y = In(n * c * hw, 23); var mean = In(n * groups, 24); var rstd = In(n * groups, 25);
        Both((b, P) => b.GroupNormForward(n, c, hw, groups, 1e-6f, P(x), P(gamma), P(beta), P(y), P(mean), P(rstd)));
        Check(y, "groupnorm y"); Check(mean, "groupnorm mean"); Check(rstd, "groupnorm rstd");
        var dy = In(n * c * hw, 26); var dx = In(n * c * hw, 27); var dg = In(c, 28); var db = In(c, 29);
        Both((b, P) => b.GroupNormBackward(n, c, hw, groups, P(x), P(gamma), P(mean), P(rstd), P(dy), P(dx), false, P(dg), P(db)));
        Check(dx, "groupnorm dx"); Check(dg, "groupnorm dgamma"); Check(db, "groupnorm dbeta");
        Both((b, P) => b.GroupNormBackward(n, c, hw, groups, P(x), P(gamma), P(mean), P(rstd), P(dy), P(dx), true, P(dg), P(db)));
        Check(dx, "groupnorm dx, accumulate");
    }

    // ---- elementwise ----
    [TestCase(Activation.Identity), TestCase(Activation.ReLU), TestCase(Activation.LeakyReLU),
     TestCase(Activation.SiLU), TestCase(Activation.Gelu), TestCase(Activation.Sigmoid)]
    public void Activations(Activation act)
    {
        const int n = 1003;
        var x = In(n, 30, 4f); var y = In(n, 31); var dy = In(n, 32); var dx = In(n, 33);
        Both((b, P) => b.ActivationForward(act, 0.2f, n, P(x), P(y)));
        Check(y, $"{act} forward");
        Both((b, P) => b.ActivationBackward(act, 0.2f, n, P(x), P(dy), P(dx), false));
        Check(dx, $"{act} backward");
        Both((b, P) => b.ActivationBackward(act, 0.2f, n, P(x), P(dy), P(dx), true));
        Check(dx, $"{act} backward, accumulate");
    }

    [Test]
    public void ElementwiseAndReductions()
    {
        const int outer = 6, inner = 301, n = outer * inner;
        var x = In(n, 40); var z = In(n, 41); var y = In(n, 42); var s = In(outer, 43); var v = In(inner, 44);
        Both((b, P) => b.AddScaled(n, 0.3f, P(x), -1.7f, P(z), P(y))); Check(y, "AddScaled");
        Both((b, P) => b.AddScaled(n, 0.5f, P(y), 2f, P(z), P(y))); Check(y, "AddScaled aliasing y = x");
        Both((b, P) => b.Mul(n, P(x), P(z), P(y), false)); Check(y, "Mul");
        Both((b, P) => b.Mul(n, P(x), P(z), P(y), true)); Check(y, "Mul accumulate");
        Both((b, P) => b.ScaleOuter(outer, inner, P(s), P(x), P(y), false)); Check(y, "ScaleOuter");
        Both((b, P) => b.ScaleOuter(outer, inner, P(s), P(x), P(y), true)); Check(y, "ScaleOuter accumulate");
        Both((b, P) => b.AddOuter(outer, inner, P(s), P(y))); Check(y, "AddOuter");
        Both((b, P) => b.AddInner(outer, inner, P(v), P(y))); Check(y, "AddInner");
        var so = In(outer, 45);
        Both((b, P) => b.SumInner(outer, inner, P(x), P(so), false)); Check(so, "SumInner");
        Both((b, P) => b.SumInner(outer, inner, P(x), P(so), true)); Check(so, "SumInner accumulate");
        var one = In(1, 46);
        Both((b, P) => b.SumInner(1, n, P(x), P(one), false)); Check(one, "SumInner outer=1");
        var sr = In(inner, 47);
        Both((b, P) => b.SumRows(outer, inner, P(x), P(sr), false)); Check(sr, "SumRows");
        Both((b, P) => b.SumRows(outer, inner, P(x), P(sr), true)); Check(sr, "SumRows accumulate");
        Both((b, P) => b.CharbonnierForward(n, 1e-6f, P(x), P(z), P(y))); Check(y, "Charbonnier");
        var dy = In(n, 48); var da = In(n, 49);
        Both((b, P) => b.CharbonnierBackward(n, 1e-6f, P(x), P(z), P(dy), P(da), false)); Check(da, "Charbonnier backward");
        Both((b, P) => b.CharbonnierBackward(n, 1e-6f, P(x), P(z), P(dy), P(da), true)); Check(da, "Charbonnier backward accumulate");
        Both((b, P) => b.Fill(P(y), 2.5f, 7, 100)); Check(y, "Fill with offset");
    }

    [Test]
    public void CopyStrided()
    {
        // [2, 3, 5, 7] -> permuted to [2, 7, 3, 5] (NCHW -> NWCH), then accumulate a pixel-shuffle-like 6-D view
        var src = In(2 * 3 * 5 * 7 + 3, 50);
        var dst = In(2 * 7 * 3 * 5 + 2, 51);
        int[] shape = [2, 3, 5, 7];
        long[] ss = [105, 35, 7, 1], ds = [105, 5, 1, 15];
        Both((b, P) => b.CopyStrided(shape, P(src), 3, ss, P(dst), 2, ds, false));
        Check(dst, "CopyStrided permute");
        Both((b, P) => b.CopyStrided(shape, P(src), 3, ss, P(dst), 2, ds, true));
        Check(dst, "CopyStrided accumulate");
        // pixel unshuffle r=2 of [1, 3, 4, 6]: dst[c, i, j, y, x] = src[c, 2y+i, 2x+j] as 5 dims
        var a = In(3 * 4 * 6, 52); var o = In(3 * 4 * 6, 53);
        int[] sh = [3, 2, 2, 2, 3];
        long[] s2 = [24, 6, 1, 12, 2], d2 = [24, 12, 6, 3, 1];
        Both((b, P) => b.CopyStrided(sh, P(a), 0, s2, P(o), 0, d2, false));
        Check(o, "CopyStrided pixel unshuffle");
    }

    // ---- resampling ----
    [Test]
    public void Pools()
    {
        const int nc = 5, h = 8, w = 6;
        var x = In(nc * h * w, 60); var y = In(nc * h * w / 4, 61); var dy = In(nc * h * w / 4, 62); var dx = In(nc * h * w, 63);
        Both((b, P) => b.AvgPool2x2(nc, h, w, P(x), P(y))); Check(y, "AvgPool");
        Both((b, P) => b.AvgPool2x2Backward(nc, h, w, P(dy), P(dx), false)); Check(dx, "AvgPool backward");
        Both((b, P) => b.AvgPool2x2Backward(nc, h, w, P(dy), P(dx), true)); Check(dx, "AvgPool backward accumulate");
        var up = In(nc * h * w * 4, 64);
        Both((b, P) => b.UpsampleNearest2x(nc, h, w, P(x), P(up))); Check(up, "Upsample");
        var dup = In(nc * h * w * 4, 65);
        Both((b, P) => b.UpsampleNearest2xBackward(nc, h, w, P(dup), P(dx), false)); Check(dx, "Upsample backward");
        Both((b, P) => b.UpsampleNearest2xBackward(nc, h, w, P(dup), P(dx), true)); Check(dx, "Upsample backward accumulate");
    }

    [TestCase(3, 2, false), TestCase(2, 2, false), TestCase(3, 1, true)]
    public void MaxPool(int k, int s, bool ties)
    {
        const int nc = 3, h = 9, w = 7;
        int oh = (h - k) / s + 1, ow = (w - k) / s + 1;
        var data = Rand(nc * h * w, 70);
        if (ties) for (int i = 0; i < data.Length; i++) data[i] = MathF.Round(data[i] * 2); // many equal maxima
        var x = In(data); var y = In(nc * oh * ow, 71); var dy = In(nc * oh * ow, 72); var dx = In(nc * h * w, 73);
        Both((b, P) => b.MaxPool2d(nc, h, w, k, s, P(x), P(y))); Check(y, "MaxPool");
        Both((b, P) => b.MaxPool2dBackward(nc, h, w, k, s, P(x), P(dy), P(dx), false)); Check(dx, "MaxPool backward");
        Both((b, P) => b.MaxPool2dBackward(nc, h, w, k, s, P(x), P(dy), P(dx), true)); Check(dx, "MaxPool backward accumulate");
    }

    // ---- window attention ----
    [TestCase(3, 4, 2, 5), TestCase(2, 8, 2, 32), TestCase(1, 8, 1, 49)] // the last does not fit local memory
    public void WindowAttention(int windows, int ws, int heads, int d)
    {
        int t = ws * ws, e = heads * d;
        float scale = 1f / MathF.Sqrt(d);
        var qkv = In(windows * t * 3 * e, 80, 1.5f);
        var table = In((2 * ws - 1) * (2 * ws - 1) * heads, 81);
        var probs = In(windows * heads * t * t, 82);
        var o = In(windows * t * e, 83);
        Both((b, P) => b.WindowAttentionForward(windows, ws, heads, d, scale, P(qkv), P(table), P(probs), P(o)));
        Check(probs, "attention probs"); Check(o, "attention output");
        var dout = In(windows * t * e, 84); var dqkv = In(qkv.Length, 85); var ds = In(probs.Length, 86);
        Both((b, P) => b.WindowAttentionBackward(windows, ws, heads, d, scale, P(qkv), P(probs), P(dout), P(dqkv), false, P(ds)));
        Check(dqkv, "attention dqkv"); Check(ds, "attention dScores");
        Both((b, P) => b.WindowAttentionBackward(windows, ws, heads, d, scale, P(qkv), P(probs), P(dout), P(dqkv), true, P(ds)));
        Check(dqkv, "attention dqkv accumulate");
        var dbias = In(heads * t * t, 87); var dtable = In(table.Length, 88);
        Both((b, P) => b.RelativeBiasBackward(ws, heads, P(dbias), P(dtable)));
        Check(dtable, "relative bias backward");
    }

    // ---- optimiser ----
    [Test]
    public void AdamW()
    {
        const int n = 777;
        var p = In(n, 90); var g = In(n, 91); var m = In(n, 92, 0.1f);
        var vdata = Rand(n, 93, 0.01f); for (int i = 0; i < n; i++) vdata[i] = MathF.Abs(vdata[i]);
        var v = In(vdata);
        for (int step = 1; step <= 3; step++)
            Both((b, P) => b.AdamWStep(n, P(p), P(g), P(m), P(v), 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, step));
        Check(p, "AdamW param"); Check(m, "AdamW m"); Check(v, "AdamW v");
    }

    // ---- random numbers ----
    [Test]
    public void PhiloxUniformIsBitIdentical()
    {
        const int n = 1001;
        const ulong seed = 0x1234_5678_9ABC_DEF0UL, offset = (1UL << 33) + 5;
        var y = cl.Allocate(n);
        cl.FillUniform(n, seed, offset, y);
        var got = new float[n];
        cl.Download(y, got);
        for (int i = 0; i < n; i++)
            Assert.That(BitConverter.SingleToInt32Bits(got[i]), Is.EqualTo(BitConverter.SingleToInt32Bits(Philox.Uniform(seed, offset + (ulong)i))), $"element {i}");
    }

    [Test]
    public void PhiloxNormalAndDropout()
    {
        const int n = 1001;
        const ulong seed = 42, offset = 3;
        var y = In(n, 100);
        Both((b, P) => b.FillNormal(n, seed, offset, P(y)));
        var got = new float[n];
        cl.Download(y.C, got);
        for (int i = 0; i < n; i++)
        {
            float want = Philox.Normal(seed, offset + (ulong)i);
            Assert.That(got[i], Is.EqualTo(want).Within(2e-6f * Math.Max(1f, MathF.Abs(want))), $"normal {i}");
        }
        var x = In(n, 101); var o = In(n, 102); var dx = In(n, 103);
        Both((b, P) => b.Dropout(n, 0.3f, seed, offset, P(x), P(o))); Check(o, "Dropout");
        Both((b, P) => b.DropoutBackward(n, 0.3f, seed, offset, P(x), P(dx), false)); Check(dx, "Dropout backward");
        Both((b, P) => b.DropoutBackward(n, 0.3f, seed, offset, P(x), P(dx), true)); Check(dx, "Dropout backward accumulate");
    }

    // ---- errors ----
    [Test]
    public void ForeignBufferIsRejected()
    {
        var r = re.Allocate(4); var c = cl.Allocate(4);
        var ex = Assert.Throws<ArgumentException>(() => cl.AddScaled(4, 1, r, 1, c, c));
        Assert.That(ex!.Message, Does.Contain("reference"));
    }
}
