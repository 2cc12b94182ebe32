using Ctmsr.Kernels;
using Ctmsr.Kernels.Conformance;
using Ctmsr.Kernels.Ilgpu;
using Ctmsr.Train.Verification;

namespace Ctmsr.Tests.Ilgpu;

// The per-backend suites on the ILGPU kernels: ILGPU-OpenCL (PoCL 6 in CI, found by OpenClLoader without exports) and
// ILGPU-CUDA (a GPU machine). Each skips with the reason its device is absent.

/// <summary>Every op of the catalogue against the float64 reference (OpConformance, the bounds selfcheck uses) on ILGPU-OpenCL.</summary>
[TestFixture, NonParallelizable]
public sealed class IlgpuOpenClOpTests : Ops.BackendOpTests
{
    protected override Backend CreateBackend() => TestDevices.IlgpuOrSkip("opencl");
}

/// <summary>The full ctmsr_small golden model (output, activations, every parameter gradient) on ILGPU-OpenCL.</summary>
[TestFixture, NonParallelizable]
public sealed class IlgpuOpenClGoldenModelTests : Model.GoldenModelTests
{
    protected override Backend CreateBackend() => TestDevices.IlgpuOrSkip("opencl");
}

/// <summary>selfcheck's golden half (ctmsr_small_lite through FixtureVerifier, as `ctmsr verify` runs it) on ILGPU-OpenCL.</summary>
[TestFixture, NonParallelizable]
public sealed class IlgpuOpenClVerifyTests
{
    [Test]
    public void GoldenLiteFixturePasses()
    {
        using var backend = TestDevices.IlgpuOrSkip("opencl");
        var rows = SelfCheck.Run(backend, SharedData.Fixture("ctmsr_small_lite.safetensors"), _ => false).ToList();
        foreach (var r in rows) TestContext.Out.WriteLine($"{r.Check}: {r.Error:E2} (bound {r.Tolerance:0e0})");
        Assert.That(rows.Select(r => r.Check), Is.EquivalentTo(new[] { "golden forward", "golden gradients" }));
        Assert.That(rows.Where(r => !r.Pass).Select(r => $"{r.Check} {r.Error:E2} {r.Failure}"), Is.Empty);
    }
}

[TestFixture, NonParallelizable]
public sealed class IlgpuCudaOpTests : Ops.BackendOpTests
{
    protected override Backend CreateBackend() => TestDevices.IlgpuOrSkip("cuda");
}

[TestFixture, NonParallelizable]
public sealed class IlgpuCudaGoldenModelTests : Model.GoldenModelTests
{
    protected override Backend CreateBackend() => TestDevices.IlgpuOrSkip("cuda");
}
