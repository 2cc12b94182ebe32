using System.Runtime.InteropServices;

namespace Ctmsr.Kernels.Cuda;

/// <summary>The CUDA driver API entry points Ctmsr uses (libcuda.so.1, installed with the NVIDIA driver).</summary>
static unsafe partial class CuNative
{
    public const string Lib = "libcuda.so.1";

    public const int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK = 8, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16,
        CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;

    [LibraryImport(Lib)] public static partial int cuInit(uint flags);
    [LibraryImport(Lib)] public static partial int cuDriverGetVersion(int* version);
    [LibraryImport(Lib)] public static partial int cuGetErrorName(int error, byte** name);
    [LibraryImport(Lib)] public static partial int cuDeviceGetCount(int* count);
    [LibraryImport(Lib)] public static partial int cuDeviceGet(int* device, int ordinal);
    [LibraryImport(Lib)] public static partial int cuDeviceGetName(byte* name, int len, int device);
    [LibraryImport(Lib)] public static partial int cuDeviceTotalMem_v2(nuint* bytes, int device);
    [LibraryImport(Lib)] public static partial int cuDeviceGetAttribute(int* value, int attribute, int device);
    [LibraryImport(Lib)] public static partial int cuDevicePrimaryCtxRetain(nint* ctx, int device);
    [LibraryImport(Lib)] public static partial int cuDevicePrimaryCtxRelease_v2(int device);
    [LibraryImport(Lib)] public static partial int cuCtxSetCurrent(nint ctx);
    [LibraryImport(Lib)] public static partial int cuStreamCreate(nint* stream, uint flags);
    [LibraryImport(Lib)] public static partial int cuStreamDestroy_v2(nint stream);
    [LibraryImport(Lib)] public static partial int cuStreamSynchronize(nint stream);
    [LibraryImport(Lib)] public static partial int cuMemAlloc_v2(ulong* dptr, nuint bytes);
    [LibraryImport(Lib)] public static partial int cuMemGetInfo_v2(nuint* free, nuint* total);
    [LibraryImport(Lib)] public static partial int cuMemFree_v2(ulong dptr);
    [LibraryImport(Lib)] public static partial int cuMemcpyHtoDAsync_v2(ulong dst, void* src, nuint bytes, nint stream);
    [LibraryImport(Lib)] public static partial int cuMemcpyDtoHAsync_v2(void* dst, ulong src, nuint bytes, nint stream);
    [LibraryImport(Lib)] public static partial int cuModuleLoadData(nint* module, void* image);
    [LibraryImport(Lib)] public static partial int cuModuleUnload(nint module);
    [LibraryImport(Lib)] public static partial int cuModuleGetFunction(nint* function, nint module, byte* name);
    [LibraryImport(Lib)] public static partial int cuLaunchKernel(nint f, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ,
        uint sharedBytes, nint stream, void** kernelParams, void** extra);
    [LibraryImport(Lib)] public static partial int cuEventCreate(nint* evt, uint flags);
    [LibraryImport(Lib)] public static partial int cuEventRecord(nint evt, nint stream);
    [LibraryImport(Lib)] public static partial int cuEventSynchronize(nint evt);
    [LibraryImport(Lib)] public static partial int cuEventElapsedTime(float* ms, nint start, nint end);
    [LibraryImport(Lib)] public static partial int cuEventDestroy_v2(nint evt);
}

/// <summary>A CUDA driver call that returned an error.</summary>
public sealed class CudaException(string message) : Exception(message);

static unsafe class CuStatus
{
    public static void Check(int status, string call, string? detail = null)
    {
        if (status != 0) throw Error(status, call, detail);
    }

    /// <summary>The exception for a failed call: <see cref="DeviceOutOfMemoryException"/> (the CudaException inside) for
    /// CUDA_ERROR_OUT_OF_MEMORY, else a <see cref="CudaException"/>.</summary>
    public static Exception Error(int status, string call, string? detail = null)
    {
        var e = Plain(status, call, detail);
        return status == OutOfMemory ? new DeviceOutOfMemoryException(e.Message, e) : e;
    }

    const int OutOfMemory = 2; // CUDA_ERROR_OUT_OF_MEMORY

    static CudaException Plain(int status, string call, string? detail)
    {
        string name = "CUDA_ERROR_" + status;
        try
        {
            byte* p = null;
            if (CuNative.cuGetErrorName(status, &p) == 0 && p != null) name = Marshal.PtrToStringUTF8((nint)p) ?? name;
        }
        catch (DllNotFoundException) { }
        return new CudaException($"CUDA {call} failed with {name} ({status}){(detail is null ? "" : ": " + detail)}; {Hint(status)}");
    }

    static string Hint(int status) => status switch
    {
        2 => "the GPU ran out of memory: reduce the batch or tile size, or free the GPU from other processes (nvidia-smi)",
        3 or 4 => "the CUDA driver is not initialised or is shutting down: restart the program",
        35 => "the NVIDIA driver is older than this CUDA code needs: update the driver",
        100 => "no CUDA-capable GPU is visible: check nvidia-smi and CUDA_VISIBLE_DEVICES, or use --device cpu or opencl",
        101 => "that GPU index does not exist: run 'ctmsr devices' to list them",
        218 or 222 => "the driver cannot load the PTX NVRTC produced (NVRTC newer than the driver): update the NVIDIA driver or install an NVRTC matching it",
        500 => "a kernel is missing from the compiled module: this is a bug in Ctmsr's kernel sources",
        700 or 701 or 719 => "a kernel failed on the GPU (the context is now unusable): restart; report it with the op and shapes, or use --device cpu",
        _ => "this is a bug in Ctmsr's CUDA backend or the driver: report it with the GPU name, or use --device cpu or opencl",
    };
}
