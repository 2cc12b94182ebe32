using Ctmsr.Kernels;

namespace Ctmsr.Tests.Gpu;

/// <summary>The golden model check (Model/GoldenModelTests, same bounds) on OpenCL device 0; skips where no OpenCL platform is present.</summary>
[TestFixture, NonParallelizable]
public sealed class OpenClGoldenModelTests : Model.GoldenModelTests
{
    protected override Backend CreateBackend()
        => TestDevices.OpenClOrSkip();
}
