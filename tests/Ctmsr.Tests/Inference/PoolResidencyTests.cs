using Ctmsr.Autograd;
using Ctmsr.Kernels;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Kernels.Reference;

namespace Ctmsr.Tests.Inference;

/// <summary>The pool's inference policy (<see cref="BufferPool.KeepResidentAtPeak"/>): the resident total stays at the
/// most bytes in use at once, cached buffers giving their memory back oldest first; and the CPU buffer's
/// <see cref="CpuBuffer.Discard"/> really leaves the process's resident set (Linux).</summary>
[NonParallelizable]
public sealed class PoolResidencyTests
{
    const long MiB = 1 << 20;

    [Test]
    public void ResidentTotalStaysAtThePeakInUse()
    {
        using var be = new CpuBackend();
        var pool = new BufferPool(be) { KeepResidentAtPeak = true };
        // two 4 MiB buffers in use at once: the peak in use is 8 MiB
        var a = pool.Rent(MiB); var b = pool.Rent(MiB);
        pool.Return(a); pool.Return(b);
        Assert.That(pool.ResidentBytes, Is.EqualTo(8 * MiB));
        // an 8 MiB buffer of another size: without the policy 16 MiB would stay resident
        var c = pool.Rent(2 * MiB);
        Assert.That(pool.ResidentBytes, Is.EqualTo(8 * MiB), "the 4 MiB buffers gave their memory back");
        Assert.That(pool.BytesAllocated, Is.EqualTo(16 * MiB), "and stayed in the pool");
        pool.Return(c);
        // reusing a given-back buffer allocates nothing; its memory is taken again and the 8 MiB one gives back
        long misses = pool.Misses;
        var a2 = pool.Rent(MiB);
        Assert.That(pool.Misses, Is.EqualTo(misses));
        Assert.That(pool.ResidentBytes, Is.LessThanOrEqualTo(8 * MiB));
        // the contents of a given-back buffer are undefined, but it works as a buffer
        var data = Enumerable.Range(0, 1 << 18).Select(i => (float)i).ToArray();
        be.Upload(data, a2);
        var back = new float[data.Length];
        be.Download(a2, back);
        Assert.That(back, Is.EqualTo(data));
        pool.Return(a2);
        pool.Trim();
        Assert.That((pool.BytesAllocated, pool.ResidentBytes), Is.EqualTo((0L, 0L)));
    }

    [Test]
    public void WithoutThePolicyEverySizeStaysResident()
    {
        using var be = new CpuBackend();
        var pool = new BufferPool(be);
        var a = pool.Rent(MiB); var b = pool.Rent(MiB);
        pool.Return(a); pool.Return(b);
        pool.Return(pool.Rent(2 * MiB));
        Assert.That(pool.ResidentBytes, Is.EqualTo(16 * MiB));
    }

    [Test]
    public void ADeviceThatCannotDiscardReleasesTheBuffer()
    {
        using var be = new ReferenceBackend();
        var pool = new BufferPool(be) { KeepResidentAtPeak = true };
        var a = pool.Rent(MiB);
        pool.Return(a);
        var c = pool.Rent(MiB / 2); // another size: a is released (the reference backend cannot discard)
        Assert.That((pool.ResidentBytes, pool.BytesAllocated), Is.EqualTo((2 * MiB, 2 * MiB)));
        pool.Return(c);
        long misses = pool.Misses;
        var a2 = pool.Rent(MiB);
        Assert.That(pool.Misses, Is.EqualTo(misses + 1), "the released buffer is not handed out again");
        Assert.That(a2, Is.Not.SameAs(a));
        pool.Return(a2);
    }

    [Test]
    public void DiscardLeavesTheResidentSet()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("madvise is the Linux path; elsewhere Discard returns false");
        using var be = new CpuBackend();
        var buf = (CpuBuffer)be.Allocate(16 * MiB); // 64 MiB
        Array.Fill(buf.Data, 1f);
        long before = Rss();
        Assert.That(buf.Discard(), Is.True);
        long after = Rss();
        TestContext.Out.WriteLine($"resident set {before / MiB} MiB -> {after / MiB} MiB");
        Assert.That(before - after, Is.GreaterThan(48 * MiB), "the 64 MiB array's pages left the resident set");
        Assert.That(buf.Data[buf.Data.Length / 2], Is.Zero, "a discarded page reads as a fresh zero page");
        GC.KeepAlive(buf);
    }

    static long Rss()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line[6..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        throw new InvalidOperationException("no VmRSS in /proc/self/status");
    }
}
