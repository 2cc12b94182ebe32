using Ctmsr.Autograd;
using Ctmsr.Inference;
using Ctmsr.Model.Network;
using Ctmsr.Train.Data;
using Ctmsr.Train.Degradation;

namespace Ctmsr.Train.Training;

/// <summary>The outcome of one alignment micro-step: the loss and its two terms, the winning candidate per sample, the
/// mean reward of the ODE (candidate 0) and of the winners, and the drawn tau (the steps trained).</summary>
public sealed record AlignStepResult(double Loss, double TrajectoryLoss, double GtLoss, int[] Best, double OdeReward, double BestReward, int Tau);

/// <summary>
/// Stage A of spec/TRAJECTORY.md (the paper's Algorithm 1) on one micro-batch. With the grid t_p = (K - p) / K:
/// 1. tau ~ U{1..K}; x_1 = y + eps, integrated by the ODE without gradients to x_tau (t = tau / K);
/// 2. from x_tau, N rollouts to t = 0 without gradients: candidate 0 the ODE (its states x^(o) recorded), candidates
///    1..N-1 the modulated step with fixed gamma and their own noise;
/// 3. reward of each final state (the estimate of the step that lands on 0), n* = argmax per sample;
/// 4. loss = sum over the tau steps of MSE(step(x^(o)_t), stopgrad(x_{n*, s})) + GtWeight MSE(x^(o)_0, gt), each step
///    computed again with gradients from its detached input x^(o)_t and backpropagated on its own, so the memory is
///    that of one step whatever K is.
/// The network runs in eval mode (no dropout), so candidate 0 is the deterministic ODE and each recomputed step
/// reproduces its recorded state exactly; MSE is the mean over C, H, W and the batch.
/// </summary>
public static class AlignStage
{
    /// <summary>One micro-step; parameter gradients accumulate (scaled by <paramref name="scale"/>). <paramref name="forceTau"/>
    /// replaces the drawn tau (tests and memory measurements).</summary>
    public static AlignStepResult Step(Context ctx, CtmsrNet net, Tensor gt, Tensor y, Tensor lq, float[] gtHost,
        TrajectoryTrainOptions o, AlignReward reward, ulong seed, float scale = 1f, int? forceTau = null)
    {
        int K = o.TeacherSteps, N = o.Candidates, bs = gt[0], h = gt[2], w = gt[3];
        var grid = Trajectory.Grid(K);
        var rng = new DegradationRandom(SeedMix.Mix(seed, 0x74));
        int tau = 1 + rng.NextInt(K);
        if (forceTau is int ft) tau = ft is >= 1 && ft <= K ? ft : throw new ArgumentOutOfRangeException(nameof(forceTau), $"tau {ft} must be 1..{K}");
        int p0 = K - tau;
        var sig = (double t) => Enumerable.Repeat((float)t, bs).ToArray();
        Tensor D(Tensor x, double t) => Precond.D(net, x, sig(t), lq);

        // states[c][j]: candidate c at grid point p0 + 1 + j (the last is its final estimate)
        var states = new Tensor[N][];
        Tensor xTau;
        using (Tape.NoGrad())
        {
            var eps = ForwardProcess.Noise(ctx, SeedMix.Mix(seed, 0x65), bs, 3, h, w);
            var x = F.AddScaled(y, 1f, eps, 1f);
            for (int p = 0; p < p0; p++)
            {
                using var scope = Tape.Scope();
                var x0 = D(x, grid[p]);
                x = scope.Keep(Trajectory.OdeStep(x, x0, y, grid[p], grid[p + 1]));
            }
            xTau = x;
            for (int c = 0; c < N; c++)
            {
                states[c] = new Tensor[tau];
                var xc = xTau;
                for (int p = p0; p < K; p++)
                {
                    using var scope = Tape.Scope();
                    double t = grid[p], s = grid[p + 1];
                    var x0 = D(xc, t);
                    Tensor next;
                    if (s == 0) next = x0;
                    else if (c == 0) next = Trajectory.OdeStep(xc, x0, y, t, s);
                    else
                    {
                        var z = ForwardProcess.Noise(ctx, SeedMix.Mix(seed, 0x7A, (ulong)c, (ulong)p), bs, 3, h, w);
                        next = Trajectory.ModulatedStep(xc, x0, y, t, s, o.Gamma, z);
                    }
                    xc = states[c][p - p0] = scope.Keep(next);
                }
            }
        }

        var rewards = new double[N][];
        for (int c = 0; c < N; c++) rewards[c] = reward.Score(states[c][tau - 1].ToArray(), gtHost, bs, h, w);
        var best = new int[bs];
        for (int b = 0; b < bs; b++)
            for (int c = 1; c < N; c++)
                if (rewards[c][b] > rewards[best[b]][b]) best[b] = c;

        // the best candidate's state per sample, selected on the device: sum_c mask_c * x_c (exact: x + 0 = x)
        Tensor Target(int j)
        {
            using var ng = Tape.NoGrad();
            Tensor? acc = null;
            for (int c = 0; c < N; c++)
            {
                var mask = best.Select(bc => bc == c ? 1f : 0f).ToArray();
                if (mask.All(m => m == 0)) continue;
                var part = F.ScalePerSample(states[c][j], mask);
                acc = acc is null ? part : F.Add(acc, part);
            }
            return acc!;
        }

        double traj = 0, gtLoss = 0;
        for (int p = p0; p < K; p++)
        {
            using var scope = Tape.Scope();
            double t = grid[p], s = grid[p + 1];
            var xin = p == p0 ? xTau : states[0][p - p0 - 1];
            var target = Target(p - p0);
            var x0 = D(xin, t);
            var outp = s == 0 ? x0 : Trajectory.OdeStep(xin, x0, y, t, s);
            var l = Mse(outp, target);
            traj += l.ToScalar();
            if (s == 0 && o.GtWeight > 0)
            {
                var lg = Mse(outp, gt);
                gtLoss = lg.ToScalar();
                l = F.AddScaled(l, 1f, lg, o.GtWeight);
            }
            (scale == 1f ? l : F.Scale(l, scale)).Backward();
        }
        return new AlignStepResult(traj + o.GtWeight * gtLoss, traj, gtLoss, best,
            rewards[0].Average(), Enumerable.Range(0, bs).Average(b => rewards[best[b]][b]), tau);
    }

    /// <summary>Mean over every element of (a - b)^2.</summary>
    public static Tensor Mse(Tensor a, Tensor b)
    {
        using var d = F.Sub(a, b);
        using var sq = F.Mul(d, d);
        return F.Mean(sq);
    }
}
