using Ctmsr.Autograd;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Kernels.Reference;
using Ctmsr.Model.Checkpoints;
using Ctmsr.Model.Lpips;
using Ctmsr.Tests.Model;
using Ctmsr.Model.Verification;

namespace Ctmsr.Tests.Metrics;

/// <summary>
/// LPIPS v0.1 against the reference implementation (ops.safetensors lpips_vgg.* / lpips_alex.*: float64 runs of the
/// lpips package with the real heads and formula-defined backbones), plus closed forms and finite differences.
/// </summary>
public class LpipsTests
{
    static string HeadFile(LpipsBackbone b) => SharedData.Path_($"weights/lpips-v0.1/{(b == LpipsBackbone.Vgg16 ? "vgg" : "alex")}.pth");
    static string Prefix(LpipsBackbone b) => b == LpipsBackbone.Vgg16 ? "lpips_vgg." : "lpips_alex.";

    [TestCase(LpipsBackbone.Vgg16)]
    [TestCase(LpipsBackbone.Alex)]
    public void DistanceAndInputGradientMatchTheReference(LpipsBackbone backbone)
    {
        using var fx = SafetensorsFile.Open(SharedData.Fixture("ops.safetensors"));
        string p = Prefix(backbone);
        using var ctx = new Context(new CpuBackend());
        var net = new Lpips(ctx, backbone);
        net.LoadBackbone(LpipsFormulaWeights.Build(backbone), "formula weights");
        net.LoadHeads(CheckpointFiles.LoadStateDict(HeadFile(backbone)), "lpips-v0.1 heads");
        using var scope = Tape.Scope();
        var h0 = fx.Get(p + "in0");
        var in0 = Tensor.From(ctx, h0.ToFloats(), h0.Shape);
        var in1 = Tensor.From(ctx, fx.Floats(p + "in1"), h0.Shape);
        in0.RequiresGrad = true;
        var dist = net.PerSample(in0, in1);
        var want = fx.Floats(p + "dist");
        var got = dist.ToArray();
        double eD = FixtureVerifier.RelL2(got, want);
        F.Sum(dist).Backward();
        double eG = FixtureVerifier.RelL2(in0.Grad!.ToArray(), fx.Floats(p + "grad_in0"));
        TestContext.Out.WriteLine($"{backbone}: dist [{string.Join(", ", got)}] vs [{string.Join(", ", want)}], rel {eD:E2}; grad_in0 rel L2 {eG:E2}");
        Assert.That(eD, Is.LessThan(1e-4), "dist");
        Assert.That(eG, Is.LessThan(1e-3), "grad_in0");
    }

    [TestCase(LpipsBackbone.Vgg16)]
    [TestCase(LpipsBackbone.Alex)]
    public void HeadFileHoldsTheFixtureHeads(LpipsBackbone backbone)
    {
        using var fx = SafetensorsFile.Open(SharedData.Fixture("ops.safetensors"));
        var heads = CheckpointFiles.LoadStateDict(HeadFile(backbone));
        for (int k = 0; k < 5; k++)
            Assert.That(heads[Lpips.HeadKey(k)].ToFloats(), Is.EqualTo(fx.Floats(Prefix(backbone) + Lpips.HeadKey(k))), Lpips.HeadKey(k));
    }

    [Test]
    public void IdenticalInputsAreAtDistanceZero()
    {
        using var ctx = new Context(new CpuBackend());
        var net = new Lpips(ctx, LpipsBackbone.Alex);
        net.LoadBackbone(LpipsFormulaWeights.Build(LpipsBackbone.Alex));
        net.LoadHeads(CheckpointFiles.LoadStateDict(HeadFile(LpipsBackbone.Alex)));
        using var scope = Tape.Scope();
        var rng = new Random(3);
        var v = Enumerable.Range(0, 2 * 3 * 40 * 36).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var a = Tensor.From(ctx, v, 2, 3, 40, 36);
        var b = Tensor.From(ctx, v, 2, 3, 40, 36);
        Assert.That(net.PerSample(a, b).ToArray(), Is.EqualTo(new[] { 0f, 0f }));
    }

    [Test]
    public void GradientMatchesFloat64FiniteDifferences()
    {
        // a tiny VGG-style check on the float64 backend: random weights, 16x16 input (the smallest VGG accepts)
        using var ctx = new Context(new ReferenceBackend());
        var net = new Lpips(ctx, LpipsBackbone.Vgg16);
        var rng = new Random(5);
        var sd = new Dictionary<string, HostTensor>();
        foreach (var (name, t) in net.NamedParameters())
        {
            var v = new float[t.Count];
            double amp = name.StartsWith("lin") ? 1.0 : Math.Sqrt(6.0 / (t.Count / t.Shape[0]));
            for (int i = 0; i < v.Length; i++) v[i] = (float)(name.StartsWith("lin") ? rng.NextDouble() : amp * (2 * rng.NextDouble() - 1));
            sd[name] = HostTensor.FromFloats(v, t.Shape);
        }
        net.LoadBackbone(sd);
        net.LoadHeads(sd);
        var a = Tensor.From(ctx, Enumerable.Range(0, 3 * 16 * 16).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray(), 1, 3, 16, 16);
        var b = Tensor.From(ctx, Enumerable.Range(0, 3 * 16 * 16).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray(), 1, 3, 16, 16);
        double err = GradCheck.MaxRelativeError(() => net.Mean(a, b), [a], h: 1e-6, maxElementsPerInput: 6);
        TestContext.Out.WriteLine($"max relative error {err:E2}");
        Assert.That(err, Is.LessThan(1e-5));
    }
}
