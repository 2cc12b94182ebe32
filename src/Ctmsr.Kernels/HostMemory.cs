namespace Ctmsr.Kernels;

/// <summary>The host's memory as this process sees it: what the CPU backends report as their device memory.</summary>
public static class HostMemory
{
    /// <summary>What the runtime may use: physical memory, or a container's limit.</summary>
    public static long Total => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>The smaller of the GC's limit for this process (container limits included) less the managed heap, and
    /// MemAvailable of /proc/meminfo where there is one.</summary>
    public static long Available()
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

    /// <summary>
    /// A host buffer of <paramref name="count"/> elements made by <paramref name="allocate"/> (one managed array, so at
    /// most <see cref="Array.MaxLength"/>), the runtime's out-of-memory turned into a
    /// <see cref="DeviceOutOfMemoryException"/> that says what was asked and <paramref name="fix"/>.
    /// </summary>
    public static T Allocate<T>(long count, string element, int elementBytes, string fix, Func<T> allocate)
    {
        if (count > Array.MaxLength)
            throw new DeviceOutOfMemoryException($"{count} {element}s do not fit one host buffer (at most {Array.MaxLength}): {fix}");
        try { return allocate(); }
        catch (OutOfMemoryException e) when (e is not DeviceOutOfMemoryException)
        {
            throw new DeviceOutOfMemoryException($"the host has no room for {count} {element}s ({count * (double)elementBytes / (1 << 20):F1} MiB): {fix}", e);
        }
    }

    /// <summary>The host as a <see cref="DeviceMemoryInfo"/>: used is the managed heap.</summary>
    public static DeviceMemoryInfo Info() => new(Total, Available(), GC.GetTotalMemory(false));
}
