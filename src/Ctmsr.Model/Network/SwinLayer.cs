using Ctmsr.Autograd;

namespace Ctmsr.Model.Network;

/// <summary>
/// One Swin window-attention block over an NCHW map (spec section 3, "SwinLayer"):
/// x0 = x; x = embed(x); s = x; x = s + proj(attn(qkv(windows(norm1(x)))));
/// x = x + fc2(GELU(fc1(norm2(x)))); x = conv(unembed(x)) + x0.
/// </summary>
public sealed class SwinLayer : Module
{
    readonly Conv2dLayer _embed, _unembed, _conv, _fc1, _fc2;
    readonly GroupNormLayer _norm1, _norm2;
    readonly LinearLayer _qkv, _proj;
    readonly Tensor _table;
    readonly int _ws, _heads, _e;

    sealed class Holder(Context ctx) : Module(ctx)
    {
        public T Add<T>(string name, T m) where T : Module => RegisterModule(name, m);
        public Tensor Param(string name, params int[] shape) => RegisterParameter(name, shape);
        public void Buffer(string name, float[] v, string dtype, params int[] shape) => RegisterBuffer(name, v, dtype, shape);
    }

    public SwinLayer(Context ctx, int channels, CtmsrConfig cfg) : base(ctx)
    {
        _ws = cfg.WindowSize; _heads = cfg.NumHeads; _e = cfg.EmbedDim;
        int e = cfg.EmbedDim;
        var pe = RegisterModule("patch_embed", new Holder(ctx));
        _embed = pe.Add("proj", new Conv2dLayer(ctx, channels, e, 1));
        var pu = RegisterModule("patch_unembed", new Holder(ctx));
        _unembed = pu.Add("proj", new Conv2dLayer(ctx, e, channels, 1));
        _conv = RegisterModule("conv", new Conv2dLayer(ctx, channels, channels, 3));
        var blocks = RegisterModule("blocks", new Holder(ctx));
        var b0 = blocks.Add("0", new Holder(ctx));
        _norm1 = b0.Add("norm1", new GroupNormLayer(ctx, e, 32, 1e-5f));
        var attn = b0.Add("attn", new Holder(ctx));
        int span = 2 * _ws - 1;
        _table = attn.Param("relative_position_bias_table", span * span, _heads);
        attn.Buffer("relative_position_index", RelativePositionIndex(_ws), "I64", _ws * _ws, _ws * _ws);
        _qkv = attn.Add("qkv", new LinearLayer(ctx, e, 3 * e));
        _proj = attn.Add("proj", new LinearLayer(ctx, e, e));
        _norm2 = b0.Add("norm2", new GroupNormLayer(ctx, e, 32, 1e-5f));
        var mlp = b0.Add("mlp", new Holder(ctx));
        _fc1 = mlp.Add("fc1", new Conv2dLayer(ctx, e, cfg.MlpRatio * e, 1));
        _fc2 = mlp.Add("fc2", new Conv2dLayer(ctx, cfg.MlpRatio * e, e, 1));
    }

    /// <summary>index[i][j] = (yi - yj + ws - 1) * (2ws - 1) + (xi - xj + ws - 1); the kernels compute it from this formula.</summary>
    public static float[] RelativePositionIndex(int ws)
    {
        int t = ws * ws;
        var r = new float[t * t];
        for (int i = 0; i < t; i++)
            for (int j = 0; j < t; j++)
                r[i * t + j] = (i / ws - j / ws + ws - 1) * (2 * ws - 1) + (i % ws - j % ws + ws - 1);
        return r;
    }

    public Tensor Forward(Tensor x)
    {
        int b = x[0], h = x[2], w = x[3];
        using var s = _embed.Forward(x);
        Tensor a;
        using (var n1 = _norm1.Forward(s))
        using (var win = F.WindowPartition(n1, _ws))
        using (var qkv = _qkv.Forward(win))
        using (var att = F.WindowAttention(qkv, _table, _ws, _heads, 1f / MathF.Sqrt(_e / _heads)))
        using (var pr = _proj.Forward(att))
        using (var back = F.WindowReverse(pr, _ws, b, h, w))
            a = F.Add(s, back);
        Tensor m;
        using (a)
        {
            using var n2 = _norm2.Forward(a);
            using var f1 = _fc1.Forward(n2);
            using var g = F.Gelu(f1);
            using var f2 = _fc2.Forward(g);
            m = F.Add(a, f2);
        }
        using (m)
        {
            using var u = _unembed.Forward(m);
            using var c = _conv.Forward(u);
            return F.Add(c, x);
        }
    }
}
