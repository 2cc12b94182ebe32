using Ctmsr.Autograd;
using Ctmsr.Kernels;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Kernels.Reference;
using Ctmsr.Model.Network;

namespace Ctmsr.Tests.Autograd;

/// <summary>
/// Backward passes against float64 central finite differences (reference backend), for each op and
/// for small composite graphs; bound: max relative error 1e-6 of the largest numeric derivative.
/// </summary>
public class AutogradTests
{
    static Tensor R(Context ctx, int seed, params int[] shape)
    {
        var r = new Random(seed);
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)(r.NextDouble() * 2 - 1);
        var t = Tensor.From(ctx, v, shape);
        t.RequiresGrad = true;
        return t;
    }

    static Context Ref() => new(new ReferenceBackend());

    /// <summary>A loss that weighs every output element differently, so no gradient is trivially uniform.</summary>
    static Tensor Weighted(Tensor y, int seed = 99)
    {
        var w = R(y.Ctx, seed, y.Shape); w.RequiresGrad = false;
        return F.Sum(F.Mul(y, w));
    }

    static void Check(Func<Tensor> loss, params Tensor[] inputs)
    {
        double e = GradCheck.MaxRelativeError(loss, inputs);
        Assert.That(e, Is.LessThan(1e-6), $"max relative gradient error {e:E2}");
    }

    [Test]
    public void ElementwiseAndActivations()
    {
        using var ctx = Ref();
        var a = R(ctx, 1, 2, 3, 5); var b = R(ctx, 2, 2, 3, 5);
        Check(() => Weighted(F.AddScaled(a, 0.7f, b, -1.3f)), a, b);
        Check(() => Weighted(F.Mul(a, b)), a, b);
        Check(() => Weighted(F.Mul(a, a)), a); // one tensor feeding two consumers accumulates
        foreach (var act in new[] { Activation.SiLU, Activation.Gelu, Activation.Sigmoid })
            Check(() => Weighted(F.Act(a, act)), a);
        Check(() => Weighted(F.LeakyRelu(a, 0.2f)), a);
        Check(() => Weighted(F.ScalePerSample(a, [0.5f, -2f])), a);
        Check(() => F.Mean(F.Charbonnier(a, b, 1e-3f)), a, b);
        Check(() => Weighted(F.SumPerSample(a)), a);
    }

    [Test]
    public void ConvLinearNorm()
    {
        using var ctx = Ref();
        var x = R(ctx, 3, 2, 4, 6, 5); var w = R(ctx, 4, 3, 4, 3, 3); var b = R(ctx, 5, 3);
        Check(() => Weighted(F.Conv2d(x, w, b)), x, w, b);
        var w5 = R(ctx, 6, 2, 4, 5, 5);
        Check(() => Weighted(F.Conv2d(x, w5, null, 2, 2)), x, w5);
        var lx = R(ctx, 7, 3, 2, 6); var lw = R(ctx, 8, 4, 6); var lb = R(ctx, 9, 4);
        Check(() => Weighted(F.Linear(lx, lw, lb)), lx, lw, lb);
        var g = R(ctx, 10, 4); var be = R(ctx, 11, 4);
        Check(() => Weighted(F.GroupNorm(x, 2, g, be, 1e-5f)), x, g, be);
        var v = R(ctx, 12, 2, 4);
        Check(() => Weighted(F.AddPerChannel(x, v)), x, v);
    }

    [Test]
    public void LayoutAndResampling()
    {
        using var ctx = Ref();
        var x = R(ctx, 13, 2, 3, 8, 4);
        Check(() => Weighted(F.PixelUnshuffle(x, 4)), x);
        var y = R(ctx, 14, 2, 2, 8, 4);
        Check(() => Weighted(F.ConcatChannels(x, y)), x, y);
        Check(() => Weighted(F.AvgPool2x2(x)), x);
        Check(() => Weighted(F.UpsampleNearest2x(x)), x);
        Check(() => Weighted(F.MaxPool2d(x, 2, 2)), x);
        Check(() => Weighted(F.Reshape(x, 6, -1)), x);
        Check(() => Weighted(F.Dropout(x, 0.3f, 5, 0)), x);
    }

    [Test]
    public void WindowAttentionComposite()
    {
        using var ctx = Ref();
        var x = R(ctx, 15, 1, 4, 8, 16);
        var table = R(ctx, 16, 15 * 15, 2);
        var wq = R(ctx, 17, 12, 4);
        Check(() =>
        {
            var win = F.WindowPartition(x, 8);
            var qkv = F.Linear(win, wq, null);
            var att = F.WindowAttention(qkv, table, 8, 2, 0.7f);
            return Weighted(F.WindowReverse(att, 8, 1, 8, 16));
        }, x, table, wq);
    }

    [Test]
    public void PartitionThenReverseIsIdentity()
    {
        using var ctx = new Context(new CpuBackend());
        var x = R(ctx, 18, 2, 3, 16, 24);
        using var w = F.WindowPartition(x, 8);
        using var back = F.WindowReverse(w, 8, 2, 16, 24);
        Assert.That(back.ToArray(), Is.EqualTo(x.ToArray()));
        // token (row 1, col 2) of window (0, 1) of sample 1, channel 2 = x[1, 2, 1, 8 + 2]
        Assert.That(w.ToArray()[((1 * 6 + 1) * 64 + 1 * 8 + 2) * 3 + 2], Is.EqualTo(x.ToArray()[((1 * 3 + 2) * 16 + 1) * 24 + 10]));
    }

    [Test]
    public void AdamWMatchesAHandComputedStep()
    {
        using var ctx = new Context(new CpuBackend());
        var p = Tensor.EmptyPersistent(ctx, 2); p.CopyFrom([1f, -2f]); p.RequiresGrad = true;
        var opt = new AdamW([p], lr: 0.1f, betas: (0.9f, 0.99f), eps: 1e-8f, weightDecay: 0.5f);
        p.Grad = Tensor.From(ctx, [0.5f, -4f], 2);
        opt.StepOnce();
        // step 1: m = 0.1 g, v = 0.01 g^2, mhat = g, vhat = g^2 -> p = p (1 - lr wd) - lr * g / (|g| + eps)
        double[] expect = [1 * (1 - 0.05) - 0.1 * 0.5 / (0.5 + 1e-8), -2 * (1 - 0.05) - 0.1 * -4 / (4 + 1e-8)];
        var got = p.ToArray();
        Assert.That(got[0], Is.EqualTo(expect[0]).Within(1e-6));
        Assert.That(got[1], Is.EqualTo(expect[1]).Within(1e-6));
    }

    [Test]
    public void AdamWOnTheCpu_IsBitForBitTheScalarFloat32Formula()
    {
        // The single-tensor AdamW update in float32, element by element, in the order of PyTorch's (torch/optim/adamw.py,
        // foreach=False; addcdiv computes (value * m) / denom): p *= 1 - lr wd; m = b1 m + (1 - b1) g;
        // v = b2 v + (1 - b2) g^2; p -= (lr / bc1) m / (sqrt(v) / sqrt(bc2) + eps). The CPU kernel runs it in SIMD
        // lanes with a scalar tail (n is not a multiple of 16); lanes must not change a bit (no fused multiply-add).
        const int n = 16 * 70 + 13;
        var r = new Random(5);
        float[] p0 = new float[n], g = new float[n];
        for (int i = 0; i < n; i++) { p0[i] = (float)(r.NextDouble() * 4 - 2); g[i] = (float)((r.NextDouble() - 0.5) * Math.Pow(10, r.Next(-6, 3))); }
        g[3] = 0f; g[n - 1] = -0f;
        using var ctx = new Context(new CpuBackend());
        var p = Tensor.EmptyPersistent(ctx, n); p.CopyFrom(p0); p.RequiresGrad = true;
        const float lr = 2e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, wd = 0.01f;
        var opt = new AdamW([p], lr, (b1, b2), eps, wd);
        float[] ep = (float[])p0.Clone(), em = new float[n], ev = new float[n];
        for (int step = 1; step <= 3; step++)
        {
            p.Grad = Tensor.From(ctx, g, n);
            opt.StepOnce();
            float bc1 = 1f - MathF.Pow(b1, step), bc2 = 1f - MathF.Pow(b2, step);
            for (int i = 0; i < n; i++)
            {
                ep[i] *= 1f - lr * wd;
                em[i] = em[i] * b1 + (1f - b1) * g[i];
                ev[i] = ev[i] * b2 + (1f - b2) * g[i] * g[i];
                float denom = MathF.Sqrt(ev[i]) / MathF.Sqrt(bc2) + eps;
                ep[i] -= lr / bc1 * em[i] / denom;
            }
        }
        var got = p.ToArray();
        for (int i = 0; i < n; i++)
            Assert.That(BitConverter.SingleToInt32Bits(got[i]), Is.EqualTo(BitConverter.SingleToInt32Bits(ep[i])), $"element {i}: {got[i]:R} vs {ep[i]:R}");
    }

    [Test]
    public void EmaFollowsTheParameters()
    {
        using var ctx = new Context(new CpuBackend());
        var p = Tensor.EmptyPersistent(ctx, 1); p.CopyFrom([1f]);
        var ema = new Ema([p], 0.9f);
        p.CopyFrom([2f]);
        ema.Update(); ema.Update();
        // e1 = 0.9*1 + 0.1*2 = 1.1; e2 = 0.9*1.1 + 0.2 = 1.19
        Assert.That(ema.Pairs[0].e.ToArray()[0], Is.EqualTo(1.19f).Within(1e-6));
    }

    [Test]
    public void PhiloxUniformAndNormalHaveTheRightMoments()
    {
        const int n = 200_000;
        double su = 0, su2 = 0, sn = 0, sn2 = 0;
        for (int i = 0; i < n; i++)
        {
            double u = Philox.Uniform(42, (ulong)i), z = Philox.Normal(42, (ulong)i);
            Assert.That(u, Is.InRange(0.0, 1.0));
            su += u; su2 += u * u; sn += z; sn2 += z * z;
        }
        // closed forms: U(0,1) mean 1/2, var 1/12; N(0,1) mean 0, var 1; 5-sigma bounds for n samples
        Assert.That(su / n, Is.EqualTo(0.5).Within(5 * Math.Sqrt(1.0 / 12 / n)));
        Assert.That(su2 / n - (su / n) * (su / n), Is.EqualTo(1.0 / 12).Within(0.002));
        Assert.That(sn / n, Is.EqualTo(0.0).Within(5 / Math.Sqrt(n)));
        Assert.That(sn2 / n, Is.EqualTo(1.0).Within(0.02));
        Assert.That(Philox.Uniform(42, 7), Is.Not.EqualTo(Philox.Uniform(43, 7)));
    }

    [Test]
    public void StateDictRoundTripAndStrictErrors()
    {
        using var ctx = new Context(new CpuBackend());
        var cfg = CtmsrConfig.Small with { ChannelMult = [1, 2], NumBlocks = 1 };
        var a = new CtmsrNet(ctx, cfg); a.InitializeRandom(1);
        var b = new CtmsrNet(ctx, cfg); b.InitializeRandom(2);
        var state = a.StateDict().ToDictionary(s => s.name, s => (s.t.Shape, s.t.ToArray()));
        b.LoadStateDict(state);
        foreach (var ((n1, t1, _), (_, t2, _)) in a.StateDict().Zip(b.StateDict()))
            Assert.That(t2.ToArray(), Is.EqualTo(t1.ToArray()), n1);
        var broken = new Dictionary<string, (int[], float[])>(state);
        broken.Remove("conv_last.bias");
        broken["bogus.weight"] = ([1], [0f]);
        var ex = Assert.Throws<StateDictException>(() => b.LoadStateDict(broken))!;
        Assert.That(ex.Message, Does.Contain("conv_last.bias").And.Contain("bogus.weight"));
        var (missing, unexpected) = b.LoadStateDict(broken, strict: false);
        Assert.That(missing, Is.EqualTo(new[] { "conv_last.bias" }));
        Assert.That(unexpected, Is.EqualTo(new[] { "bogus.weight" }));
    }

    [Test]
    public void TrainingStepAllocatesNothingNewAfterWarmUp()
    {
        using var ctx = new Context(new CpuBackend());
        var cfg = CtmsrConfig.Small with { ChannelMult = [1, 2], NumBlocks = 1 };
        var net = new CtmsrNet(ctx, cfg); net.InitializeRandom(3);
        var opt = new AdamW(net.Parameters(), 1e-4f, (0.9f, 0.9f), 1e-8f, 0f);
        var r = new Random(1);
        var xs = Enumerable.Range(0, 3 * 64 * 64).Select(_ => (float)r.NextDouble()).ToArray();
        var ls = Enumerable.Range(0, 3 * 16 * 16).Select(_ => (float)r.NextDouble()).ToArray();
        void Step()
        {
            using var scope = Tape.Scope();
            var x = Tensor.From(ctx, xs, 1, 3, 64, 64);
            var lq = Tensor.From(ctx, ls, 1, 3, 16, 16);
            var d = Precond.D(net, x, [0.5f], lq);
            var loss = F.Mean(F.Charbonnier(d, x));
            loss.Backward();
            opt.StepOnce();
        }
        Step(); Step();
        long misses = ctx.Pool.Misses;
        for (int i = 0; i < 3; i++) Step();
        Assert.That(ctx.Pool.Misses, Is.EqualTo(misses), "buffers allocated after warm-up");
    }
}
