using Ctmsr.Autograd;
using Ctmsr.Kernels;

namespace Ctmsr.Inference;

/// <summary>What the tile sizer knows about a device's memory, and how it recognises an out-of-memory error.</summary>
public static class DeviceMemory
{
    /// <summary>
    /// Bytes a new allocation can still take on the context's device: the backend's free memory
    /// (<see cref="Backend.Memory"/>) plus the buffers the context's pool caches but no tensor uses (they are
    /// reusable); <see cref="long.MaxValue"/> for a backend that cannot tell. Memory taken by other processes after
    /// the query shows up as an out-of-memory error, which the tiler answers by halving the tile.
    /// </summary>
    public static long Available(Context ctx)
    {
        var mem = ctx.Backend.Memory;
        if (!mem.IsKnown) return long.MaxValue;
        long cached = Math.Max(0, ctx.Pool.BytesAllocated - ctx.Pool.BytesInUse);
        return mem.Free > long.MaxValue - cached ? long.MaxValue : mem.Free + cached;
    }

    /// <summary>True when <paramref name="e"/> or an inner exception says the memory ran out: backends raise
    /// <see cref="DeviceOutOfMemoryException"/>, the runtime its base <see cref="OutOfMemoryException"/>.</summary>
    public static bool IsOutOfMemory(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
            if (x is OutOfMemoryException) return true;
        return false;
    }
}
