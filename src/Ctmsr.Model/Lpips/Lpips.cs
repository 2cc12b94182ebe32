using Ctmsr.Autograd;
using Ctmsr.Model.Checkpoints;

namespace Ctmsr.Model.Lpips;

/// <summary>
/// LPIPS v0.1 (Zhang et al. 2018): d(a, b) = sum_l mean_hw( w_l . (n(f_l(a)) - n(f_l(b)))^2 ), with f_l the backbone
/// features after the l-th tapped ReLU, n the per-pixel normalisation over channels x / (|x|_2 + 1e-10) and w_l the
/// non-negative 1x1 "lin" weights. Inputs are NCHW in [-1, 1]; the result is one distance per sample, differentiable
/// with respect to both inputs. State-dict keys: torchvision's <c>features.&lt;i&gt;.weight|bias</c> and LPIPS's
/// <c>lin&lt;k&gt;.model.1.weight</c>. The weights never take gradients (the module is a fixed loss/metric).
/// </summary>
public sealed class Lpips : Module
{
    static readonly float[] Shift = [-0.030f, -0.088f, -0.188f];
    static readonly float[] ScaleDiv = [0.458f, 0.448f, 0.450f];

    readonly IReadOnlyList<LpipsStage> _stages;
    readonly Dictionary<int, (Tensor w, Tensor b)> _convs = new();
    readonly Tensor[] _lins;

    public LpipsBackbone Backbone { get; }

    /// <summary>An LPIPS network with zero weights; load them with <see cref="LoadBackbone"/> and <see cref="LoadHeads"/> (or <see cref="Load"/>).</summary>
    public Lpips(Context ctx, LpipsBackbone backbone) : base(ctx)
    {
        Backbone = backbone;
        _stages = LpipsLayout.Stages(backbone);
        foreach (var c in LpipsLayout.Convs(backbone))
        {
            var w = RegisterParameter(c.WeightKey, c.Cout, c.Cin, c.K, c.K);
            var b = RegisterParameter(c.BiasKey, c.Cout);
            w.RequiresGrad = false; b.RequiresGrad = false;
            _convs[c.Index] = (w, b);
        }
        _lins = new Tensor[_stages.Count];
        for (int k = 0; k < _stages.Count; k++)
        {
            _lins[k] = RegisterParameter(HeadKey(k), 1, _stages[k].Channels, 1, 1);
            _lins[k].RequiresGrad = false;
        }
        Eval();
    }

    public static string HeadKey(int stage) => $"lin{stage}.model.1.weight";

    /// <summary>
    /// Loads the backbone from a torchvision ImageNet checkpoint (vgg16-397923af.pth / alexnet-owt-7be5be79.pth, or a
    /// safetensors copy) and the heads from the LPIPS v0.1 file (lpips/weights/v0.1/{vgg,alex}.pth).
    /// </summary>
    public static Lpips Load(Context ctx, LpipsBackbone backbone, string backbonePath, string headsPath)
    {
        var net = new Lpips(ctx, backbone);
        net.LoadBackbone(CheckpointFiles.LoadStateDict(backbonePath), backbonePath);
        net.LoadHeads(CheckpointFiles.LoadStateDict(headsPath), headsPath);
        return net;
    }

    /// <summary>Takes <c>features.&lt;i&gt;.weight|bias</c> from a torchvision state dict; other keys (the classifier) are ignored.</summary>
    public void LoadBackbone(IReadOnlyDictionary<string, HostTensor> state, string source = "the backbone state dict")
    {
        var missing = new List<string>();
        foreach (var c in LpipsLayout.Convs(Backbone))
        {
            var (w, b) = _convs[c.Index];
            foreach (var (key, t) in new[] { (c.WeightKey, w), (c.BiasKey, b) })
            {
                if (!state.TryGetValue(key, out var h)) { missing.Add(key); continue; }
                Copy(h, t, key, source);
            }
        }
        if (missing.Count > 0)
            throw new StateDictException($"{source} lacks {string.Join(", ", missing.Take(4))}{(missing.Count > 4 ? $" ... ({missing.Count} in all)" : "")}: " +
                $"it is not a torchvision {(Backbone == LpipsBackbone.Vgg16 ? "vgg16 (vgg16-397923af.pth)" : "alexnet (alexnet-owt-7be5be79.pth)")} checkpoint; pass that file");
    }

    /// <summary>Takes <c>lin&lt;k&gt;.model.1.weight</c> (also accepted: <c>lins.&lt;k&gt;.model.1.weight</c>) from an LPIPS v0.1 head file.</summary>
    public void LoadHeads(IReadOnlyDictionary<string, HostTensor> state, string source = "the LPIPS head state dict")
    {
        for (int k = 0; k < _lins.Length; k++)
        {
            string key = HeadKey(k);
            if (!state.TryGetValue(key, out var h) && !state.TryGetValue($"lins.{k}.model.1.weight", out h))
                throw new StateDictException($"{source} has no {key}: pass the LPIPS v0.1 head file for {(Backbone == LpipsBackbone.Vgg16 ? "vgg" : "alex")} (lpips-v0.1/{(Backbone == LpipsBackbone.Vgg16 ? "vgg" : "alex")}.pth)");
            Copy(h, _lins[k], key, source);
        }
    }

    static void Copy(HostTensor h, Tensor t, string key, string source)
    {
        if (!h.Shape.SequenceEqual(t.Shape))
            throw new StateDictException($"{source}: {key} has shape [{string.Join(", ", h.Shape)}], LPIPS expects [{string.Join(", ", t.Shape)}]; is it the file for the other backbone?");
        t.CopyFrom(h.ToFloats());
    }

    /// <summary>The LPIPS distance of each pair: a, b [N, 3, H, W] in [-1, 1] -> [N].</summary>
    public Tensor PerSample(Tensor a, Tensor b)
    {
        if (a.Rank != 4 || a[1] != 3 || !a.Shape.SequenceEqual(b.Shape))
            throw new ArgumentException($"LPIPS compares two RGB batches of the same shape [N, 3, H, W]; got [{string.Join(", ", a.Shape)}] and [{string.Join(", ", b.Shape)}]");
        int min = LpipsLayout.MinSide(Backbone);
        if (a[2] < min || a[3] < min)
            throw new ArgumentException($"LPIPS-{Backbone} needs images of at least {min}x{min} pixels, got {a[3]}x{a[2]}; pad or upscale the image");
        var fa = Features(a);
        var fb = Features(b);
        Tensor? total = null;
        for (int k = 0; k < _stages.Count; k++)
        {
            int n = fa[k][0], c = fa[k][1], hw = fa[k][2] * fa[k][3];
            using var na = ChannelNormalized(fa[k]);
            using var nb = ChannelNormalized(fb[k]);
            fa[k].Dispose(); fb[k].Dispose();
            using var d = F.Sub(na, nb);
            using var d2 = F.Mul(d, d);
            using var rows = F.Reshape(d2, n * hw, 2 * c);
            using var w = HeadRow(k);
            using var r = F.Linear(rows, w, null);
            using var per = F.Reshape(r, n, hw);
            using var sum = F.SumPerSample(per);
            var mean = F.Scale(sum, 1f / hw);
            if (total is null) total = mean;
            else { var t = F.Add(total, mean); total.Dispose(); mean.Dispose(); total = t; }
        }
        return total!;
    }

    /// <summary>Mean LPIPS over the batch (a scalar loss).</summary>
    public Tensor Mean(Tensor a, Tensor b)
    {
        using var d = PerSample(a, b);
        return F.Mean(d);
    }

    /// <summary>The five tapped feature maps of x (after the scaling layer).</summary>
    List<Tensor> Features(Tensor x)
    {
        var outs = new List<Tensor>();
        var h = ScalingLayer(x);
        bool own = true; // false while h is a tap that outs still holds
        foreach (var st in _stages)
        {
            if (st.PoolK > 0)
            {
                var p = F.MaxPool2d(h, st.PoolK, st.PoolStride);
                if (own) h.Dispose();
                h = p; own = true;
            }
            foreach (var c in st.Convs)
            {
                var (w, b) = _convs[c.Index];
                using var z = F.Conv2d(h, w, b, c.Stride, c.Pad);
                if (own) h.Dispose();
                h = F.Relu(z); own = true;
            }
            outs.Add(h); own = false;
        }
        return outs;
    }

    /// <summary>(x - shift) / scale per channel, as a 1x1 convolution with a diagonal weight.</summary>
    Tensor ScalingLayer(Tensor x)
    {
        var wv = new float[9];
        var bv = new float[3];
        for (int c = 0; c < 3; c++) { wv[c * 3 + c] = 1f / ScaleDiv[c]; bv[c] = -Shift[c] / ScaleDiv[c]; }
        using var w = Tensor.From(Ctx, wv, 3, 3, 1, 1);
        using var b = Tensor.From(Ctx, bv, 3);
        return F.Conv2d(x, w, b, 1, 0);
    }

    /// <summary>
    /// Per-pixel x / |x|_2 over channels, built from existing ops: the pixels become GroupNorm samples of the 2C values
    /// [x, -x], whose mean is exactly zero and variance 2|x|^2 / 2C = |x|^2 / C, so GroupNorm returns sqrt(C) x / sqrt(|x|^2 + C eps).
    /// Returns [N*H*W, 2C, 1, 1] (pixel-major; the second half is the negation). The sqrt(C) and the second half are
    /// folded into <see cref="HeadRow"/>. eps = 1e-20 stands in for LPIPS's "+ 1e-10" (both only matter where x = 0).
    /// </summary>
    internal static Tensor ChannelNormalized(Tensor x, float eps = 1e-20f)
    {
        int n = x[0], c = x[1], hw = x[2] * x[3];
        using var pix = F.Permute(x, [n, hw, c], [(long)c * hw, 1, hw], [(long)hw * c, c, 1], [n * hw, c, 1, 1]);
        using var neg = F.Scale(pix, -1f);
        using var both = F.ConcatChannels(pix, neg);
        using var gamma = Tensor.Full(x.Ctx, 1f, 2 * c);
        using var beta = Tensor.Zeros(x.Ctx, 2 * c);
        return F.GroupNorm(both, 1, gamma, beta, eps);
    }

    /// <summary>The lin weights as a [1, 2C] row for <see cref="ChannelNormalized"/>'s layout: [w / C, 0] (the squared difference carries a factor C).</summary>
    Tensor HeadRow(int k)
    {
        var w = _lins[k].ToArray();
        int c = w.Length;
        var row = new float[2 * c];
        for (int i = 0; i < c; i++) row[i] = w[i] / c;
        return Tensor.From(Ctx, row, 1, 2 * c);
    }
}
