namespace Ctmsr.Benchmarking;

/// <summary>
/// Peak resident memory of a case, measured the way the twin measures PyTorch's (bench/twin/serve.py): the
/// RSS high-water mark (VmHWM) is reset through /proc/self/clear_refs before the case, and the case's figure is
/// the high-water mark at its end minus the resident set at its start. Every engine (ours, ONNX Runtime, PyTorch)
/// is measured this way, so the columns compare; null where /proc is unavailable.
/// </summary>
public sealed class RssWatch
{
    readonly long? _start;

    RssWatch(long? start) => _start = start;

    /// <summary>Resets the high-water mark and records the resident set now.</summary>
    public static RssWatch Start()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        bool reset = ResetPeak();
        return new RssWatch(reset ? Read("VmRSS:") : null);
    }

    /// <summary>Growth of the high-water mark over the case (weights, optimiser state and activations included).</summary>
    public long? PeakGrowth() => _start is { } s && Read("VmHWM:") is { } hwm ? Math.Max(0, hwm - s) : null;

    static bool ResetPeak()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); return true; }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    /// <summary>A "Name:   1234 kB" line of /proc/self/status in bytes.</summary>
    static long? Read(string key)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith(key, StringComparison.Ordinal))
                    return long.Parse(line[key.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }

    public const string Method = "growth of the process's RSS high-water mark over the case (VmHWM reset through /proc/self/clear_refs)";
}
