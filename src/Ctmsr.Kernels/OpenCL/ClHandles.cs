using Microsoft.Win32.SafeHandles;

namespace Ctmsr.Kernels.OpenCL;

/// <summary>Reference-counted OpenCL objects, released by their clRelease* call.</summary>
public sealed class ClContextHandle() : SafeHandleZeroOrMinusOneIsInvalid(true)
{
    protected override bool ReleaseHandle() => ClNative.clReleaseContext(handle) == 0;
}

public sealed class ClQueueHandle() : SafeHandleZeroOrMinusOneIsInvalid(true)
{
    protected override bool ReleaseHandle() => ClNative.clReleaseCommandQueue(handle) == 0;
}

public sealed class ClMemHandle() : SafeHandleZeroOrMinusOneIsInvalid(true)
{
    protected override bool ReleaseHandle() => ClNative.clReleaseMemObject(handle) == 0;
}

public sealed class ClProgramHandle() : SafeHandleZeroOrMinusOneIsInvalid(true)
{
    protected override bool ReleaseHandle() => ClNative.clReleaseProgram(handle) == 0;
}

public sealed class ClKernelHandle() : SafeHandleZeroOrMinusOneIsInvalid(true)
{
    protected override bool ReleaseHandle() => ClNative.clReleaseKernel(handle) == 0;
}
