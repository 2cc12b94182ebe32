using System.Runtime.InteropServices;

namespace Ctmsr.Kernels.OpenCL;

/// <summary>The OpenCL 1.2 entry points Ctmsr uses, bound to the ICD loader (ocl-icd's libOpenCL.so.1).</summary>
static unsafe partial class ClNative
{
    const string Lib = "libOpenCL.so.1";

    public const int CL_SUCCESS = 0;
    public const ulong CL_DEVICE_TYPE_ALL = 0xFFFFFFFF;
    public const uint CL_PLATFORM_VERSION = 0x0901, CL_PLATFORM_NAME = 0x0902, CL_PLATFORM_VENDOR = 0x0903;
    public const uint CL_DEVICE_TYPE = 0x1000, CL_DEVICE_MAX_COMPUTE_UNITS = 0x1002, CL_DEVICE_MAX_WORK_GROUP_SIZE = 0x1004,
        CL_DEVICE_MAX_MEM_ALLOC_SIZE = 0x1010, CL_DEVICE_GLOBAL_MEM_SIZE = 0x101F, CL_DEVICE_LOCAL_MEM_SIZE = 0x1023,
        CL_DEVICE_NAME = 0x102B, CL_DEVICE_VENDOR = 0x102C, CL_DRIVER_VERSION = 0x102D, CL_DEVICE_VERSION = 0x102F;
    public const ulong CL_DEVICE_TYPE_CPU = 1 << 1, CL_DEVICE_TYPE_GPU = 1 << 2, CL_DEVICE_TYPE_ACCELERATOR = 1 << 3;
    public const ulong CL_QUEUE_PROFILING_ENABLE = 1 << 1;
    public const ulong CL_MEM_READ_WRITE = 1;
    public const uint CL_PROGRAM_NUM_DEVICES = 0x1162, CL_PROGRAM_BINARY_SIZES = 0x1165, CL_PROGRAM_BINARIES = 0x1166;
    public const uint CL_PROGRAM_BUILD_LOG = 0x1183;
    public const uint CL_PROFILING_COMMAND_START = 0x1282, CL_PROFILING_COMMAND_END = 0x1283;

    [LibraryImport(Lib)] public static partial int clGetPlatformIDs(uint numEntries, nint* platforms, uint* numPlatforms);
    [LibraryImport(Lib)] public static partial int clGetPlatformInfo(nint platform, uint param, nuint size, void* value, nuint* sizeRet);
    [LibraryImport(Lib)] public static partial int clGetDeviceIDs(nint platform, ulong type, uint numEntries, nint* devices, uint* numDevices);
    [LibraryImport(Lib)] public static partial int clGetDeviceInfo(nint device, uint param, nuint size, void* value, nuint* sizeRet);

    [LibraryImport(Lib)] public static partial ClContextHandle clCreateContext(nint* properties, uint numDevices, nint* devices, nint notify, nint userData, int* errcode);
    [LibraryImport(Lib)] public static partial int clReleaseContext(nint context);
    [LibraryImport(Lib)] public static partial ClQueueHandle clCreateCommandQueue(ClContextHandle context, nint device, ulong properties, int* errcode);
    [LibraryImport(Lib)] public static partial int clReleaseCommandQueue(nint queue);
    [LibraryImport(Lib)] public static partial int clFinish(ClQueueHandle queue);
    [LibraryImport(Lib)] public static partial int clFlush(ClQueueHandle queue);

    [LibraryImport(Lib)] public static partial ClMemHandle clCreateBuffer(ClContextHandle context, ulong flags, nuint size, void* host, int* errcode);
    [LibraryImport(Lib)] public static partial int clReleaseMemObject(nint mem);
    [LibraryImport(Lib)] public static partial int clEnqueueWriteBuffer(ClQueueHandle queue, ClMemHandle buffer, uint blocking, nuint offset, nuint size, void* ptr, uint numWait, nint* waitList, nint* evt);
    [LibraryImport(Lib)] public static partial int clEnqueueReadBuffer(ClQueueHandle queue, ClMemHandle buffer, uint blocking, nuint offset, nuint size, void* ptr, uint numWait, nint* waitList, nint* evt);

    [LibraryImport(Lib)] public static partial ClProgramHandle clCreateProgramWithSource(ClContextHandle context, uint count, byte** strings, nuint* lengths, int* errcode);
    [LibraryImport(Lib)] public static partial ClProgramHandle clCreateProgramWithBinary(ClContextHandle context, uint numDevices, nint* devices, nuint* lengths, byte** binaries, int* binaryStatus, int* errcode);
    [LibraryImport(Lib)] public static partial int clBuildProgram(ClProgramHandle program, uint numDevices, nint* devices, byte* options, nint notify, nint userData);
    [LibraryImport(Lib)] public static partial int clGetProgramBuildInfo(ClProgramHandle program, nint device, uint param, nuint size, void* value, nuint* sizeRet);
    [LibraryImport(Lib)] public static partial int clGetProgramInfo(ClProgramHandle program, uint param, nuint size, void* value, nuint* sizeRet);
    [LibraryImport(Lib)] public static partial int clReleaseProgram(nint program);

    [LibraryImport(Lib)] public static partial ClKernelHandle clCreateKernel(ClProgramHandle program, byte* name, int* errcode);
    [LibraryImport(Lib)] public static partial int clReleaseKernel(nint kernel);
    [LibraryImport(Lib)] public static partial int clSetKernelArg(ClKernelHandle kernel, uint index, nuint size, void* value);
    [LibraryImport(Lib)] public static partial int clEnqueueNDRangeKernel(ClQueueHandle queue, ClKernelHandle kernel, uint workDim, nuint* offset, nuint* global, nuint* local, uint numWait, nint* waitList, nint* evt);

    [LibraryImport(Lib)] public static partial int clEnqueueMarkerWithWaitList(ClQueueHandle queue, uint numWait, nint* waitList, nint* evt);
    [LibraryImport(Lib)] public static partial int clWaitForEvents(uint numEvents, nint* events);
    [LibraryImport(Lib)] public static partial int clGetEventProfilingInfo(nint evt, uint param, nuint size, void* value, nuint* sizeRet);
    [LibraryImport(Lib)] public static partial int clReleaseEvent(nint evt);
}
