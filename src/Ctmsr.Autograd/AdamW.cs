namespace Ctmsr.Autograd;

/// <summary>
/// AdamW as torch.optim.AdamW (decoupled weight decay, bias-corrected moments, eps outside the sqrt).
/// Moments live on the device beside the parameters.
/// </summary>
public sealed class AdamW
{
    readonly List<(Tensor p, Tensor m, Tensor v)> _state = new();

    public float Lr { get; set; }
    public float Beta1 { get; }
    public float Beta2 { get; }
    public float Eps { get; }
    public float WeightDecay { get; }
    public int Step { get; set; }

    public AdamW(IEnumerable<Tensor> parameters, float lr = 1e-3f, (float, float)? betas = null, float eps = 1e-8f, float weightDecay = 1e-2f)
    {
        Lr = lr; (Beta1, Beta2) = betas ?? (0.9f, 0.999f); Eps = eps; WeightDecay = weightDecay;
        foreach (var p in parameters)
        {
            var m = Tensor.EmptyPersistent(p.Ctx, p.Shape); p.Backend.Fill(m.Buffer, 0f, 0, m.Count);
            var v = Tensor.EmptyPersistent(p.Ctx, p.Shape); p.Backend.Fill(v.Buffer, 0f, 0, v.Count);
            _state.Add((p, m, v));
        }
    }

    public IReadOnlyList<(Tensor p, Tensor m, Tensor v)> State => _state;

    /// <summary>One update of every parameter that has a gradient (others are skipped, as in PyTorch).</summary>
    public void StepOnce()
    {
        Step++;
        foreach (var (p, m, v) in _state)
            if (p.Grad is not null)
                p.Backend.AdamWStep(p.Count, p.Buffer, p.Grad.Buffer, m.Buffer, v.Buffer, Lr, Beta1, Beta2, Eps, WeightDecay, Step);
    }

    public void ZeroGrad() { foreach (var (p, _, _) in _state) p.ZeroGrad(); }
}

/// <summary>Exponential moving average of parameters: ema = decay * ema + (1 - decay) * p.</summary>
public sealed class Ema
{
    readonly List<(Tensor p, Tensor e)> _pairs = new();
    public float Decay { get; }

    public Ema(IEnumerable<Tensor> parameters, float decay)
    {
        Decay = decay;
        foreach (var p in parameters)
        {
            var e = Tensor.EmptyPersistent(p.Ctx, p.Shape);
            p.Backend.CopyStrided([(int)p.Count], p.Buffer, 0, [1], e.Buffer, 0, [1], false);
            _pairs.Add((p, e));
        }
    }

    public IReadOnlyList<(Tensor p, Tensor e)> Pairs => _pairs;

    public void Update()
    {
        foreach (var (p, e) in _pairs) p.Backend.AddScaled(p.Count, Decay, e.Buffer, 1f - Decay, p.Buffer, e.Buffer);
    }
}
