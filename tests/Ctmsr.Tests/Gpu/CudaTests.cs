using Ctmsr.Kernels;

namespace Ctmsr.Tests.Gpu;

/// <summary>The generic op suite (Ops/BackendOpTests) on CUDA device 0; skips where no NVIDIA driver or GPU is present.</summary>
[TestFixture, NonParallelizable]
public sealed class CudaOpTests : Ops.BackendOpTests
{
    protected override Backend CreateBackend() => TestDevices.CudaOrSkip();
}

/// <summary>The golden model check (Model/GoldenModelTests, same bounds) on CUDA device 0; skips without CUDA.</summary>
[TestFixture, NonParallelizable]
public sealed class CudaGoldenModelTests : Model.GoldenModelTests
{
    protected override Backend CreateBackend() => TestDevices.CudaOrSkip();
}

/// <summary>`ctmsr selfcheck`'s engine on CUDA device 0; skips without CUDA.</summary>
[TestFixture, NonParallelizable]
public sealed class CudaSelfCheckTests : Verification.SelfCheckTests
{
    protected override Backend CreateBackend() => TestDevices.CudaOrSkip();
}
