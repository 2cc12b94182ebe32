namespace Ctmsr.Train.Training;

/// <summary>Discretisation schedules of CT and DTM (spec sections 1, 4 and 5).</summary>
public static class Curriculum
{
    /// <summary>
    /// N(k) = max(s0 - floor(k / K'), s1) + 1 with K' = floor(K / (s0 - s1 + 1)), K the total iterations
    /// (K' is at least 1, so a run shorter than s0 - s1 + 1 iterations still works).
    /// </summary>
    public static int Steps(long k, long totalIterations, int s0 = 4, int s1 = 3)
    {
        if (s0 < s1) throw new ArgumentException($"curriculum s0 = {s0} must be >= s1 = {s1}");
        if (s1 < 1) throw new ArgumentException($"curriculum s1 = {s1} must be >= 1 (N >= 2 points)");
        long kPrime = Math.Max(1, totalIterations / (s0 - s1 + 1));
        return (int)Math.Max(s0 - k / kPrime, s1) + 1;
    }

    /// <summary>t_n = alpha_n = sigma_n = n / (N - 1).</summary>
    public static float Sigma(int n, int steps) => (float)((double)n / (steps - 1));

    /// <summary>DTM's index range [step_min, step_max): step_min = max(1, floor(0.1 N)), step_max = min(N, floor(0.5 N)).
    /// An empty range (small N) collapses to step_min.</summary>
    public static (int min, int maxExclusive) DtmRange(int steps)
    {
        int lo = Math.Max(1, (int)Math.Floor(0.1 * steps));
        int hi = Math.Min(steps, (int)Math.Floor(0.5 * steps));
        return (lo, Math.Max(hi, lo + 1));
    }
}

/// <summary>torch.optim.lr_scheduler.MultiStepLR stepped once per iteration: lr(k) = lr0 * gamma^(#milestones &lt;= k).</summary>
public static class MultiStepLr
{
    public static float At(long k, float baseLr, IReadOnlyList<int> milestones, float gamma)
    {
        double lr = baseLr;
        foreach (var m in milestones) if (k >= m) lr *= gamma;
        return (float)lr;
    }
}
