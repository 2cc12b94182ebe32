namespace Ctmsr.Kernels;

/// <summary>
/// A device's memory as its backend knows it, in bytes. Total: the capacity (for the CPU what this process may use);
/// Free: what a new allocation can still take (<see cref="long.MaxValue"/> when the backend cannot tell); Used: what
/// this process holds there (live buffers of the backend; the managed heap on the CPU).
/// </summary>
public readonly record struct DeviceMemoryInfo(long Total, long Free, long Used)
{
    /// <summary>For a backend that knows nothing of its memory: no limit to plan against.</summary>
    public static readonly DeviceMemoryInfo Unknown = new(0, long.MaxValue, 0);

    public bool IsKnown => Free != long.MaxValue;
}
