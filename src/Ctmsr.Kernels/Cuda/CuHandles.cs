using Microsoft.Win32.SafeHandles;

namespace Ctmsr.Kernels.Cuda;

/// <summary>A retained primary context of one device, released with cuDevicePrimaryCtxRelease.</summary>
sealed class CuPrimaryContextHandle(int device) : SafeHandleZeroOrMinusOneIsInvalid(true)
{
    public void Set(nint ctx) => SetHandle(ctx);
    protected override bool ReleaseHandle() => CuNative.cuDevicePrimaryCtxRelease_v2(device) == 0;
}

/// <summary>A stream of a context, destroyed with that context made current.</summary>
sealed class CuStreamHandle(nint context) : SafeHandleZeroOrMinusOneIsInvalid(true)
{
    public void Set(nint stream) => SetHandle(stream);
    protected override bool ReleaseHandle() => CuNative.cuCtxSetCurrent(context) == 0 && CuNative.cuStreamDestroy_v2(handle) == 0;
}

/// <summary>A loaded module (PTX), unloaded with its context made current.</summary>
sealed class CuModuleHandle(nint context) : SafeHandleZeroOrMinusOneIsInvalid(true)
{
    public void Set(nint module) => SetHandle(module);
    protected override bool ReleaseHandle() => CuNative.cuCtxSetCurrent(context) == 0 && CuNative.cuModuleUnload(handle) == 0;
}
