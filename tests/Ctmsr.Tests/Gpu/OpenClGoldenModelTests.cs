using Ctmsr.Kernels;
using Ctmsr.Kernels.OpenCL;

namespace Ctmsr.Tests.Gpu;

/// <summary>The golden model check (Model/GoldenModelTests, same bounds) on OpenCL device 0; skips where no OpenCL platform is present.</summary>
[TestFixture, NonParallelizable]
public sealed class OpenClGoldenModelTests : Model.GoldenModelTests
{
    protected override Backend CreateBackend()
    {
        try { return new OpenClBackend(0); }
        catch (OpenClException e) { Assert.Ignore("no OpenCL: " + e.Message); throw; }
    }
}
