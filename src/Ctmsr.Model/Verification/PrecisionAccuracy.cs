using Ctmsr.Autograd;
using Ctmsr.Kernels;
using Ctmsr.Model.Network;

namespace Ctmsr.Model.Verification;

/// <summary>
/// What --precision tf32/bf16 does to the model's numbers, measured without a GPU: the same computation on a float32
/// backend and on <see cref="RoundedOperandsBackend"/> over it (GEMM/convolution operands rounded exactly as the tensor
/// cores' conversions round them, products summed in float32). Relative L2 errors of the tf32/bf16 run against the fp32 run.
/// </summary>
/// <param name="Output">D(x; sigma, lq), the preconditioned denoiser output.</param>
/// <param name="Network">F, the network's own output inside D (D = c_skip x + c_out F: the exact skip term dilutes D's error).</param>
/// <param name="InputGrad">dL/dx for a random output seed G (null without the backward pass).</param>
/// <param name="ParamGrads">All parameter gradients as one vector.</param>
/// <param name="WorstParamGrad">The worst single parameter tensor's gradient error.</param>
/// <param name="MatmulCalls">GEMM and convolution calls of the rounded run (forward and, when measured, backward).</param>
public sealed record PrecisionError(MatmulPrecision Precision, double Output, double Network, double? InputGrad, double? ParamGrads,
    double? WorstParamGrad, string? WorstParam, int MatmulCalls, int ForwardMatmulCalls);

public static class PrecisionAccuracy
{
    sealed record Run(float[] D, float[] X, float[]? Dx, Dictionary<string, float[]> Grads);

    /// <summary>
    /// Random weights (<see cref="CtmsrNet.InitializeRandom"/>, <paramref name="seed"/>) and random inputs at LR side
    /// <paramref name="lr"/>, sigma = 1, eval mode; the forward and, with <paramref name="gradients"/>, the backward of a
    /// random seed, once on <paramref name="open"/>() in float32 and once with operands rounded to <paramref name="p"/>.
    /// </summary>
    public static PrecisionError RandomModel(Func<Backend> open, CtmsrConfig cfg, int lr, MatmulPrecision p, bool gradients, int seed = 1)
    {
        var fp32 = Execute(open(), cfg, lr, gradients, seed, out _, out _);
        var rounded = new RoundedOperandsBackend(open(), p);
        var low = Execute(rounded, cfg, lr, gradients, seed, out int forwardCalls, out int calls, rounded);
        return Compare(p, fp32, low, forwardCalls, calls);
    }

    static Run Execute(Backend backend, CtmsrConfig cfg, int lr, bool gradients, int seed, out int forwardCalls, out int calls, RoundedOperandsBackend? counter = null)
    {
        using var ctx = new Context(backend);
        var net = new CtmsrNet(ctx, cfg);
        net.InitializeRandom(seed);
        net.Eval();
        int hr = lr * cfg.Scale;
        var rng = new Random(seed + 1);
        float[] Noise(int n) { var v = new float[n]; for (int i = 0; i < n; i++) v[i] = (float)(rng.NextDouble() * 2 - 1); return v; }
        var xh = Noise(3 * hr * hr);
        var lqh = Noise(3 * lr * lr);
        var g = Noise(3 * hr * hr);
        Tape.Clear();
        using var scope = Tape.Scope();
        var x = Tensor.From(ctx, xh, 1, 3, hr, hr);
        x.RequiresGrad = gradients;
        var lq = Tensor.From(ctx, lqh, 1, 3, lr, lr);
        var d = Precond.D(net, x, [1f], lq);
        var dh = d.ToArray();
        forwardCalls = counter?.MatmulCalls ?? 0;
        float[]? dx = null;
        var grads = new Dictionary<string, float[]>();
        if (gradients)
        {
            d.Backward(Tensor.From(ctx, g, 1, 3, hr, hr));
            dx = x.Grad!.ToArray();
            foreach (var (name, prm) in net.NamedParameters())
                if (prm.Grad is not null) grads[name] = prm.Grad.ToArray();
            net.ZeroGrad();
        }
        calls = counter?.MatmulCalls ?? 0;
        foreach (var (_, t, _) in net.StateDict()) t.Dispose();
        return new Run(dh, xh, dx, grads);
    }

    static PrecisionError Compare(MatmulPrecision p, Run r, Run t, int forwardCalls, int calls)
    {
        double cs = Precond.CSkip(1), co = Precond.COut(1);
        var fr = new float[r.D.Length];
        var ft = new float[t.D.Length];
        for (int i = 0; i < fr.Length; i++)
        {
            fr[i] = (float)((r.D[i] - cs * r.X[i]) / co);
            ft[i] = (float)((t.D[i] - cs * t.X[i]) / co);
        }
        double? dx = r.Dx is null ? null : FixtureVerifier.RelL2(t.Dx!, r.Dx);
        double? all = null, worst = null;
        string? worstName = null;
        if (r.Grads.Count > 0)
        {
            double num = 0, den = 0;
            foreach (var (name, gr) in r.Grads)
            {
                var gt = t.Grads[name];
                double n = 0, dd = 0;
                for (int i = 0; i < gr.Length; i++) { double e = (double)gt[i] - gr[i]; n += e * e; dd += (double)gr[i] * gr[i]; }
                num += n; den += dd;
                if (dd > 0 && Math.Sqrt(n / dd) > (worst ?? -1)) { worst = Math.Sqrt(n / dd); worstName = name; }
            }
            all = Math.Sqrt(num / den);
        }
        return new PrecisionError(p, FixtureVerifier.RelL2(t.D, r.D), FixtureVerifier.RelL2(ft, fr), dx, all, worst, worstName, calls, forwardCalls);
    }
}
