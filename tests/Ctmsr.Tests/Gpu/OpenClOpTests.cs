using Ctmsr.Kernels;
using Ctmsr.Kernels.OpenCL;

namespace Ctmsr.Tests.Gpu;

/// <summary>The generic per-backend op suite (Ops/BackendOpTests) on OpenCL device 0; skips where no OpenCL platform is present.</summary>
[TestFixture, NonParallelizable]
public sealed class OpenClOpTests : Ops.BackendOpTests
{
    protected override Backend CreateBackend()
    {
        try { return new OpenClBackend(0); }
        catch (OpenClException e) { Assert.Ignore("no OpenCL: " + e.Message); throw; }
    }
}
