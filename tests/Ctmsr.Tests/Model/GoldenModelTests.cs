using Ctmsr.Autograd;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Kernels;
using Ctmsr.Kernels.Reference;
using Ctmsr.Model.Checkpoints;
using Ctmsr.Model.Network;
using Ctmsr.Model.Verification;

namespace Ctmsr.Tests.Model;

/// <summary>
/// The denoiser against the authors' code: ../shared/fixtures/ctmsr_small.safetensors holds the output,
/// activations and every gradient of sum(D * G), computed in float64. Bounds (fixtures README):
/// relative L2 below 1e-4 for D and activations, below 1e-3 for gradients.
/// </summary>
/// <remarks>Runs on every registered device; the float64 reference's fixture is explicit (minutes), absent devices skip.</remarks>
[TestFixtureSource(typeof(TestDevices), nameof(TestDevices.AllOracleExplicit)), NonParallelizable]
public sealed class GoldenModelTests(string device)
{
    Backend CreateBackend() => TestDevices.OpenOrSkip(device);

    /// <summary>The fixture's network with its weights, in eval mode, capturing activations.</summary>
    static CtmsrNet LoadCapturing(Context ctx, SafetensorsFile fx)
    {
        var net = new CtmsrNet(ctx, CtmsrConfig.FromMetadata(fx.Metadata));
        ModelWeights.Load(net, fx.ReadAll("param."));
        net.Eval();
        net.Capture = new();
        return net;
    }

    /// <summary>D and every captured activation against the fixture: the ones at relative L2 1e-4 or more.</summary>
    static List<string> ForwardErrors(SafetensorsFile fx, CtmsrNet net, Tensor d)
    {
        var errors = new List<string>();
        double e = FixtureVerifier.RelL2(d.ToArray(), fx.Floats("output.D"));
        TestContext.Out.WriteLine($"output.D rel L2 {e:E2}");
        if (e >= 1e-4) errors.Add($"output.D {e:E2}");
        foreach (var name in fx.Names.Where(n => n.StartsWith("act.", StringComparison.Ordinal)))
        {
            string key = name[4..];
            Assert.That(net.Capture!.ContainsKey(key), $"activation {key} was not captured");
            double ea = FixtureVerifier.RelL2(net.Capture[key], fx.Floats(name));
            TestContext.Out.WriteLine($"{name} rel L2 {ea:E2}");
            if (ea >= 1e-4) errors.Add($"{name} {ea:E2}");
        }
        return errors;
    }

    /// <summary>The inference path (no tape: the fused GroupNorm+SiLU op) against the same fixture's output and activations.</summary>
    [Test]
    public void InferenceForwardWithoutATapeMatchesTheAuthorsCode()
    {
        using var fx = SafetensorsFile.Open(SharedData.Fixture("ctmsr_small.safetensors"));
        using var ctx = new Context(CreateBackend());
        var net = LoadCapturing(ctx, fx);
        using var noGrad = Tape.NoGrad();
        using var scope = Tape.Scope();
        var xh = fx.Get("input.x"); var lqh = fx.Get("input.lq");
        var x = Tensor.From(ctx, xh.ToFloats(), xh.Shape);
        var lq = Tensor.From(ctx, lqh.ToFloats(), lqh.Shape);
        var d = Precond.D(net, x, fx.Floats("input.sigma"), lq);
        var errors = ForwardErrors(fx, net, d);
        Assert.That(errors, Is.Empty);
    }

    /// <summary>The LeakyReLU inputs of the fixture's forward on the float64 reference backend (about 15-30 s, once).</summary>
    static readonly Lazy<List<float[]>> ReferenceLeakyInputs = new(() => FixtureVerifier.ReferenceKinkInputs(SharedData.Fixture("ctmsr_small.safetensors")));

    /// <summary>Forward, activations and every gradient against the fixture. The backward takes LeakyReLU's subgradient
    /// choice from the float64 forward at the few inputs that lie within float32 rounding of the kink
    /// (<see cref="KinkAlignedBackend"/>); the test requires them to be few and every other sign to agree.</summary>
    [Test]
    public void ForwardActivationsAndEveryGradientMatchTheAuthorsCode()
    {
        using var fx = SafetensorsFile.Open(SharedData.Fixture("ctmsr_small.safetensors"));
        var kinks = new KinkAlignedBackend(CreateBackend(), ReferenceLeakyInputs.Value);
        using var ctx = new Context(kinks);
        var net = LoadCapturing(ctx, fx);
        using var scope = Tape.Scope();
        var xh = fx.Get("input.x"); var lqh = fx.Get("input.lq");
        var x = Tensor.From(ctx, xh.ToFloats(), xh.Shape); x.RequiresGrad = true;
        var lq = Tensor.From(ctx, lqh.ToFloats(), lqh.Shape);
        var sigma = fx.Floats("input.sigma");
        var d = Precond.D(net, x, sigma, lq);

        var errors = ForwardErrors(fx, net, d);

        var g = fx.Get("grad_seed.G");
        d.Backward(Tensor.From(ctx, g.ToFloats(), g.Shape));
        double ex = FixtureVerifier.RelL2(x.Grad!.ToArray(), fx.Floats("grad.x"));
        TestContext.Out.WriteLine($"grad.x rel L2 {ex:E2}");
        if (ex >= 1e-3) errors.Add($"grad.x {ex:E2}");
        int checkedGrads = 0; double worst = 0;
        foreach (var (name, p) in net.NamedParameters())
        {
            string key = "grad." + ModelWeights.Prefix + name;
            Assert.That(fx.Contains(key), $"fixture has no {key}");
            Assert.That(p.Grad, Is.Not.Null, $"{name} received no gradient");
            double ep = FixtureVerifier.RelL2(p.Grad!.ToArray(), fx.Floats(key));
            worst = Math.Max(worst, ep);
            if (ep >= 1e-4) TestContext.Out.WriteLine($"{key} [{string.Join(",", p.Grad!.Shape)}] rel L2 {ep:E2}");
            if (ep >= 1e-3) errors.Add($"{key} {ep:E2}");
            checkedGrads++;
        }
        TestContext.Out.WriteLine($"{checkedGrads} parameter gradients, worst rel L2 {worst:E2}");
        TestContext.Out.WriteLine($"LeakyReLU inputs within {KinkAlignedBackend.Undecided:0e0} x RMS of the kink whose sign was taken from float64: {string.Join(", ", kinks.Aligned)} (per call); other sign differences: {kinks.Refused}");
        Assert.That(kinks.Aligned, Has.Count.EqualTo(ReferenceLeakyInputs.Value.Count), "a LeakyReLU backward was not seen");
        Assert.That(kinks.Aligned, Has.All.LessThanOrEqualTo(KinkAlignedBackend.MaxPerCall), "more than a few LeakyReLU inputs rounded across the kink: the forward is off");
        Assert.That(kinks.Refused, Is.Zero, "LeakyReLU inputs away from the kink have the wrong sign: the forward is off");
        Assert.That(errors, Is.Empty);
        net.ZeroGrad();
    }
}
