namespace Ctmsr.Kernels.OpenCL;

/// <summary>An OpenCL call that returned an error status.</summary>
public sealed class OpenClException(string message) : Exception(message);

/// <summary>Turns OpenCL status codes into exceptions that name the call, the status and a fix.</summary>
static class ClStatus
{
    public static void Check(int status, string call)
    {
        if (status != ClNative.CL_SUCCESS) throw Error(status, call);
    }

    /// <summary>The exception for a failed call: <see cref="DeviceOutOfMemoryException"/> (the OpenClException inside) for the
    /// statuses that mean the memory or resources ran out, else an <see cref="OpenClException"/>.</summary>
    public static Exception Error(int status, string call, string? detail = null)
    {
        var e = new OpenClException($"OpenCL {call} failed with {Name(status)} ({status}){(detail is null ? "" : ": " + detail)}; {Hint(status)}");
        return IsOutOfMemory(status) ? new DeviceOutOfMemoryException(e.Message, e) : e;
    }

    /// <summary>CL_MEM_OBJECT_ALLOCATION_FAILURE, CL_OUT_OF_RESOURCES, CL_OUT_OF_HOST_MEMORY, and CL_INVALID_BUFFER_SIZE
    /// (a buffer over the device's single-allocation limit): the request does not fit.</summary>
    public static bool IsOutOfMemory(int status) => status is -4 or -5 or -6 or -61;

    static string Hint(int status) => status switch
    {
        -1 or -1001 => "no usable OpenCL device: install a driver (apt-get install pocl-opencl-icd ocl-icd-libopencl1, or the GPU vendor's ICD) or use --device cpu",
        -2 => "the device is busy or unavailable: close other programs using it or pick another with --device opencl-c:N",
        -3 => "this OpenCL platform has no compiler: install one with a compiler (e.g. pocl-opencl-icd) or use --device cpu",
        -4 or -5 or -61 => "the device ran out of memory: reduce the batch or tile size, or use a device with more memory",
        -6 => "the host ran out of memory: reduce the batch or tile size",
        -11 => "the kernel source did not compile for this device (build log above); report it with the device name, or use --device cpu",
        -42 => "a cached kernel binary is invalid: delete ~/.cache/ctmsr/kernels (or $CTMSR_CACHE) and retry",
        -54 or -55 => "the device's work-group limits are smaller than Ctmsr's kernels need: use --device cpu or another device",
        -36 => "the command queue is invalid, usually after a previous kernel crashed the device: restart the program",
        _ => "this is a bug in Ctmsr's OpenCL backend or the driver: report it with the device name, or use --device cpu",
    };

    public static string Name(int status) => status switch
    {
        0 => "CL_SUCCESS", -1 => "CL_DEVICE_NOT_FOUND", -2 => "CL_DEVICE_NOT_AVAILABLE", -3 => "CL_COMPILER_NOT_AVAILABLE",
        -4 => "CL_MEM_OBJECT_ALLOCATION_FAILURE", -5 => "CL_OUT_OF_RESOURCES", -6 => "CL_OUT_OF_HOST_MEMORY",
        -7 => "CL_PROFILING_INFO_NOT_AVAILABLE", -8 => "CL_MEM_COPY_OVERLAP", -9 => "CL_IMAGE_FORMAT_MISMATCH",
        -10 => "CL_IMAGE_FORMAT_NOT_SUPPORTED", -11 => "CL_BUILD_PROGRAM_FAILURE", -12 => "CL_MAP_FAILURE",
        -13 => "CL_MISALIGNED_SUB_BUFFER_OFFSET", -14 => "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST",
        -15 => "CL_COMPILE_PROGRAM_FAILURE", -16 => "CL_LINKER_NOT_AVAILABLE", -17 => "CL_LINK_PROGRAM_FAILURE",
        -18 => "CL_DEVICE_PARTITION_FAILED", -19 => "CL_KERNEL_ARG_INFO_NOT_AVAILABLE",
        -30 => "CL_INVALID_VALUE", -31 => "CL_INVALID_DEVICE_TYPE", -32 => "CL_INVALID_PLATFORM", -33 => "CL_INVALID_DEVICE",
        -34 => "CL_INVALID_CONTEXT", -35 => "CL_INVALID_QUEUE_PROPERTIES", -36 => "CL_INVALID_COMMAND_QUEUE",
        -37 => "CL_INVALID_HOST_PTR", -38 => "CL_INVALID_MEM_OBJECT", -39 => "CL_INVALID_IMAGE_FORMAT_DESCRIPTOR",
        -40 => "CL_INVALID_IMAGE_SIZE", -41 => "CL_INVALID_SAMPLER", -42 => "CL_INVALID_BINARY", -43 => "CL_INVALID_BUILD_OPTIONS",
        -44 => "CL_INVALID_PROGRAM", -45 => "CL_INVALID_PROGRAM_EXECUTABLE", -46 => "CL_INVALID_KERNEL_NAME",
        -47 => "CL_INVALID_KERNEL_DEFINITION", -48 => "CL_INVALID_KERNEL", -49 => "CL_INVALID_ARG_INDEX",
        -50 => "CL_INVALID_ARG_VALUE", -51 => "CL_INVALID_ARG_SIZE", -52 => "CL_INVALID_KERNEL_ARGS",
        -53 => "CL_INVALID_WORK_DIMENSION", -54 => "CL_INVALID_WORK_GROUP_SIZE", -55 => "CL_INVALID_WORK_ITEM_SIZE",
        -56 => "CL_INVALID_GLOBAL_OFFSET", -57 => "CL_INVALID_EVENT_WAIT_LIST", -58 => "CL_INVALID_EVENT",
        -59 => "CL_INVALID_OPERATION", -60 => "CL_INVALID_GL_OBJECT", -61 => "CL_INVALID_BUFFER_SIZE",
        -62 => "CL_INVALID_MIP_LEVEL", -63 => "CL_INVALID_GLOBAL_WORK_SIZE", -64 => "CL_INVALID_PROPERTY",
        -1001 => "CL_PLATFORM_NOT_FOUND_KHR",
        _ => "unknown OpenCL status",
    };
}
