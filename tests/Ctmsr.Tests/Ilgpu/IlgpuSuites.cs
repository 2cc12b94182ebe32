using Ctmsr.Model.Verification;

namespace Ctmsr.Tests.Ilgpu;

// The op suite, the golden model and the image filters run on the ILGPU devices through the registry's per-device
// fixtures (TestDevices); this is what `ctmsr verify` adds on ILGPU-OpenCL (PoCL 6 in CI, found without exports).

/// <summary>selfcheck's golden half (ctmsr_small_lite through FixtureVerifier, as `ctmsr verify` runs it) on ILGPU-OpenCL.</summary>
[TestFixture, NonParallelizable]
public sealed class IlgpuOpenClVerifyTests
{
    [Test]
    public void GoldenLiteFixturePasses()
    {
        using var backend = TestDevices.OpenOrSkip("opencl:0");
        var rows = SelfCheck.Run(backend, SharedData.Fixture("ctmsr_small_lite.safetensors"), _ => false).ToList();
        foreach (var r in rows) TestContext.Out.WriteLine($"{r.Check}: {r.Error:E2} (bound {r.Tolerance:0e0})");
        Assert.That(rows.Select(r => r.Check), Is.EquivalentTo(new[] { "golden forward", "golden gradients" }));
        Assert.That(rows.Where(r => !r.Pass).Select(r => $"{r.Check} {r.Error:E2} {r.Failure}"), Is.Empty);
    }
}
