using Ctmsr.Kernels;

namespace Ctmsr.Tests.Gpu;

/// <summary>The generic per-backend op suite (Ops/BackendOpTests) on OpenCL device 0; skips where no OpenCL platform is present.</summary>
[TestFixture, NonParallelizable]
public sealed class OpenClOpTests : Ops.BackendOpTests
{
    protected override Backend CreateBackend()
        => TestDevices.OpenClOrSkip();
}
