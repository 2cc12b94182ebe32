using Ctmsr.Autograd;
using Ctmsr.Kernels;

namespace Ctmsr.Model.Network;

/// <summary>
/// One Swin window-attention block over an NCHW map (spec section 3, "SwinLayer"):
/// x0 = x; x = embed(x); s = x; x = s + proj(attn(qkv(windows(norm1(x)))));
/// x = x + fc2(GELU(fc1(norm2(x)))); x = conv(unembed(x)) + x0.
/// </summary>
public sealed class SwinLayer : Module
{
    readonly Conv2d _embed, _unembed, _conv, _fc1, _fc2;
    readonly GroupNorm _norm1, _norm2;
    readonly Linear _qkv, _proj;
    readonly Tensor _table;
    readonly int _ws, _heads, _e;

    /// <summary>The official "attn" module: the relative-position table (parameter) and index (buffer), qkv and proj.</summary>
    sealed class Attention : Module
    {
        public readonly Tensor Table;
        public readonly Linear Qkv, Proj;

        public Attention(Context ctx, int e, int ws, int heads) : base(ctx)
        {
            int span = 2 * ws - 1;
            Table = RegisterParameter("relative_position_bias_table", span * span, heads);
            RegisterBuffer("relative_position_index", RelativePositionIndex(ws), "I64", ws * ws, ws * ws);
            Qkv = RegisterModule("qkv", new Linear(ctx, e, 3 * e));
            Proj = RegisterModule("proj", new Linear(ctx, e, e));
        }
    }

    public SwinLayer(Context ctx, int channels, CtmsrConfig cfg) : base(ctx)
    {
        _ws = cfg.WindowSize; _heads = cfg.NumHeads; _e = cfg.EmbedDim;
        int e = cfg.EmbedDim;
        _embed = RegisterModule("patch_embed", new ModuleDict(ctx)).Add("proj", new Conv2d(ctx, channels, e, 1));
        _unembed = RegisterModule("patch_unembed", new ModuleDict(ctx)).Add("proj", new Conv2d(ctx, e, channels, 1));
        _conv = RegisterModule("conv", new Conv2d(ctx, channels, channels, 3));
        var b0 = RegisterModule("blocks", new ModuleList(ctx)).Add(new ModuleDict(ctx));
        _norm1 = b0.Add("norm1", new GroupNorm(ctx, e, 32, 1e-5f));
        var attn = b0.Add("attn", new Attention(ctx, e, _ws, _heads));
        (_table, _qkv, _proj) = (attn.Table, attn.Qkv, attn.Proj);
        _norm2 = b0.Add("norm2", new GroupNorm(ctx, e, 32, 1e-5f));
        var mlp = b0.Add("mlp", new ModuleDict(ctx));
        _fc1 = mlp.Add("fc1", new Conv2d(ctx, e, cfg.MlpRatio * e, 1));
        _fc2 = mlp.Add("fc2", new Conv2d(ctx, cfg.MlpRatio * e, e, 1));
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
            using var g = _fc1.ForwardAct(n2, Activation.Gelu);
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
