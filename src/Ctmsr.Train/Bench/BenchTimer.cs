using System.Diagnostics;

namespace Ctmsr.Train.Bench;

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
        f(); sync();
        var sw = Stopwatch.StartNew();
        f(); sync();
        double one = Math.Max(sw.Elapsed.TotalSeconds, 1e-7);
        int reps = Math.Max(1, (int)(budget / rounds / one));
        var times = new double[rounds];
        for (int r = 0; r < rounds; r++)
        {
            sw.Restart();
            for (int i = 0; i < reps; i++) f();
            sync();
            times[r] = sw.Elapsed.TotalSeconds / reps;
        }
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
