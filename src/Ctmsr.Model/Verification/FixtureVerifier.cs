using Ctmsr.Autograd;
using Ctmsr.Kernels;
using Ctmsr.Kernels.Reference;
using Ctmsr.Model.Checkpoints;
using Ctmsr.Model.Network;

namespace Ctmsr.Model.Verification;

/// <summary>One compared tensor: its name, relative L2 error against the fixture, and the bound.</summary>
public sealed record Comparison(string Name, double RelativeError, double Bound)
{
    public bool Pass => RelativeError < Bound;
}

/// <summary>
/// Runs a golden model fixture (config in its metadata, weights in param.*, inputs in input.*) forward in
/// eval mode and, when it holds grad_seed.G, backward; compares output.D and act.* (bound 1e-4) and grad.x
/// and grad.* (bound 1e-3) — the fixtures README's bounds for a float32 implementation.
/// </summary>
public static class FixtureVerifier
{
    public const double ForwardBound = 1e-4, GradientBound = 1e-3;

    public static double RelL2(ReadOnlySpan<float> a, ReadOnlySpan<float> r)
    {
        if (a.Length != r.Length) return double.PositiveInfinity;
        double num = 0, den = 0;
        for (int i = 0; i < a.Length; i++) { double d = (double)a[i] - r[i]; num += d * d; den += (double)r[i] * r[i]; }
        return Math.Sqrt(num / Math.Max(den, 1e-300));
    }

    /// <param name="weights">Weights to use instead of the fixture's param.* (e.g. an official .pth's params_ema), official names.</param>
    public static IEnumerable<Comparison> Run(Context ctx, string fixturePath, IReadOnlyDictionary<string, HostTensor>? weights = null)
    {
        using var fx = SafetensorsFile.Open(fixturePath);
        bool backward = fx.Contains("grad_seed.G");
        Tape.Clear();
        using var scope = Tape.Scope();
        var (net, x, d) = Forward(ctx, fx, fixturePath, weights, backward);
        var results = new List<Comparison> { new("output.D", RelL2(d.ToArray(), fx.Floats("output.D")), ForwardBound) };
        foreach (var name in fx.Names.Where(n => n.StartsWith("act.", StringComparison.Ordinal)).OrderBy(n => n, StringComparer.Ordinal))
            results.Add(new(name, net.Capture!.TryGetValue(name[4..], out var a) ? RelL2(a, fx.Floats(name)) : double.PositiveInfinity, ForwardBound));
        if (backward)
        {
            var g = fx.Get("grad_seed.G");
            d.Backward(Tensor.From(ctx, g.ToFloats(), g.Shape));
            if (fx.Contains("grad.x")) results.Add(new("grad.x", RelL2(x.Grad!.ToArray(), fx.Floats("grad.x")), GradientBound));
            foreach (var (name, p) in net.NamedParameters())
            {
                string key = "grad." + ModelWeights.Prefix + name;
                if (!fx.Contains(key)) continue;
                results.Add(new(key, p.Grad is null ? double.PositiveInfinity : RelL2(p.Grad.ToArray(), fx.Floats(key)), GradientBound));
            }
            net.ZeroGrad();
        }
        return results;
    }

    /// <summary>
    /// <see cref="Run"/> on <paramref name="backend"/> behind a <see cref="KinkAlignedBackend"/> that takes LeakyReLU's
    /// subgradient from <paramref name="referenceInputs"/> (<see cref="ReferenceKinkInputs"/>) at the few inputs within
    /// rounding of the kink. The check passes only if every comparison does and <see cref="KinkAlignedBackend.Problem"/>
    /// is null. The backend stays the caller's.
    /// </summary>
    public static (List<Comparison> Comparisons, KinkAlignedBackend Kinks) RunKinkAligned(Backend backend, string fixturePath, IReadOnlyList<float[]> referenceInputs,
                                                                                            IReadOnlyDictionary<string, HostTensor>? weights = null)
    {
        var kinks = new KinkAlignedBackend(backend, referenceInputs, ownsInner: false);
        using var ctx = new Context(kinks); // disposes the decorator and the pool, not the backend
        return (Run(ctx, fixturePath, weights).ToList(), kinks);
    }

    /// <summary>
    /// The inputs of every LeakyReLU/ReLU of the fixture's forward on the float64 reference backend, in call order: what
    /// <see cref="KinkAlignedBackend"/> takes the subgradient choice from. Same graph as <see cref="Run"/> (on the tape),
    /// so the calls match one for one. Several times the float32 check's time (scalar float64 on the CPU).
    /// </summary>
    public static List<float[]> ReferenceKinkInputs(string fixturePath, IReadOnlyDictionary<string, HostTensor>? weights = null)
    {
        using var fx = SafetensorsFile.Open(fixturePath);
        var rec = new KinkAlignedBackend.Recorder(new ReferenceBackend());
        using var ctx = new Context(rec);
        Tape.Clear();
        using (Tape.Scope()) Forward(ctx, fx, fixturePath, weights, fx.Contains("grad_seed.G"));
        Tape.Clear();
        return rec.Inputs;
    }

    /// <summary>The fixture's network with its (or the given) weights, in eval mode, capturing activations, run on its inputs.</summary>
    static (CtmsrNet Net, Tensor X, Tensor D) Forward(Context ctx, SafetensorsFile fx, string fixturePath, IReadOnlyDictionary<string, HostTensor>? weights, bool requiresGrad)
    {
        foreach (var need in new[] { "input.x", "input.lq", "input.sigma", "output.D" })
            if (!fx.Contains(need)) throw new InvalidDataException($"{fixturePath}: not a model fixture (no '{need}')");
        var net = new CtmsrNet(ctx, CtmsrConfig.FromMetadata(fx.Metadata));
        ModelWeights.Load(net, weights ?? fx.ReadAll("param."));
        net.Eval();
        net.Capture = new();
        var xh = fx.Get("input.x"); var lqh = fx.Get("input.lq");
        var x = Tensor.From(ctx, xh.ToFloats(), xh.Shape);
        x.RequiresGrad = requiresGrad;
        var lq = Tensor.From(ctx, lqh.ToFloats(), lqh.Shape);
        return (net, x, Precond.D(net, x, fx.Floats("input.sigma"), lq));
    }
}
