using System.Diagnostics;

namespace Ctmsr.Benchmarking;

/// <summary>Wall-clock timing for the bench: per-call seconds per round, reported as the median round.</summary>
public static class BenchTimer
{
    /// <summary>
    /// One warm-up call, then <paramref name="rounds"/> rounds, each running enough calls to last about
    /// budget / rounds seconds (at least one); returns the seconds per call of each round. <paramref name="sync"/>
    /// waits for an asynchronous device before the clock is read.
    /// </summary>
    public static double[] Rounds(Action f, Action sync, int rounds, double budget)
    {
        rounds = Math.Max(1, rounds);
        var timer = new RoundTimer(f, sync, budget / rounds);
        var times = new double[rounds];
        for (int r = 0; r < rounds; r++) times[r] = timer.Round();
        return times;
    }

    /// <summary><paramref name="warmup"/> untimed calls, then <paramref name="repeat"/> single timed calls (for whole-model steps).</summary>
    public static double[] Calls(Action f, Action sync, int repeat, int warmup = 1)
    {
        for (int i = 0; i < warmup; i++) { f(); sync(); }
        var times = new double[Math.Max(1, repeat)];
        var sw = new Stopwatch();
        for (int r = 0; r < times.Length; r++)
        {
            sw.Restart();
            f(); sync();
            times[r] = sw.Elapsed.TotalSeconds;
        }
        return times;
    }

    public static double Median(IReadOnlyList<double> v)
    {
        if (v.Count == 0) return double.NaN;
        var s = v.OrderBy(x => x).ToArray();
        int n = s.Length;
        return n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    }
}

/// <summary>
/// Rounds of one kernel, one at a time, so they can alternate with the twin's rounds: the constructor makes
/// a warm-up call and fixes the calls per round from a second one; <see cref="Round"/> returns seconds per call.
/// </summary>
public sealed class RoundTimer
{
    readonly Action _f, _sync;
    readonly int _reps;

    public RoundTimer(Action f, Action sync, double roundSeconds)
    {
        _f = f; _sync = sync;
        f(); sync();
        var sw = Stopwatch.StartNew();
        f(); sync();
        double one = Math.Max(sw.Elapsed.TotalSeconds, 1e-7);
        _reps = Math.Max(1, (int)(roundSeconds / one));
    }

    public double Round()
    {
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < _reps; i++) _f();
        _sync();
        return sw.Elapsed.TotalSeconds / _reps;
    }
}
