using Ctmsr.Benchmarking;

namespace Ctmsr.Tests.Bench;

/// <summary>The resident-memory figure every engine's model case is reported with (ours, ONNX Runtime, the twin).</summary>
public class RssWatchTests
{
    [Test]
    public void PeakGrowthCoversMemoryTouchedDuringTheCaseAndNotBefore()
    {
        if (!File.Exists("/proc/self/clear_refs")) Assert.Ignore("no /proc/self/clear_refs on this OS");
        const int mib = 1 << 20;
        // touched before the case: not the case's memory
        var before = new byte[256 * mib];
        Array.Fill(before, (byte)1);
        var watch = RssWatch.Start();
        var during = new byte[192 * mib];
        Array.Fill(during, (byte)1);
        long? growth = watch.PeakGrowth();
        GC.KeepAlive(before);
        GC.KeepAlive(during);
        Assert.That(growth, Is.Not.Null, "VmHWM could be reset but not read");
        Assert.That(growth!.Value, Is.GreaterThanOrEqualTo(192L * mib), "an array written in full during the case is resident");
        Assert.That(growth.Value, Is.LessThan((192L + 200) * mib), "the 256 MiB touched before the case is not counted");
    }
}
