using Ctmsr.Kernels;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Model.Checkpoints;
using Ctmsr.Model.Verification;

namespace Ctmsr.Tests.Verification;

/// <summary>
/// The LeakyReLU kink alignment of `ctmsr verify` must not hide a real error: a sign that differs from float64 away from
/// the kink, or a shift of the inputs that moves many of them across it, fails the check although each alone might slip
/// under the gradient bound. A correct CPU forward aligns at most a few elements and passes.
/// </summary>
[NonParallelizable]
public sealed class KinkAlignmentTests
{
    static string Fixture => SharedData.Fixture("ctmsr_small.safetensors");

    static readonly Lazy<List<float[]>> Reference = new(() => FixtureVerifier.ReferenceKinkInputs(Fixture));

    static bool Report(List<Comparison> results, KinkAlignedBackend kinks)
    {
        var failed = results.Where(c => !c.Pass).ToList();
        TestContext.Out.WriteLine($"{failed.Count} of {results.Count} over the bound (worst {results.Max(c => c.RelativeError):E2}); aligned {string.Join(", ", kinks.Aligned)} per call, " +
                                  $"other sign differences {kinks.Refused}; problem: {kinks.Problem() ?? "none"}");
        return failed.Count == 0 && kinks.Problem() is null;
    }

    [Test]
    public void ACorrectForwardAlignsAFewElementsAndPasses()
    {
        using var cpu = new CpuBackend();
        var (results, kinks) = FixtureVerifier.RunKinkAligned(cpu, Fixture, Reference.Value);
        Assert.That(Report(results, kinks), Is.True);
        Assert.That(kinks.Aligned, Has.All.LessThanOrEqualTo(KinkAlignedBackend.MaxPerCall));
    }

    /// <summary>One input of the last LeakyReLU negated before the forward, at 1e-2 x RMS: 100x outside the band that
    /// is aligned, so it stays flipped; the alignment must say so even where no tensor crosses its bound.</summary>
    [Test]
    public void ASignFlippedAwayFromTheKinkFails()
    {
        using var faulty = new FlippedSignBackend(new CpuBackend(), call: 1, relative: 1e-2);
        var (results, kinks) = FixtureVerifier.RunKinkAligned(faulty, Fixture, Reference.Value);
        Assert.That(faulty.Flipped, Is.EqualTo(1));
        Assert.That(Report(results, kinks), Is.False);
        Assert.That(kinks.Refused, Is.EqualTo(1));
        Assert.That(kinks.Problem(), Does.Contain("away from the kink"));
    }

    /// <summary>conv_up1's bias (the first LeakyReLU's input) raised by 1e-3 x that input's RMS: many inputs cross the
    /// kink, near it and beyond, which the alignment must refuse rather than take from float64.</summary>
    [Test]
    public void APerturbedWeightBeforeTheKinkFails()
    {
        var r = Reference.Value[0];
        double rms = Math.Sqrt(r.Sum(v => (double)v * v) / r.Length);
        using var fx = SafetensorsFile.Open(Fixture);
        var weights = fx.ReadAll("param.");
        string name = weights.Keys.Single(k => k.EndsWith("conv_up1.bias", StringComparison.Ordinal));
        var b = weights[name].ToFloats();
        for (int i = 0; i < b.Length; i++) b[i] += (float)(1e-3 * rms);
        var perturbed = new Dictionary<string, HostTensor>(weights) { [name] = HostTensor.FromFloats(b, weights[name].Shape) };
        using var cpu = new CpuBackend();
        var (results, kinks) = FixtureVerifier.RunKinkAligned(cpu, Fixture, Reference.Value, perturbed);
        Assert.That(Report(results, kinks), Is.False);
        Assert.That(kinks.Problem(), Is.Not.Null, "the alignment noticed the forward is off");
    }

    /// <summary>Negates the input nearest <c>relative</c> x RMS in magnitude of the given LeakyReLU call (in place, so its
    /// backward sees it too).</summary>
    sealed class FlippedSignBackend(Backend inner, int call, double relative) : ForwardingBackend(inner)
    {
        int _calls;
        public int Flipped { get; private set; }

        public override void ActivationForward(Activation act, float slope, long count, DeviceBuffer x, DeviceBuffer y)
        {
            if (act == Activation.LeakyReLU && _calls++ == call)
            {
                var v = new float[count];
                Inner.Download(x, v);
                double target = relative * Math.Sqrt(v.Sum(e => (double)e * e) / v.Length);
                int at = 0;
                for (int i = 1; i < v.Length; i++) if (Math.Abs(Math.Abs(v[i]) - target) < Math.Abs(Math.Abs(v[at]) - target)) at = i;
                v[at] = -v[at];
                Inner.Upload(v, x);
                Flipped++;
            }
            Inner.ActivationForward(act, slope, count, x, y);
        }
    }
}
