using Ctmsr.Autograd;
using Ctmsr.Kernels;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Kernels.Cuda;
using Ctmsr.Kernels.Ilgpu;
using Ctmsr.Kernels.OpenCL;
using Ctmsr.Kernels.Reference;

namespace Ctmsr.Train.Inference;

/// <summary>What the tile sizer knows about a device's memory, and how it recognises a backend's out-of-memory error.</summary>
public static class DeviceMemory
{
    /// <summary>
    /// Bytes a new allocation can still take on the context's device: host memory available to this process for the
    /// CPU backends; for GPUs the device's total memory less what this context's pool holds in use (the backends expose
    /// no free-memory query, so memory taken by other processes shows up only as an out-of-memory error, which the
    /// tiler answers by halving the tile). Buffers the pool caches but no tensor uses count as free: they are reusable.
    /// </summary>
    public static long Available(Context ctx)
    {
        var pool = ctx.Pool;
        switch (ctx.Backend)
        {
            case CpuBackend or ReferenceBackend:
                long host = HostAvailable();
                return host == long.MaxValue ? host : host + Math.Max(0, pool.BytesAllocated - pool.BytesInUse);
            case CudaBackend cuda:
                return Math.Max(0, cuda.Device.TotalMemory - pool.BytesInUse);
            case OpenClBackend cl:
                return Math.Max(0, cl.Device.GlobalMemory - pool.BytesInUse);
            case IlgpuBackend il:
                return Math.Max(0, il.MemoryBytes - pool.BytesInUse);
            default:
                return long.MaxValue;
        }
    }

    /// <summary>The smaller of the GC's limit for this process (container limits included) less the managed heap, and
    /// MemAvailable of /proc/meminfo where there is one.</summary>
    public static long HostAvailable()
    {
        var gc = GC.GetGCMemoryInfo();
        long avail = gc.TotalAvailableMemoryBytes > 0 ? Math.Max(0, gc.TotalAvailableMemoryBytes - GC.GetTotalMemory(false)) : long.MaxValue;
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                {
                    var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (parts.Length >= 2 && long.TryParse(parts[1], out long kib)) avail = Math.Min(avail, kib * 1024);
                    break;
                }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return avail;
    }

    /// <summary>True for the errors a backend raises when an allocation does not fit: a managed OutOfMemoryException
    /// (CPU), CUDA_ERROR_OUT_OF_MEMORY, and OpenCL's allocation failures.</summary>
    public static bool IsOutOfMemory(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
        {
            switch (x)
            {
                case OutOfMemoryException:
                    return true;
                case CudaException when x.Message.Contains("CUDA_ERROR_OUT_OF_MEMORY", StringComparison.Ordinal):
                    return true;
                case OpenClException when x.Message.Contains("CL_MEM_OBJECT_ALLOCATION_FAILURE", StringComparison.Ordinal)
                                         || x.Message.Contains("CL_OUT_OF_RESOURCES", StringComparison.Ordinal)
                                         || x.Message.Contains("CL_OUT_OF_HOST_MEMORY", StringComparison.Ordinal)
                                         || x.Message.Contains("CL_INVALID_BUFFER_SIZE", StringComparison.Ordinal):
                    return true;
            }
        }
        return false;
    }
}
