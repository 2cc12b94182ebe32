using Ctmsr.Autograd;
using Ctmsr.Kernels;

namespace Ctmsr.Model.Network;

/// <summary>
/// The network F(x, c_noise, lq) (spec section 3): timestep embedding, pixel-unshuffle stem, EDM
/// SongUNet encoder/decoder with Swin layers, aux head and the x4 output convs. Registered under
/// the official names without the "model." prefix (the checkpoint adapter adds it).
/// </summary>
public sealed class CtmsrNet : Module
{
    public CtmsrConfig Config { get; }
    public DropoutStream Dropout { get; }
    readonly Linear _map0, _map1;
    readonly Conv2d _up1, _up2, _last;
    readonly List<(string Name, UNetBlock Block)> _enc = new();
    /// <summary>Decoder steps in order; TakesSkip: the block's input is the running map concatenated with a popped skip.</summary>
    readonly List<(string Name, UNetBlock Block, bool TakesSkip)> _dec = new();
    readonly GroupNorm _auxNorm;
    readonly Conv2d _auxConv, _stem;

    /// <summary>Activations captured by name during Forward when set (for fixture comparisons).</summary>
    public Dictionary<string, float[]>? Capture { get; set; }

    public CtmsrNet(Context ctx, CtmsrConfig cfg, ulong dropoutSeed = 0) : base(ctx)
    {
        if (cfg.ChannelMult.Length == 0) throw new ArgumentException("channel_mult is empty");
        Config = cfg;
        _stem = null!;
        Dropout = new DropoutStream(dropoutSeed);
        int c = cfg.ModelChannels, emb = cfg.EmbChannels;
        _map0 = RegisterModule("map_layer0", new Linear(ctx, c, emb));
        _map1 = RegisterModule("map_layer1", new Linear(ctx, emb, emb));
        _up1 = RegisterModule("conv_up1", new Conv2d(ctx, c, c, 3));
        _up2 = RegisterModule("conv_up2", new Conv2d(ctx, c, c, 3));
        _last = RegisterModule("conv_last", new Conv2d(ctx, c, 3, 3));

        var enc = RegisterModule("enc", new ModuleDict(ctx));
        var skips = new List<int>();
        int cout = c;
        int inCh = 3 * cfg.Scale * cfg.Scale + 3;
        int levels = cfg.ChannelMult.Length;
        for (int level = 0; level < levels; level++)
        {
            string r = Res(level);
            if (level == 0)
            {
                _stem = enc.Add($"{r}_conv", new Conv2d(ctx, inCh, cout, 3));
            }
            else
            {
                var down = enc.Add($"{r}_down", new UNetBlock(ctx, cout, cout, cfg, Dropout, down: true));
                _enc.Add(($"enc.{r}_down", down));
            }
            skips.Add(cout);
            for (int i = 0; i < cfg.NumBlocks; i++)
            {
                int cin = cout; cout = c * cfg.ChannelMult[level];
                var blk = enc.Add($"{r}_block{i}", new UNetBlock(ctx, cin, cout, cfg, Dropout, attention: true));
                _enc.Add(($"enc.{r}_block{i}", blk));
                skips.Add(cout);
            }
        }

        var dec = RegisterModule("dec", new ModuleDict(ctx));
        for (int level = levels - 1; level >= 0; level--)
        {
            string r = Res(level);
            if (level == levels - 1)
            {
                _dec.Add(($"dec.{r}_in0", dec.Add($"{r}_in0", new UNetBlock(ctx, cout, cout, cfg, Dropout, attention: true)), false));
                _dec.Add(($"dec.{r}_in1", dec.Add($"{r}_in1", new UNetBlock(ctx, cout, cout, cfg, Dropout)), false));
            }
            else _dec.Add(($"dec.{r}_up", dec.Add($"{r}_up", new UNetBlock(ctx, cout, cout, cfg, Dropout, up: true)), false));
            for (int i = 0; i <= cfg.NumBlocks; i++)
            {
                int cin = cout + skips[^1]; skips.RemoveAt(skips.Count - 1);
                cout = c * cfg.ChannelMult[level];
                _dec.Add(($"dec.{r}_block{i}", dec.Add($"{r}_block{i}", new UNetBlock(ctx, cin, cout, cfg, Dropout, attention: i == cfg.NumBlocks)), true));
            }
        }
        _auxNorm = dec.Add($"{Res(0)}_aux_norm", new GroupNorm(ctx, cout, UNetBlock.Groups(cout), 1e-6f));
        _auxConv = dec.Add($"{Res(0)}_aux_conv", new Conv2d(ctx, cout, c, 3));
    }

    /// <summary>Level names use the training resolution: 64x64, 32x32, 16x16, 8x8.</summary>
    static string Res(int level) { int r = 64 >> level; return $"{r}x{r}"; }

    void Keep(string name, Tensor t) { if (Capture is not null) Capture[name] = t.ToArray(); }

    /// <summary>The timestep embedding input: [sin(c f_k), cos(c f_k)], f_k = (1/10000)^(k / (C/2 - 1)).</summary>
    public static float[] NoiseFeatures(double[] cNoise, int channels)
    {
        int half = channels / 2;
        var r = new float[cNoise.Length * channels];
        for (int b = 0; b < cNoise.Length; b++)
            for (int k = 0; k < half; k++)
            {
                double f = Math.Pow(1.0 / 10000, (double)k / (half - 1));
                double a = cNoise[b] * f;
                r[b * channels + k] = (float)Math.Sin(a);
                r[b * channels + half + k] = (float)Math.Cos(a);
            }
        return r;
    }

    /// <summary>F(x, c_noise, lq): x [B, 3, sH, sW], lq [B, 3, H, W], cNoise [B] -> [B, 3, sH, sW].</summary>
    public Tensor Forward(Tensor x, double[] cNoise, Tensor lq)
    {
        var cfg = Config;
        int b = x[0], h = lq[2], w = lq[3];
        if (x.Rank != 4 || lq.Rank != 4 || x[1] != 3 || lq[1] != 3 || lq[0] != b)
            throw new ArgumentException($"expected x [B,3,{cfg.Scale}H,{cfg.Scale}W] and lq [B,3,H,W], got [{string.Join(",", x.Shape)}] and [{string.Join(",", lq.Shape)}]");
        if (x[2] != cfg.Scale * h || x[3] != cfg.Scale * w)
            throw new ArgumentException($"x is {x[2]}x{x[3]} but lq is {h}x{w}: x must be {cfg.Scale}x the LR size");
        int m = cfg.SizeMultiple;
        if (h % m != 0 || w % m != 0)
            throw new ArgumentException($"the LR input is {h}x{w}; the network needs both sides to be multiples of {m} (window {cfg.WindowSize} at {cfg.ChannelMult.Length} levels): pad it first (the upscale path reflect-pads automatically)");
        if (cNoise.Length != b) throw new ArgumentException($"{cNoise.Length} noise levels for batch {b}");

        Tensor emb;
        using (var feats = Tensor.From(Ctx, NoiseFeatures(cNoise, cfg.ModelChannels), b, cfg.ModelChannels))
        using (var e0 = _map0.Forward(feats))
        using (var a0 = F.Silu(e0))
        using (var e1 = _map1.Forward(a0))
            emb = F.Silu(e1);
        using var embD = emb;

        var skips = new Stack<Tensor>();
        Tensor cur;
        using (var un = F.PixelUnshuffle(x, cfg.Scale))
        using (var cat = F.ConcatChannels(un, lq))
            cur = _stem.Forward(cat);
        Keep("enc." + Res(0) + "_conv", cur);
        skips.Push(cur);
        foreach (var (name, blk) in _enc)
        {
            cur = blk.Forward(cur, emb);
            Keep(name, cur);
            skips.Push(cur);
        }
        // the decoder starts from the last encoder output, which also stays on the skip stack
        foreach (var (name, blk, takesSkip) in _dec)
        {
            Tensor next;
            if (takesSkip)
            {
                using var sk = skips.Pop();
                using var cat = F.ConcatChannels(cur, sk);
                next = blk.Forward(cat, emb);
            }
            else next = blk.Forward(cur, emb);
            if (!skips.Contains(cur)) cur.Dispose();
            cur = next;
            Keep(name, cur);
        }
        Tensor aux;
        using (cur)
        using (var aa = _auxNorm.ForwardSilu(cur))
            aux = _auxConv.Forward(aa);
        Keep("dec." + Res(0) + "_aux_conv", aux);
        // the x2 and x4 stages hold the network's largest tensors. At inference (no tape) each convolution reads its
        // input's nearest x2 upsampling with halved indices (the upsampled map is never made) and the LeakyReLU is
        // written over the convolution's output, so the x4 stage holds one x4 tensor beside the x2 one it reads, where
        // it held three (upsampled input, conv, activation). With a tape the tensors backward needs stay anyway.
        Tensor c1, a, c2, a2;
        using (aux)
            c1 = _up1.ForwardUpsampled(aux);
        a = F.LeakyReluInPlace(c1, 0.2f);
        if (!ReferenceEquals(a, c1)) c1.Dispose();
        using (a)
            c2 = _up2.ForwardUpsampled(a);
        a2 = F.LeakyReluInPlace(c2, 0.2f);
        if (!ReferenceEquals(a2, c2)) c2.Dispose();
        using (a2)
        {
            var o = _last.Forward(a2);
            Keep("conv_last", o);
            return o;
        }
    }

    /// <summary>Parameter initialisation for training from scratch: U(+-1/sqrt(fan_in)) weights, zero biases, unit norms, table N(0, 0.02).</summary>
    public void InitializeRandom(int seed)
    {
        var rng = new Random(seed);
        foreach (var (name, t) in NamedParameters())
        {
            var v = new float[t.Count];
            if (name.EndsWith("relative_position_bias_table", StringComparison.Ordinal))
                for (int i = 0; i < v.Length; i++) v[i] = (float)(0.02 * Gaussian(rng));
            else if (name.Contains("norm", StringComparison.Ordinal) && name.EndsWith(".weight", StringComparison.Ordinal))
                Array.Fill(v, 1f);
            else if (name.EndsWith(".weight", StringComparison.Ordinal))
            {
                long fanIn = t.Count / t.Shape[0];
                double bound = 1 / Math.Sqrt(fanIn);
                for (int i = 0; i < v.Length; i++) v[i] = (float)((rng.NextDouble() * 2 - 1) * bound);
            }
            t.CopyFrom(v);
        }
    }

    static double Gaussian(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());
}
