namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// The most worker threads the CPU kernels use at once (every Parallel.For of the CPU backend passes
/// <see cref="Options"/>; `--threads N` sets it). Process-wide, like the thread pool it draws from. The kernels'
/// results do not depend on it: work is split into the same independent pieces (rows, planes, GEMM tiles whose
/// reductions run in one fixed order) whatever the count, and only how many run at once changes.
/// </summary>
public static class CpuThreads
{
    static int _limit = Environment.ProcessorCount;
    static ParallelOptions _options = Make(Environment.ProcessorCount);

    /// <summary>Worker threads the CPU kernels may use (default: the processor count).</summary>
    public static int Limit
    {
        get => _limit;
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(value), $"CPU threads {value}: must be at least 1");
            _limit = value;
            _options = Make(value);
        }
    }

    /// <summary>Parallel.For options capped at <see cref="Limit"/>.</summary>
    public static ParallelOptions Options => _options;

    /// <summary>Options capped at the smaller of <paramref name="max"/> (-1: no cap of its own) and <see cref="Limit"/>.</summary>
    public static ParallelOptions Cap(int max) => max < 0 || max >= _limit ? _options : Make(max);

    static ParallelOptions Make(int n) => new() { MaxDegreeOfParallelism = n };
}
