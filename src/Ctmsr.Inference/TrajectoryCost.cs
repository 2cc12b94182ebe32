using Ctmsr.Autograd;
using Ctmsr.Model.Network;

namespace Ctmsr.Inference;

/// <summary>
/// The distillation-cost diagnostic of spec/TRAJECTORY.md (the paper's Eq. 16) on the CTMSR trajectory. A dense ODE
/// trajectory of J steps (t_j = (J - j) / J) is sampled from x_1 = y + eps. An ODE step t -&gt; s is
/// x_s = x_t + (s - t) v with the step direction v(x_t) = (x_t - x0_hat) / t (= y - x0_hat + eps_hat), so a sparse step
/// from dense point a to dense point b is exact when v equals the chord (x_b - x_a) / (t_b - t_a). Its cost is
/// RMS(chord - v(x_a)) over the image. The spec phrases the cost in eps; in CTMSR's parameterisation the eps
/// difference is (1 - t) times this one and vanishes at t = 1 (x_1 - y fixes eps there whatever x0_hat is), so the
/// step direction is the quantity whose error a one-step student must absorb. A k-step schedule
/// 0 = i_0 &lt; ... &lt; i_k = J costs the sum of its steps' costs; the cheapest is found by dynamic programming.
/// </summary>
public sealed class TrajectoryCost
{
    /// <summary>Dense steps J.</summary>
    public int Dense { get; }
    /// <summary>Cost[a, b] (a &lt; b): the mean over the images added so far of RMS(chord(a, b) - v(x_a)).</summary>
    readonly double[,] _sum;
    public int Images { get; private set; }

    public TrajectoryCost(int dense)
    {
        if (dense is < 2 or > 1000) throw new ArgumentException($"--dense {dense} must be 2..1000");
        Dense = dense;
        _sum = new double[dense + 1, dense + 1];
    }

    public double T(int j) => (double)(Dense - j) / Dense;

    public double Cost(int a, int b) => Images == 0 ? double.NaN : _sum[a, b] / Images;

    /// <summary>Samples the dense trajectory of one image (batch 1) and adds its segment costs.
    /// <paramref name="denoise"/>(x, sigma) is D; y = lq_up and eps have shape [1, 3, H, W].</summary>
    public void Add(Func<Tensor, double, Tensor> denoise, Tensor y, Tensor eps)
    {
        int J = Dense;
        var xs = new float[J + 1][];
        var vs = new float[J][];
        using (Tape.NoGrad())
        {
            var x = F.AddScaled(y, 1f, eps, 1f);
            for (int j = 0; j < J; j++)
            {
                using var scope = Tape.Scope();
                double t = T(j), s = T(j + 1);
                var x0 = denoise(x, t);
                var xa = x.ToArray();
                var x0a = x0.ToArray();
                var v = new float[xa.Length];
                for (int i = 0; i < v.Length; i++) v[i] = (float)((xa[i] - (double)x0a[i]) / t);
                xs[j] = xa; vs[j] = v;
                if (s == 0) { xs[J] = x0a; break; }
                x = scope.Keep(Trajectory.OdeStep(x, x0, y, t, s));
            }
        }
        Parallel.For(0, J, a =>
        {
            var xa = xs[a]; var va = vs[a];
            for (int b = a + 1; b <= J; b++)
            {
                var xb = xs[b];
                double dt = T(b) - T(a), sq = 0;
                for (int i = 0; i < xa.Length; i++)
                {
                    double d = (xb[i] - (double)xa[i]) / dt - va[i];
                    sq += d * d;
                }
                _sum[a, b] += Math.Sqrt(sq / xa.Length);
            }
        });
        Images++;
    }

    /// <summary>The dense indices i_0 = 0 &lt; ... &lt; i_k = J of the uniform k-step schedule (rounded to the dense grid).</summary>
    public int[] Uniform(int k) => Enumerable.Range(0, k + 1).Select(m => (int)Math.Round((double)m * Dense / k)).ToArray();

    /// <summary>The k-step schedule of least total cost (dynamic programming over the dense grid).</summary>
    public int[] Cheapest(int k)
    {
        if (k < 1 || k > Dense) throw new ArgumentException($"--steps {k} must be 1..{Dense} (the dense steps)");
        int J = Dense;
        var best = new double[k + 1, J + 1];
        var from = new int[k + 1, J + 1];
        for (int m = 0; m <= k; m++) for (int b = 0; b <= J; b++) best[m, b] = double.PositiveInfinity;
        best[0, 0] = 0;
        for (int m = 1; m <= k; m++)
            for (int b = m; b <= J; b++)
                for (int a = m - 1; a < b; a++)
                {
                    double c = best[m - 1, a] + Cost(a, b);
                    if (c < best[m, b]) { best[m, b] = c; from[m, b] = a; }
                }
        var path = new int[k + 1];
        path[k] = J;
        for (int m = k; m > 0; m--) path[m - 1] = from[m, path[m]];
        return path;
    }

    /// <summary>The cost of each step of a schedule.</summary>
    public double[] StepCosts(int[] schedule) => Enumerable.Range(0, schedule.Length - 1).Select(m => Cost(schedule[m], schedule[m + 1])).ToArray();
}
