using System.Reflection;
using Ctmsr.Kernels;
using Ctmsr.Kernels.Conformance;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Model.Verification;

namespace Ctmsr.Tests.Verification;

/// <summary>
/// `ctmsr selfcheck`'s engine on every registered device but the oracle: every op conformance case passes against the
/// float64 reference (bounds in OpConformance: 1e-5 relative L2, 1e-6 elementwise, 1e-4 long sums), and the golden half
/// passes on the small fixture. Absent devices skip with the reason.
/// </summary>
[TestFixtureSource(typeof(TestDevices), nameof(TestDevices.Checked)), NonParallelizable]
public sealed class SelfCheckTests(string device)
{
    Backend CreateBackend() => TestDevices.OpenOrSkip(device);

    [Test]
    public void EveryOpConformanceCasePasses()
    {
        using var backend = CreateBackend();
        var rows = SelfCheck.Run(backend).ToList();
        Assert.That(rows, Has.Count.EqualTo(OpConformance.Cases.Count));
        foreach (var r in rows.Where(r => r.Error > r.Tolerance / 10))
            TestContext.Out.WriteLine($"{r.Check} {r.Shape}: {r.Error:E2} (bound {r.Tolerance:0e0})");
        var failed = rows.Where(r => !r.Pass).Select(r => $"{r.Check} {r.Shape}: {r.Error:E2} {r.Failure}").ToList();
        Assert.That(failed, Is.Empty);
    }

    /// <summary>selfcheck with the full fixture (every parameter gradient): LeakyReLU's kink aligned to a float64 forward
    /// as `ctmsr verify` does, one row saying so, every gradient within 1e-3 (the CPU's direct route rounds one input
    /// across 0, which alone put eight bias gradients past the bound). CPU only: the float64 forward takes ~30 s.</summary>
    [Test]
    public void GoldenFullFixturePassesWithTheKinkAligned()
    {
        Assume.That(device, Is.EqualTo("cpu"), "the full fixture's float64 forward is run once, for the CPU");
        var path = SharedData.Fixture("ctmsr_small.safetensors");
        using var backend = CreateBackend();
        var rows = SelfCheck.Run(backend, path, _ => false).ToList();
        Assert.That(rows.Select(r => r.Check).Distinct(), Is.EquivalentTo(new[] { "golden kink alignment", "golden forward", "golden gradients" }));
        Assert.That(rows.Where(r => !r.Pass).Select(r => $"{r.Check} {r.Shape} {r.Error:E2} {r.Failure}"), Is.Empty);
        Assert.That(rows.Single(r => r.Check == "golden gradients").Shape, Does.StartWith("58"), "every parameter gradient compared");
    }

    /// <summary>The golden half of selfcheck: the small fixture (batch 1) through FixtureVerifier, bounds 1e-4 / 1e-3.</summary>
    [Test]
    public void GoldenLiteFixturePasses()
    {
        var path = SharedData.Fixture("ctmsr_small_lite.safetensors");
        using var backend = CreateBackend();
        var rows = SelfCheck.Run(backend, path, _ => false).ToList();
        Assert.That(rows.Select(r => r.Check), Is.EquivalentTo(new[] { "golden forward", "golden gradients" }));
        Assert.That(rows.Where(r => !r.Pass), Is.Empty);
    }
}

/// <summary>Every op of the catalogue (each abstract method of <see cref="Backend"/> but memory management and the precision setting, and each
/// virtual op with a composed default, such as GroupNormSiluForward) has a conformance case, so `ctmsr selfcheck` and the
/// per-device op suite cover it; case names are unique.</summary>
public sealed class ConformanceCoverageTests
{
    [Test]
    public void TheCasesCoverEveryOpOfTheCatalogue()
    {
        string[] memory = ["Allocate", "Upload", "Download", "Synchronize", "Dispose", "PrecisionUnsupported", "SetPrecision", "Conv2dForwardScratchBytes"]; // memory management, configuration and memory planning
        var ops = typeof(Backend).GetMethods(BindingFlags.Public | BindingFlags.Instance)
            .Where(m => m.IsVirtual && m.DeclaringType == typeof(Backend) && !m.IsSpecialName && !memory.Contains(m.Name)).Select(m => m.Name).ToHashSet();
        Assert.That(ops, Does.Contain("GroupNormSiluForward"));
        Assert.That(ops, Has.Count.GreaterThan(30));
        Assert.That(ops.Except(OpConformance.Cases.Select(c => c.Op)), Is.Empty, "ops without a conformance case");
        Assert.That(OpConformance.Cases.Select(c => c.ToString()), Is.Unique, "two cases with one name");
    }
}

/// <summary>The check can fail: a backend that corrupts one op's output (one element, +1) fails exactly that op's cases.</summary>
public sealed class SelfCheckFaultInjectionTests
{
    sealed class Corrupting(Backend inner, string victim) : Ops.InterceptingBackend(inner)
    {
        protected override void Op(string name, string shape, DeviceBuffer?[] reads, DeviceBuffer[] writes, Action<Backend, Func<DeviceBuffer, DeviceBuffer>> run)
        {
            run(Inner, b => b);
            if (name != victim) return;
            var first = new float[1];
            Inner.Download(writes[0], first);
            first[0] += 1f;
            Inner.Upload(first, writes[0]);
        }
    }

    [TestCase("Gemm"), TestCase("Conv2dBackwardWeight"), TestCase("GroupNormBackward"), TestCase("SumRows"),
     TestCase("WindowAttentionBackward"), TestCase("CopyStrided"), TestCase("FillNormal")]
    public void OnlyTheCorruptedOpFails(string victim)
    {
        using var backend = new Corrupting(new CpuBackend(), victim);
        var rows = SelfCheck.Run(backend).ToList();
        var failedOps = rows.Where(r => !r.Pass).Select(r => r.Check).Distinct().ToList();
        Assert.That(failedOps, Is.EqualTo(new[] { victim }));
        Assert.That(rows.Count(r => !r.Pass), Is.EqualTo(OpConformance.Cases.Count(c => c.Op == victim)), "every case of the corrupted op fails");
    }
}
