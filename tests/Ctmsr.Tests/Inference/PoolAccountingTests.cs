using Ctmsr.Autograd;

namespace Ctmsr.Tests.Inference;

/// <summary>A refused allocation leaves the pool's counters as they were (auto tiles size themselves from them).</summary>
public sealed class PoolAccountingTests
{
    [Test]
    public void AFailedAllocationIsNotCounted()
    {
        using var be = new LimitedBackend(limit: 1 << 16);
        var pool = new BufferPool(be);
        var small = pool.Rent(1000);
        long inUse = pool.BytesInUse, allocated = pool.BytesAllocated, peak = pool.PeakBytesInUse;
        Assert.That(inUse, Is.GreaterThanOrEqualTo(4000));
        Assert.Catch(() => pool.Rent(1 << 20), "the backend refuses a buffer over its limit");
        Assert.That(be.Refusals, Is.EqualTo(1));
        Assert.That((pool.BytesInUse, pool.BytesAllocated, pool.PeakBytesInUse), Is.EqualTo((inUse, allocated, peak)));
        pool.Return(small);
        Assert.That(pool.BytesInUse, Is.Zero);
    }
}
