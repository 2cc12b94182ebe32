using Ctmsr.Autograd;
using Ctmsr.Kernels;
using Ctmsr.Model.Checkpoints;
using Ctmsr.Model.Network;
using Ctmsr.Train.Degradation;
using Ctmsr.Train.Imaging;
using Ctmsr.Train.Resampling;

namespace Ctmsr.Train.Inference;

/// <summary>Options of one-step inference (spec section 6).</summary>
public sealed record UpscaleOptions
{
    /// <summary>LR tile size; inputs whose padded size exceeds it are tiled.</summary>
    public int Tile { get; init; } = 512;
    public int TileStride { get; init; } = 448;
    public ulong Seed { get; init; }
    /// <summary>Noise scale of the start point x = lq_up + NoiseScale * eps (1 in the paper).</summary>
    public float NoiseScale { get; init; } = 1f;
}

/// <summary>
/// One-step CTMSR super-resolution x4: reflect-pad the LR image (bottom/right) to a multiple of the network's
/// size unit, bicubic x4, add unit noise, one evaluation of D at sigma = 1 with the loaded (EMA) weights in eval
/// mode, crop, map [-1,1] to [0,1] and clamp. Large inputs are tiled: tiles of Tile x Tile LR pixels at starts
/// 0, stride, 2 stride, ... (the last moved back to end at the border), each with its own bicubic and noise,
/// averaged uniformly where they overlap. Grey input gives grey output; alpha is upscaled bicubically.
/// </summary>
public sealed class Upscaler : IDisposable
{
    readonly Context _ctx;
    readonly CtmsrNet _net;
    public UpscaleOptions Options { get; }
    public CtmsrConfig Config => _net.Config;
    public string DeviceName => _ctx.Backend.Name;

    public Upscaler(Backend backend, IReadOnlyDictionary<string, HostTensor> weights, UpscaleOptions? options = null)
    {
        Options = options ?? new UpscaleOptions();
        if (Options.Tile <= 0 || Options.TileStride <= 0 || Options.TileStride > Options.Tile)
            throw new ArgumentException($"tile {Options.Tile} and stride {Options.TileStride}: need 0 < stride <= tile");
        _ctx = new Context(backend);
        _net = new CtmsrNet(_ctx, ConfigInference.FromStateDict(weights));
        ModelWeights.Load(_net, weights);
        _net.Eval();
        if (Options.Tile % _net.Config.SizeMultiple != 0)
            throw new ArgumentException($"--tile {Options.Tile} must be a multiple of {_net.Config.SizeMultiple} for this model");
    }

    /// <summary>Loads weights from a safetensors file (ours or a fixture) or an official .pth (params_ema).</summary>
    public static Upscaler Load(string weightsPath, Backend backend, UpscaleOptions? options = null, string? key = null) =>
        new(backend, CheckpointFiles.LoadStateDict(weightsPath, key ?? "params_ema"), options);

    public Image Upscale(Image input)
    {
        int s = _net.Config.Scale, h = input.Height, w = input.Width;
        var rgb = input.ToRgb();
        var sr = UpscaleRgb(rgb.Data, h, w);
        int oh = h * s, ow = w * s, plane = oh * ow;
        Image result;
        if (input.IsGrey)
        {
            var g = new float[plane];
            for (int i = 0; i < plane; i++) g[i] = (sr[i] + sr[plane + i] + sr[2 * plane + i]) / 3f;
            result = new Image(ow, oh, input.HasAlpha ? 2 : 1, input.BitDepth, input.HasAlpha ? g.Concat(UpscaleAlpha(input, s)).ToArray() : g);
        }
        else result = new Image(ow, oh, input.HasAlpha ? 4 : 3, input.BitDepth, input.HasAlpha ? sr.Concat(UpscaleAlpha(input, s)).ToArray() : sr);
        return result;
    }

    static float[] UpscaleAlpha(Image input, int s)
    {
        var a = Resize.Apply(input.AlphaPlane.ToArray(), 1, input.Height, input.Width, input.Height * s, input.Width * s, ResizeMode.Bicubic);
        for (int i = 0; i < a.Length; i++) a[i] = Math.Clamp(a[i], 0f, 1f);
        return a;
    }

    /// <summary>Tile start positions along one axis (spec section 6).</summary>
    public static List<int> TileStarts(int size, int tile, int stride)
    {
        var r = new List<int>();
        if (size <= tile) { r.Add(0); return r; }
        for (int p = 0; ; p += stride)
        {
            int q = Math.Min(p, size - tile);
            if (r.Count == 0 || r[^1] != q) r.Add(q);
            if (p + tile >= size) break;
        }
        return r;
    }

    /// <summary>RGB planes in [0,1] of an LR image -> RGB planes in [0,1] of the x4 result.</summary>
    public float[] UpscaleRgb(float[] lr, int h, int w)
    {
        int s = _net.Config.Scale, m = _net.Config.SizeMultiple;
        int ph = (h + m - 1) / m * m, pw = (w + m - 1) / m * m;
        var padded = ReflectPad(lr, h, w, ph, pw);
        var sum = new float[3 * ph * s * pw * s];
        var count = new float[ph * s * pw * s];
        var ys = TileStarts(ph, Options.Tile, Options.TileStride);
        var xs = TileStarts(pw, Options.Tile, Options.TileStride);
        int th = Math.Min(ph, Options.Tile), tw = Math.Min(pw, Options.Tile);
        ulong tileIndex = 0;
        foreach (int ty in ys)
            foreach (int tx in xs)
            {
                var tile = Crop(padded, ph, pw, ty, tx, th, tw);
                var out_ = OneStep(tile, th, tw, Options.Seed, tileIndex++);
                int oh = th * s, ow = tw * s, full = pw * s;
                for (int c = 0; c < 3; c++)
                    for (int y = 0; y < oh; y++)
                        for (int x = 0; x < ow; x++)
                            sum[(c * ph * s + ty * s + y) * full + tx * s + x] += out_[(c * oh + y) * ow + x];
                for (int y = 0; y < oh; y++)
                    for (int x = 0; x < ow; x++) count[(ty * s + y) * full + tx * s + x] += 1;
            }
        int H = h * s, W = w * s, PW = pw * s, PH = ph * s;
        var result = new float[3 * H * W];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                {
                    float v = sum[(c * PH + y) * PW + x] / count[y * PW + x];
                    result[(c * H + y) * W + x] = Math.Clamp((v + 1f) * 0.5f, 0f, 1f);
                }
        return result;
    }

    /// <summary>D(lq_up + eps; sigma = 1, lq) for one tile in [0,1]; returns [-1,1] values.</summary>
    float[] OneStep(float[] tile01, int h, int w, ulong seed, ulong tileIndex)
    {
        int s = _net.Config.Scale;
        var lq = new float[tile01.Length];
        for (int i = 0; i < lq.Length; i++) lq[i] = 2f * tile01[i] - 1f;
        var up = Resize.Apply(lq, 3, h, w, h * s, w * s, ResizeMode.Bicubic);
        using var noGrad = Tape.NoGrad();
        using var scope = Tape.Scope();
        var x = Tensor.From(_ctx, up, 1, 3, h * s, w * s);
        var eps = Tensor.Empty(_ctx, 1, 3, h * s, w * s);
        // a distinct Philox stream per tile: tile index in the upper bits of the counter
        _ctx.Backend.FillNormal(eps.Count, seed, tileIndex << 40, eps.Buffer);
        var xt = F.AddScaled(x, 1f, eps, Options.NoiseScale);
        var lqT = Tensor.From(_ctx, lq, 1, 3, h, w);
        return Precond.D(_net, xt, [1f], lqT).ToArray();
    }

    static float[] ReflectPad(float[] src, int h, int w, int ph, int pw)
    {
        if (ph == h && pw == w) return src;
        var r = new float[3 * ph * pw];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < ph; y++)
            {
                int sy = Filter2D.Reflect(y, h);
                for (int x = 0; x < pw; x++) r[(c * ph + y) * pw + x] = src[(c * h + sy) * w + Filter2D.Reflect(x, w)];
            }
        return r;
    }

    static float[] Crop(float[] src, int h, int w, int y0, int x0, int th, int tw)
    {
        var r = new float[3 * th * tw];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < th; y++)
                Array.Copy(src, (c * h + y0 + y) * w + x0, r, (c * th + y) * tw, tw);
        return r;
    }

    public void Dispose() => _ctx.Dispose();
}
