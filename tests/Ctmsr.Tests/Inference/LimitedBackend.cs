using Ctmsr.Kernels;
using Ctmsr.Kernels.Cpu;

namespace Ctmsr.Tests.Inference;

/// <summary>The CPU backend with an allocation limit: a buffer of more than Limit floats fails the way a device out of
/// memory does (<see cref="DeviceOutOfMemoryException"/>); records the largest allocation asked for. Every op is the CPU backend's.</summary>
sealed class LimitedBackend(long limit = long.MaxValue) : ForwardingBackend(new CpuBackend())
{
    public long Limit { get; set; } = limit;
    public long LargestRequest { get; private set; }
    public int Refusals { get; private set; }

    public override DeviceBuffer Allocate(long count)
    {
        LargestRequest = Math.Max(LargestRequest, count);
        if (count > Limit)
        {
            Refusals++;
            throw new DeviceOutOfMemoryException($"test device: {count} floats requested, limit {Limit}");
        }
        return Inner.Allocate(count);
    }

    public override string Name => "limited-" + Inner.Name;
}
