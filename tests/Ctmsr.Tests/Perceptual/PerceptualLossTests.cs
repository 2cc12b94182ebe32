using Ctmsr.Autograd;
using Ctmsr.Kernels;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Kernels.Reference;
using Ctmsr.Model.Checkpoints;
using Ctmsr.Model.Perceptual;
using Ctmsr.Model.Verification;
using Ctmsr.Tests.Model;

namespace Ctmsr.Tests.Perceptual;

/// <summary>
/// The ResNet18 perceptual distance: the CPU backend against the float64 reference backend (forward and input
/// gradient, the real weights, an odd size that takes the explicit-padding path), the reference's gradient against
/// float64 finite differences, and closed forms (identical inputs, a hand-computed one-tap case).
/// </summary>
public class PerceptualLossTests
{
    static readonly Lazy<OnnxModel> Model = new(() => OnnxModel.Load(Resnet18Files.Model));

    static float[] Random(int n, int seed, double lo = -1, double hi = 1)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(lo + (hi - lo) * rng.NextDouble())).ToArray();
    }

    static (double dist0, double dist1, float[] grad) Run(Backend be, float[] av, float[] bv, int[] shape, float texture = 0f)
    {
        using var ctx = new Context(be);
        var loss = new PerceptualLoss(Resnet18Onnx.Build(ctx, Model.Value));
        using var scope = Tape.Scope();
        var a = Tensor.From(ctx, av, shape);
        var b = Tensor.From(ctx, bv, shape);
        a.RequiresGrad = true;
        var d = loss.PerSample(a, b, texture);
        var dv = d.ToArray();
        F.Sum(d).Backward();
        return (dv[0], dv[1], a.Grad!.ToArray());
    }

    [TestCase(0f)]
    [TestCase(2f)]
    public void CpuMatchesTheFloat64ReferenceForwardAndBackward(float texture)
    {
        // the stem pool's (1, 0) padding runs through Pad2d (-infinity) on every size
        int[] shape = [2, 3, 32, 64];
        int n = shape.Aggregate(1, (x, y) => x * y);
        var av = Random(n, 1);
        var bv = av.Select((v, i) => Math.Clamp(v + 0.3f * Random(n, 2)[i], -1f, 1f)).ToArray();
        // ReLU's subgradient at inputs within float32 rounding of 0 is taken from the float64 run (KinkAlignedBackend)
        var rec = new KinkAlignedBackend.Recorder(new ReferenceBackend());
        var rf = Run(rec, av, bv, shape, texture);
        var kinks = new KinkAlignedBackend(new CpuBackend(), rec.Inputs);
        var cpu = Run(kinks, av, bv, shape, texture);
        TestContext.Out.WriteLine($"ReLU inputs aligned to float64 at the kink: {kinks.Aligned.Sum()} in {kinks.Aligned.Count} calls; other sign differences {kinks.Refused}");
        Assert.That(kinks.Aligned, Has.All.LessThanOrEqualTo(KinkAlignedBackend.MaxPerCall), "more than a few ReLU inputs rounded across the kink: the forward is off");
        Assert.That(kinks.Refused, Is.Zero, "ReLU inputs away from the kink have the wrong sign: the forward is off");
        double e0 = Math.Abs(cpu.dist0 - rf.dist0) / rf.dist0, e1 = Math.Abs(cpu.dist1 - rf.dist1) / rf.dist1;
        double eg = FixtureVerifier.RelL2(cpu.grad, rf.grad);
        TestContext.Out.WriteLine($"dist cpu ({cpu.dist0:F7}, {cpu.dist1:F7}) ref ({rf.dist0:F7}, {rf.dist1:F7}): rel {e0:E2}, {e1:E2}; input gradient rel L2 {eg:E2}");
        Assert.That(rf.dist0, Is.GreaterThan(0.01), "a non-trivial distance");
        Assert.That(Math.Max(e0, e1), Is.LessThan(1e-4), "forward, float32 bound");
        Assert.That(eg, Is.LessThan(1e-4), "input gradient");
    }

    [TestCase(0f)]
    [TestCase(2f)]
    public void ReferenceGradientMatchesFiniteDifferences(float texture)
    {
        using var ctx = new Context(new ReferenceBackend());
        var loss = new PerceptualLoss(Resnet18Onnx.Build(ctx, Model.Value));
        int[] shape = [1, 3, 32, 32];
        int n = shape.Aggregate(1, (x, y) => x * y);
        var a = Tensor.From(ctx, Random(n, 3), shape);
        var b = Tensor.From(ctx, Random(n, 4), shape);
        double err = GradCheck.MaxRelativeError(() => F.Mean(loss.PerSample(a, b, texture)), [a], h: 1e-4, maxElementsPerInput: 4);
        TestContext.Out.WriteLine($"max relative error vs finite differences {err:E2}");
        Assert.That(err, Is.LessThan(1e-4));
    }

    [Test]
    public void IdenticalImagesAreAtDistanceZeroAndEveryTermIsBounded()
    {
        using var ctx = new Context(new CpuBackend());
        var loss = new PerceptualLoss(Resnet18Onnx.Build(ctx, Model.Value));
        using var scope = Tape.Scope();
        int[] shape = [2, 3, 64, 64];
        var v = Random(2 * 3 * 64 * 64, 5);
        var same = loss.PerSample(Tensor.From(ctx, v, shape), Tensor.From(ctx, v, shape)).ToArray();
        Assert.That(same, Is.EqualTo(new[] { 0f, 0f }));
        // opposite extremes: each term is at most |u - v|^2 <= 4 for unit vectors of non-negative features (<= 2)
        var black = Enumerable.Repeat(-1f, v.Length).ToArray();
        var far = loss.PerSample(Tensor.From(ctx, v, shape), Tensor.From(ctx, black, shape)).ToArray();
        Assert.That(far, Has.All.GreaterThan(0f).And.All.LessThanOrEqualTo(2f));
    }

    [Test]
    public void OneTapDistanceIsTheHandComputedMeanOfSquaredUnitDifferences()
    {
        // the first tap alone: compute f = relu(stem(x)) with the same network, then the formula on the host in float64
        using var ctx = new Context(new CpuBackend());
        var net = Resnet18Onnx.Build(ctx, Model.Value);
        var loss = new PerceptualLoss(net, taps: 1);
        using var scope = Tape.Scope();
        int[] shape = [1, 3, 32, 36];
        int n = shape.Aggregate(1, (x, y) => x * y);
        var a = Tensor.From(ctx, Random(n, 6), shape);
        var b = Tensor.From(ctx, Random(n, 7), shape);
        float got = loss.PerSample(a, b).ToArray()[0];
        var fa = net.Features(net.Normalize(a), 1)[0];
        var fb = net.Features(net.Normalize(b), 1)[0];
        int c = fa[1], hw = fa[2] * fa[3];
        float[] xa = fa.ToArray(), xb = fb.ToArray();
        double sum = 0;
        for (int p = 0; p < hw; p++)
        {
            double na = 0, nb = 0;
            for (int k = 0; k < c; k++) { na += xa[k * hw + p] * (double)xa[k * hw + p]; nb += xb[k * hw + p] * (double)xb[k * hw + p]; }
            na = Math.Sqrt(na); nb = Math.Sqrt(nb);
            for (int k = 0; k < c; k++) { double d = xa[k * hw + p] / na - xb[k * hw + p] / nb; sum += d * d; }
        }
        double want = sum / hw;
        TestContext.Out.WriteLine($"one tap: {got:F7} vs hand {want:F7}");
        Assert.That(got, Is.EqualTo(want).Within(1e-4 * want));
    }

    [Test]
    public void OneTapTextureTermIsTheHandComputedMomentDistance()
    {
        // tap 1 alone, texture weight 1: the total is the unit-difference distance plus T_1; both in float64 on the host
        using var ctx = new Context(new CpuBackend());
        var net = Resnet18Onnx.Build(ctx, Model.Value);
        var loss = new PerceptualLoss(net, taps: 1);
        using var scope = Tape.Scope();
        int[] shape = [2, 3, 32, 36];
        int n = shape.Aggregate(1, (x, y) => x * y);
        var a = Tensor.From(ctx, Random(n, 8), shape);
        // b: a smoothed copy of a, as a blurred output is of its target (less feature energy)
        var av = a.ToArray();
        var bv = new float[n];
        int w = shape[3];
        for (int i = 0; i < n; i++) bv[i] = (av[i] + av[i % w == 0 ? i : i - 1] + av[i % w == w - 1 ? i : i + 1]) / 3f;
        var b = Tensor.From(ctx, bv, shape);
        float[] got = loss.PerSample(b, a, texture: 1f).ToArray(), dist = loss.PerSample(b, a).ToArray();
        var fb = net.Features(net.Normalize(b), 1)[0].ToArray();
        var fa = net.Features(net.Normalize(a), 1)[0].ToArray();
        int c = 64, hw = fb.Length / (2 * c);
        for (int s = 0; s < 2; s++)
        {
            double e = 0, t1 = 0, t2 = 0;
            for (int k = 0; k < c; k++)
            {
                double mb = 0, qb = 0, ma = 0, qa = 0;
                for (int p = 0; p < hw; p++)
                {
                    double x = fb[(s * c + k) * hw + p], y = fa[(s * c + k) * hw + p];
                    mb += x; qb += x * x; ma += y; qa += y * y;
                }
                mb /= hw; qb /= hw; ma /= hw; qa /= hw;
                e += qa; t1 += (mb - ma) * (mb - ma); t2 += (qb - qa) * (qb - qa);
            }
            double kk = 1 / (e / c + PerceptualLoss.TextureEps);
            double want = dist[s] + kk * t1 / c + kk * kk * t2 / c;
            TestContext.Out.WriteLine($"sample {s}: distance {dist[s]:F6}, with texture {got[s]:F6}, hand {want:F6}");
            Assert.That(got[s] - dist[s], Is.GreaterThan(1e-3), "the smoothed image lacks feature energy: a visible texture term");
            Assert.That(got[s], Is.EqualTo(want).Within(1e-4 * want));
        }
        Assert.That(loss.PerSample(a, a, texture: 5f).ToArray(), Is.EqualTo(new[] { 0f, 0f }), "identical images");
        Assert.That(() => loss.PerSample(a, b, texture: -1f), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void SizesTheNetworkCannotTakeAreRefusedWithTheSizeToUse()
    {
        using var ctx = new Context(new CpuBackend());
        var loss = new PerceptualLoss(Resnet18Onnx.Build(ctx, Model.Value));
        using var scope = Tape.Scope();
        foreach (var (h, w) in new[] { (16, 64), (32, 40) })
        {
            var t = Tensor.Zeros(ctx, 1, 3, h, w);
            Assert.That(() => loss.PerSample(t, t), Throws.ArgumentException.With.Message.Contains("multiples of 32"), $"{w}x{h}");
        }
    }
}
