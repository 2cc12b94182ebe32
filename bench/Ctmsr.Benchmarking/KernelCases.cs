using System.Text.Json.Nodes;
using Ctmsr.Kernels;
using Ctmsr.Model.Network;

namespace Ctmsr.Benchmarking;

/// <summary>
/// The kernel cases of `ctmsr bench --what kernels`, at the model's shapes for a configuration, batch and
/// LR size: square GEMMs plus the Swin qkv projection; the 3x3 convs of every level, the decoder's concatenated input
/// conv_up2 and the RGB output layer (C -> 3 at HR; forward, backward data, backward weight); window attention at
/// levels 0 and 1 (forward, backward incl. the bias-table gradient); GroupNorm at C and 2C channels; and the
/// perceptual networks' strided and large-kernel convolutions on an HR crop of the model's (the ResNet18 stem and
/// stage entries of `--perceptual resnet18`, LPIPS-Alex's first two layers; forward and backward data, as these
/// networks are frozen).
/// </summary>
public static class KernelCases
{
    public static List<KernelCase> For(CtmsrConfig cfg, int batch, int lr, IReadOnlyList<int> gemmSizes)
    {
        var list = new List<KernelCase>();
        foreach (int n in gemmSizes) list.Add(Gemm($"{n}x{n}x{n}", false, false, n, n, n));
        int c = cfg.ModelChannels, c1 = c * (cfg.ChannelMult.Length > 1 ? cfg.ChannelMult[1] : cfg.ChannelMult[0]), e = cfg.EmbedDim;
        long tokens = (long)batch * lr * lr;
        if (tokens <= int.MaxValue) list.Add(Gemm($"qkv linear {tokens}x{3 * e}x{e} (x W^T)", false, true, (int)tokens, 3 * e, e));

        var convs = new List<(string, ConvShape)>
        {
            ("level 0", new(batch, c, lr, lr, c, 3, 1, 1)),
            ("level 1", new(batch, c1, lr / 2, lr / 2, c1, 3, 1, 1)),
            ("decoder concat", new(batch, 2 * c, lr, lr, c, 3, 1, 1)),
            ("conv_up2", new(batch, c, cfg.Scale * lr, cfg.Scale * lr, c, 3, 1, 1)),
            ("RGB output", new(batch, c, cfg.Scale * lr, cfg.Scale * lr, 3, 3, 1, 1)),
        };
        // the deeper levels take other routes (x4 at LR 64: level 2 at 16^2, F(2x2, 3x3) where level 0 and 1 take
        // F(4x4, 3x3); the deepest at 8^2, too few tiles for Winograd)
        for (int level = 2; level < cfg.ChannelMult.Length; level++)
        {
            int side = lr >> level, ch = c * cfg.ChannelMult[level];
            if (side > 0) convs.Add(($"level {level}", new(batch, ch, side, side, ch, 3, 1, 1)));
        }
        foreach (var (what, s) in convs)
            foreach (var pass in new[] { "fwd", "bwd-data", "bwd-weight" })
                list.Add(Conv(what, s, pass));

        int hr = cfg.Scale * lr, alex1 = (hr + 4 - 11) / 4 + 1, alex2 = (alex1 - 3) / 2 + 1;
        foreach (var (what, s) in new (string, ConvShape)[]
        {
            ("resnet18 stem", new(batch, 3, hr, hr, 64, 7, 2, 3)),
            ("resnet18 layer2 entry", new(batch, 64, hr / 4, hr / 4, 128, 3, 2, 1)),
            ("resnet18 layer2 downsample", new(batch, 64, hr / 4, hr / 4, 128, 1, 2, 0)),
            ("resnet18 layer4 entry", new(batch, 256, hr / 16, hr / 16, 512, 3, 2, 1)),
            ("lpips-alex conv1", new(batch, 3, hr, hr, 64, 11, 4, 2)),
            ("lpips-alex conv2", new(batch, 64, alex2, alex2, 192, 5, 1, 2)),
        })
            foreach (var pass in new[] { "fwd", "bwd-data" }) list.Add(Conv(what, s, pass)); // frozen: no weight gradient

        int heads = cfg.NumHeads, d = e / heads, ws = cfg.WindowSize;
        for (int level = 0; level < 2 && (lr >> level) % ws == 0 && (lr >> level) > 0; level++)
        {
            long windows = (long)batch * (lr >> level) / ws * ((lr >> level) / ws);
            foreach (var pass in new[] { "fwd", "bwd" }) list.Add(Attention($"level {level}", (int)windows, ws, heads, d, pass));
        }

        foreach (int ch in new[] { c, 2 * c })
            foreach (var pass in new[] { "fwd", "bwd" })
                list.Add(GroupNorm(batch, ch, lr, lr, UNetBlock.Groups(ch), 1e-6f, pass));
        return list;
    }

    static DeviceBuffer Rand(Backend be, List<DeviceBuffer> owned, long count, ulong seed)
    {
        var b = be.Allocate(Math.Max(1, count));
        be.FillUniform(count, seed, 0, b);
        owned.Add(b);
        return b;
    }

    static DeviceBuffer Empty(Backend be, List<DeviceBuffer> owned, long count)
    {
        var b = be.Allocate(Math.Max(1, count));
        be.Fill(b, 0f, 0, count);
        owned.Add(b);
        return b;
    }

    public static KernelCase Gemm(string shape, bool ta, bool tb, int m, int n, int k) => new()
    {
        Op = "gemm " + (ta ? "T" : "N") + (tb ? "T" : "N"),
        Shape = shape,
        Pass = "fwd",
        Flops = FlopCount.Gemm(m, n, k),
        Torch = new JsonObject { ["kind"] = "gemm", ["m"] = m, ["n"] = n, ["k"] = k, ["ta"] = ta, ["tb"] = tb },
        Setup = (be, owned) =>
        {
            var a = Rand(be, owned, (long)m * k, 1); var b = Rand(be, owned, (long)k * n, 2); var cc = Empty(be, owned, (long)m * n);
            int lda = ta ? m : k, ldb = tb ? k : n;
            return () => be.Gemm(ta, tb, m, n, k, 1f, a, 0, lda, 0, b, 0, ldb, 0, 0f, cc, 0, n, 0, 1);
        },
    };

    public static KernelCase Conv(string what, ConvShape s, string pass) => new()
    {
        Op = s.Stride == 1 ? $"conv {s.K}x{s.K}" : $"conv {s.K}x{s.K}/{s.Stride}",
        Shape = $"{what}: {s.N}x{s.Cin}x{s.H}x{s.W} -> {s.Cout}",
        Pass = pass,
        Flops = FlopCount.Conv(s),
        Torch = new JsonObject
        {
            ["kind"] = "conv", ["n"] = s.N, ["cin"] = s.Cin, ["h"] = s.H, ["w"] = s.W, ["cout"] = s.Cout, ["k"] = s.K, ["pad"] = s.Pad, ["stride"] = s.Stride,
            ["pass"] = pass.Replace('-', '_'),
        },
        Setup = (be, owned) =>
        {
            long nx = (long)s.N * s.Cin * s.H * s.W, ny = (long)s.N * s.Cout * s.OutH * s.OutW, nw = (long)s.Cout * s.Cin * s.K * s.K;
            var w = Rand(be, owned, nw, 2);
            var bias = Rand(be, owned, s.Cout, 3);
            switch (pass)
            {
                case "fwd": { var x = Rand(be, owned, nx, 1); var y = Empty(be, owned, ny); return () => be.Conv2dForward(s, x, w, bias, y); }
                case "bwd-data": { var dy = Rand(be, owned, ny, 4); var dx = Empty(be, owned, nx); return () => be.Conv2dBackwardData(s, dy, w, dx, false); }
                default: { var x = Rand(be, owned, nx, 1); var dy = Rand(be, owned, ny, 4); var dw = Empty(be, owned, nw); var db = Empty(be, owned, s.Cout); return () => be.Conv2dBackwardWeight(s, x, dy, dw, db); }
            }
        },
    };

    public static KernelCase Attention(string what, int windows, int ws, int heads, int d, string pass) => new()
    {
        Op = "window attention",
        Shape = $"{what}: {windows} windows x {ws * ws} tokens, {heads} heads x {d}",
        Pass = pass,
        Flops = pass == "fwd" ? FlopCount.AttentionForward(windows, ws, heads, d) : FlopCount.AttentionBackward(windows, ws, heads, d),
        Torch = new JsonObject { ["kind"] = "attention", ["windows"] = windows, ["ws"] = ws, ["heads"] = heads, ["d"] = d, ["pass"] = pass },
        Setup = (be, owned) =>
        {
            int t = ws * ws, e = heads * d, span = 2 * ws - 1;
            float scale = 1f / MathF.Sqrt(d);
            var qkv = Rand(be, owned, (long)windows * t * 3 * e, 1);
            var table = Rand(be, owned, span * span * heads, 2);
            var probs = Empty(be, owned, (long)windows * heads * t * t);
            var y = Empty(be, owned, (long)windows * t * e);
            if (pass == "fwd") return () => be.WindowAttentionForward(windows, ws, heads, d, scale, qkv, table, probs, y);
            be.WindowAttentionForward(windows, ws, heads, d, scale, qkv, table, probs, y);
            var dy = Rand(be, owned, (long)windows * t * e, 3);
            var dqkv = Empty(be, owned, (long)windows * t * 3 * e);
            var dScores = Empty(be, owned, (long)windows * heads * t * t);
            var dBias = Empty(be, owned, (long)heads * t * t);
            var dTable = Empty(be, owned, span * span * heads);
            // as F.WindowAttention's backward: dqkv, then the bias table's gradient (the twin computes both)
            return () =>
            {
                be.WindowAttentionBackward(windows, ws, heads, d, scale, qkv, probs, dy, dqkv, false, dScores);
                be.SumRows(windows, heads * t * t, dScores, dBias, false);
                be.RelativeBiasBackward(ws, heads, dBias, dTable);
            };
        },
    };

    public static KernelCase GroupNorm(int n, int c, int h, int w, int groups, float eps, string pass)
    {
        long count = (long)n * c * h * w;
        return new KernelCase
        {
            Op = "group norm",
            Shape = $"{n}x{c}x{h}x{w}, {groups} groups",
            Pass = pass,
            Bytes = pass == "fwd" ? FlopCount.GroupNormForwardBytes(count) : FlopCount.GroupNormBackwardBytes(count),
            Torch = new JsonObject { ["kind"] = "groupnorm", ["n"] = n, ["c"] = c, ["h"] = h, ["w"] = w, ["groups"] = groups, ["eps"] = eps, ["pass"] = pass },
            Setup = (be, owned) =>
            {
                var x = Rand(be, owned, count, 1); var gamma = Rand(be, owned, c, 2); var beta = Rand(be, owned, c, 3);
                var y = Empty(be, owned, count); var mean = Empty(be, owned, n * groups); var rstd = Empty(be, owned, n * groups);
                int hw = h * w;
                if (pass == "fwd") return () => be.GroupNormForward(n, c, hw, groups, eps, x, gamma, beta, y, mean, rstd);
                be.GroupNormForward(n, c, hw, groups, eps, x, gamma, beta, y, mean, rstd);
                var dy = Rand(be, owned, count, 4); var dx = Empty(be, owned, count);
                var dg = Empty(be, owned, c); var db = Empty(be, owned, c);
                return () => be.GroupNormBackward(n, c, hw, groups, x, gamma, mean, rstd, dy, dx, false, dg, db);
            },
        };
    }
}
