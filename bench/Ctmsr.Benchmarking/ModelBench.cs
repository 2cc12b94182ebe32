using Ctmsr.Autograd;
using Ctmsr.Kernels;
using Ctmsr.Model.Network;

namespace Ctmsr.Benchmarking;

/// <summary>What one whole-model case measured on our engine.</summary>
/// <param name="RssPeakBytes">Peak resident growth over the case, measured as for the peers (<see cref="RssWatch"/>).</param>
public sealed record ModelMeasurement(double[] Times, long PeakBytesInUse, long PoolBytesHeld, long? RssPeakBytes);

/// <summary>Per-op totals over <see cref="Times"/>.Length profiled steps (<see cref="ProfilingBackend"/>), and each step's wall time.</summary>
/// <param name="Synchronized">Whether each op was bracketed by device synchronisation (GPU times are execution, not enqueue, times).</param>
public sealed record ModelProfile(double[] Times, IReadOnlyList<OpTiming> Ops, bool Synchronized)
{
    public int Steps => Times.Length;
    /// <summary>Mean wall seconds of a step, ops and host work between them.</summary>
    public double StepSeconds => Times.Average();
    /// <summary>Mean seconds per step inside the ops.</summary>
    public double OpSeconds => Ops.Sum(o => o.Seconds) / Steps;
}

/// <summary>
/// Whole-model cases on our engine, each in a fresh buffer pool so its high-water mark is its own:
/// inference D(x; sigma = 1, lq) in eval mode without a tape, and a CT training step as the trainer runs
/// it (spec section 4, with n = 1 of N = 4): the no-grad target D(x_n; 1/3), the prediction D(x_n+1; 2/3)
/// in training mode (dropout on), Charbonnier mean, backward, AdamW (lr 5e-5, betas 0.9/0.9). LPIPS-VGG
/// is left out of the loss here and in the twin, so the step measures the denoiser alone.
/// </summary>
public static class ModelBench
{
    public static ModelMeasurement Forward(Backend be, CtmsrConfig cfg, int batch, int lr, int repeat, int warmup = 1) => Measure(be, cfg, batch, lr, repeat, warmup, train: false);

    public static ModelMeasurement TrainStep(Backend be, CtmsrConfig cfg, int batch, int lr, int repeat, int warmup = 1) => Measure(be, cfg, batch, lr, repeat, warmup, train: true);

    /// <summary>
    /// The forward (or train step) on a <see cref="ProfilingBackend"/> over <paramref name="be"/>: per-op totals of the
    /// <paramref name="repeat"/> timed steps (set-up and warm-up steps not counted), and each step's wall time.
    /// </summary>
    public static ModelProfile Profile(Backend be, CtmsrConfig cfg, int batch, int lr, int repeat, int warmup, bool train)
    {
        using var prof = new ProfilingBackend(be);
        var m = Measure(prof, cfg, batch, lr, repeat, warmup, train, prof.Reset);
        return new ModelProfile(m.Times, prof.Timings(), prof.Synchronizing);
    }

    static ModelMeasurement Measure(Backend be, CtmsrConfig cfg, int batch, int lr, int repeat, int warmup, bool train, Action? afterWarmup = null)
    {
        double[] Time(Action f)
        {
            for (int i = 0; i < warmup; i++) { f(); be.Synchronize(); }
            afterWarmup?.Invoke();
            return BenchTimer.Calls(f, be.Synchronize, repeat, warmup: 0);
        }

        // a context of its own (not disposed: that would dispose the shared backend); trimmed at the end
        var rss = RssWatch.Start();
        var ctx = new Context(be);
        int hr = lr * cfg.Scale;
        var net = new CtmsrNet(ctx, cfg, dropoutSeed: 7);
        AdamW? opt = null;
        var inputs = new List<Tensor>();
        Tensor In(int seed, params int[] shape)
        {
            var t = Tensor.Empty(ctx, shape);
            be.FillNormal(t.Count, (ulong)seed, 0, t.Buffer);
            inputs.Add(t);
            return t;
        }
        try
        {
            net.InitializeRandom(1);
            var lq = In(1, batch, 3, lr, lr);
            double[] times;
            if (!train)
            {
                net.Eval();
                var x = In(2, batch, 3, hr, hr);
                var sigma = Enumerable.Repeat(1f, batch).ToArray();
                times = Time(() =>
                {
                    using var noGrad = Tape.NoGrad();
                    using var scope = Tape.Scope();
                    Precond.D(net, x, sigma, lq);
                });
            }
            else
            {
                net.Train();
                opt = new AdamW(net.Parameters(), 5e-5f, (0.9f, 0.9f), 1e-8f, 0f);
                var xn = In(3, batch, 3, hr, hr);
                var xn1 = In(4, batch, 3, hr, hr);
                var sn = Enumerable.Repeat(1f / 3, batch).ToArray();
                var sn1 = Enumerable.Repeat(2f / 3, batch).ToArray();
                times = Time(() =>
                {
                    using (var scope = Tape.Scope())
                    {
                        Tensor target;
                        using (Tape.NoGrad()) target = Precond.D(net, xn, sn, lq);
                        var pred = Precond.D(net, xn1, sn1, lq);
                        var ch = F.Charbonnier(pred, target);
                        var loss = F.Mean(ch);
                        loss.Backward();
                    }
                    opt.StepOnce();
                    opt.ZeroGrad();
                });
            }
            return new ModelMeasurement(times, ctx.Pool.PeakBytesInUse, ctx.Pool.BytesAllocated, rss.PeakGrowth());
        }
        finally
        {
            foreach (var t in inputs) t.Dispose();
            if (opt is not null) foreach (var (_, m, v) in opt.State) { m.Dispose(); v.Dispose(); }
            foreach (var (_, t, _) in net.StateDict()) { t.ZeroGrad(); t.Dispose(); }
            ctx.Pool.Trim();
            // hand the memory back to the OS before the twin runs the same case beside this process
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }
    }
}
