using Ctmsr.Kernels;
using Ctmsr.Kernels.Cuda;

namespace Ctmsr.Tests.Gpu;

/// <summary>Opens CUDA device 0 for the per-backend suites, or skips the fixture with the reason (no driver, no GPU).</summary>
static class CudaDevice
{
    public static Backend OpenOrSkip()
    {
        try { return Devices.Create("cuda:0"); }
        catch (Exception e) when (e is DeviceUnavailableException or CudaException or DllNotFoundException)
        {
            Assert.Ignore("no CUDA: " + e.Message);
            throw;
        }
    }
}

/// <summary>The generic op suite (Ops/BackendOpTests) on CUDA device 0; skips where no NVIDIA driver or GPU is present.</summary>
[TestFixture, NonParallelizable]
public sealed class CudaOpTests : Ops.BackendOpTests
{
    protected override Backend CreateBackend() => CudaDevice.OpenOrSkip();
}

/// <summary>The golden model check (Model/GoldenModelTests, same bounds) on CUDA device 0; skips without CUDA.</summary>
[TestFixture, NonParallelizable]
public sealed class CudaGoldenModelTests : Model.GoldenModelTests
{
    protected override Backend CreateBackend() => CudaDevice.OpenOrSkip();
}

/// <summary>`ctmsr selfcheck`'s engine on CUDA device 0; skips without CUDA.</summary>
[TestFixture, NonParallelizable]
public sealed class CudaSelfCheckTests : Verification.SelfCheckTests
{
    protected override Backend CreateBackend() => CudaDevice.OpenOrSkip();
}
