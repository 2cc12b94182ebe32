using Ctmsr.Autograd;
using Ctmsr.Kernels;
using Ctmsr.Model.Checkpoints;
using Ctmsr.Model.Network;
using Ctmsr.Imaging;
using Ctmsr.Imaging.Resampling;

namespace Ctmsr.Inference;

/// <summary>
/// CTMSR super-resolution x4 (spec section 6): reflect-pad the LR image (bottom/right) to a multiple of the network's
/// size unit, bicubic x4, add unit noise, evaluate D at sigma = 1 with the loaded (EMA) weights in eval mode (or take
/// <see cref="UpscaleOptions.Steps"/> steps of a <see cref="Trajectory"/> sampler), crop, map [-1,1] to [0,1] and clamp.
/// Large inputs are tiled: tiles of Tile x Tile LR pixels at starts 0, stride, 2 stride, ... (the last moved back to end
/// at the border), each with its own bicubic and noise stream, blended where they overlap (<see cref="TileBlend"/>).
/// Only the whole image lives in host memory; the device holds one tile at a time. Grey input gives grey output; alpha
/// follows <see cref="AlphaMode"/>; an optional <see cref="ColorFix"/> pulls colours toward the bicubic input.
/// Calls are serialised: one Upscaler runs one image at a time.
/// </summary>
public sealed class Upscaler : IDisposable
{
    readonly Context _ctx;
    readonly CtmsrNet _net;
    readonly SemaphoreSlim _gate = new(1, 1);
    double _bytesPerPixel = double.NaN;
    /// <summary>Managed bytes the calibration tile allocated (objects, not the pool's buffers).</summary>
    long _managedBytesPerTile;
    int _autoCap = int.MaxValue;

    public UpscaleOptions Options { get; }
    public CtmsrConfig Config => _net.Config;
    public string DeviceName => _ctx.Backend.Name;
    public Context Context => _ctx;

    /// <summary>The LR tile edge the last image used (after any out-of-memory halving).</summary>
    public int LastTileSize { get; private set; }

    /// <summary>Bytes per LR pixel of one tile (the pool's buffers for it and its host arrays), measured once when
    /// automatic tiling or <see cref="PredictMemoryGrowth"/> first needs it (NaN before).</summary>
    public double BytesPerPixel => _bytesPerPixel;

    public Upscaler(Backend backend, IReadOnlyDictionary<string, HostTensor> weights, UpscaleOptions? options = null)
    {
        Options = options ?? new UpscaleOptions();
        var cfg = ConfigInference.FromStateDict(weights);
        Validate(Options, cfg);
        FiniteCheck.Weights(weights);
        _ctx = new Context(backend);
        _net = new CtmsrNet(_ctx, cfg);
        ModelWeights.Load(_net, weights);
        _net.Eval();
        // inference: the pool's resident total stays at the most in use at once (the low-resolution stages' buffers
        // give their memory back while the x2 and x4 stages run, and the other way round on the next tile)
        _ctx.Pool.KeepResidentAtPeak = true;
    }

    static void Validate(UpscaleOptions o, CtmsrConfig cfg)
    {
        int m = cfg.SizeMultiple;
        if (o.Tile is int t && (t <= 0 || t % m != 0))
            throw new ArgumentException($"--tile {t} must be a positive multiple of {m} (this model's size unit), or auto (0)");
        if (o.TileOverlap < 0 || (o.Tile is int t2 && o.OverlapFor(t2) >= t2))
            throw new ArgumentException($"--tile-overlap {o.TileOverlap} must be at least 0 and smaller than the tile ({o.Tile})");
        if (o.MaxAutoTile < m) throw new ArgumentException($"the largest automatic tile {o.MaxAutoTile} must be at least {m}");
        if (o.Steps is < 1 or > UpscaleOptions.MaxSteps) throw new ArgumentException($"--steps {o.Steps} must be 1..{UpscaleOptions.MaxSteps}");
        o.Sampling.Validate();
        if (!(o.NoiseScale >= 0)) throw new ArgumentException($"noise scale {o.NoiseScale} must be >= 0");
        if (o.OutScale is int os && (os < 1 || os > cfg.Scale)) throw new ArgumentException($"--scale {os} must be 1..{cfg.Scale} for this x{cfg.Scale} model");
        if (o.OutWidth is int ow && ow < 1) throw new ArgumentException($"--width {ow} must be at least 1");
        if (o.OutScale is not null && o.OutWidth is not null) throw new ArgumentException("--scale and --width both set the output size: pass one");
    }

    /// <summary>Loads weights from a safetensors file (ours or a fixture) or an official .pth (params_ema).</summary>
    public static Upscaler Load(string weightsPath, Backend backend, UpscaleOptions? options = null, string? key = null)
    {
        var weights = CheckpointFiles.LoadStateDict(weightsPath, key ?? "params_ema");
        FiniteCheck.Weights(weights, weightsPath);
        return new(backend, weights, options);
    }

    // ---- files ----

    /// <summary>
    /// Decodes <paramref name="input"/> (PNG, JPEG, WebP, TIFF, BMP, TGA, GIF, PPM/PGM; EXIF orientation applied; the size
    /// checked from the header first, see <see cref="CheckSize"/>), upscales it and writes
    /// <paramref name="output"/> atomically (temporary file and rename). With <see cref="SaveOptions.Overwrite"/> false an
    /// existing output is left alone (Status "skipped"). A JPEG output for an image with alpha is written as PNG and the
    /// result's Notice says so. Decoding, model and write errors propagate; cancellation is checked between tiles.
    /// </summary>
    public Task<UpscaleFileResult> UpscaleFileAsync(string input, string output, SaveOptions? save = null,
        IProgress<UpscaleProgress>? progress = null, CancellationToken ct = default) =>
        Task.Run(() => UpscaleFile(input, output, save, progress, ct), ct);

    /// <summary>The synchronous form of <see cref="UpscaleFileAsync"/>.</summary>
    public UpscaleFileResult UpscaleFile(string input, string output, SaveOptions? save = null,
        IProgress<UpscaleProgress>? progress = null, CancellationToken ct = default)
    {
        save ??= new SaveOptions();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        save.Check(output);
        bool toStdout = output == "-";
        if (!toStdout && !save.Overwrite && File.Exists(output)) return new UpscaleFileResult(input, output, "skipped", sw.Elapsed.TotalMilliseconds);
        // refuse an input that is too large from its header, before seconds of decoding and computing
        if (input != "-" && ImageCodec.Identify(input) is var (iw, ih)) CheckSize(input, iw, ih, 3);
        var img = ImageCodec.Decode(input, new ImageDecodeOptions { MaxPixels = Options.MaxInputPixels ?? ImageDecodeOptions.Default.MaxPixels });
        CheckSize(input, img.Width, img.Height, img.Channels);
        if (Options.Alpha == AlphaMode.Discard) img = img.WithoutAlpha();
        var (path, format, notice) = save.Resolve(output, img);
        if (!toStdout && !save.Overwrite && File.Exists(path))
            return new UpscaleFileResult(input, path, "skipped", sw.Elapsed.TotalMilliseconds, img.Width, img.Height, Notice: notice);
        var sr = Upscale(img, progress, ct);
        ct.ThrowIfCancellationRequested();
        var bytes = save.Encode(sr, format);
        if (toStdout)
        {
            using var stdout = Console.OpenStandardOutput();
            stdout.Write(bytes);
        }
        else AtomicFile.WriteAllBytes(path, bytes);
        return new UpscaleFileResult(input, path, "done", sw.Elapsed.TotalMilliseconds, img.Width, img.Height, sr.Width, sr.Height, LastTileSize, notice);
    }

    /// <summary>The largest input, in LR pixels, whose x4 result this upscaler can hold: every plane of the result and
    /// of the blending accumulator is one float array (at most Array.MaxLength samples), so an RGB input up to about
    /// 44.7 MP (33.5 MP with alpha) fits.</summary>
    public long LargestInput(int channels)
    {
        long s = _net.Config.Scale;
        return Array.MaxLength / (Math.Max(3, channels) * s * s);
    }

    /// <summary>Throws ArgumentException naming the limit when a width x height input (with its padding to the size
    /// unit) is over <see cref="UpscaleOptions.MaxInputPixels"/> or over what the result can hold.</summary>
    public void CheckSize(string name, long width, long height, int channels)
    {
        int m = _net.Config.SizeMultiple;
        long padded = (width + m - 1) / m * m * ((height + m - 1) / m * m);
        long hard = LargestInput(channels);
        long limit = Math.Min(hard, Options.MaxInputPixels ?? hard);
        if (padded > limit || width * height > limit)
            throw new ArgumentException($"{name}: image is {width}x{height} = {width * height / 1e6:0.#} megapixels, over the limit of {limit / 1e6:0.#} megapixels " +
                (limit == hard
                    ? $"(the x{_net.Config.Scale} result of a larger one does not fit in one image in memory; --max-pixels can lower this limit, not raise it): downscale or crop it"
                    : "(--max-pixels): downscale it or raise --max-pixels"));
    }

    // ---- images ----

    /// <summary>Upscales an image in memory: colour through the model, alpha per <see cref="UpscaleOptions.Alpha"/>,
    /// bit depth kept.</summary>
    public Image Upscale(Image input) => Upscale(input, null, default);

    public Image Upscale(Image input, IProgress<UpscaleProgress>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(input);
        _gate.Wait(ct);
        try { return UpscaleLocked(input, progress, ct); }
        finally { _gate.Release(); }
    }

    Image UpscaleLocked(Image input, IProgress<UpscaleProgress>? progress, CancellationToken ct)
    {
        CheckSize("the image", input.Width, input.Height, input.Channels);
        int s = _net.Config.Scale, h = input.Height, w = input.Width, oh = h * s, ow = w * s, plane = oh * ow;
        var rgb = input.ToRgb();
        var sr = Options.Tta ? RunTta(rgb.Data, h, w, progress, ct) : Run(rgb.Data, h, w, "color", progress, ct);
        FiniteCheck.Result(sr, "upscale");
        if (Options.ColorFix != ColorFixMode.None)
        {
            var reference = Resize.Apply(rgb.Data, 3, h, w, oh, ow, ResizeMode.Bicubic);
            sr = ColorFix.Apply(Options.ColorFix, sr, reference, 3, oh, ow);
        }
        float[] color = sr;
        if (input.IsGrey)
        {
            color = new float[plane];
            for (int i = 0; i < plane; i++) color[i] = (sr[i] + sr[plane + i] + sr[2 * plane + i]) / 3f;
        }
        float[]? alpha = input.HasAlpha && Options.Alpha != AlphaMode.Discard ? UpscaleAlpha(input, progress, ct) : null;
        int channels = input.ColorChannels + (alpha is null ? 0 : 1);
        var data = alpha is null ? color : [.. color, .. alpha];
        var result = new Image(ow, oh, channels, input.BitDepth, data) { Profiles = input.Profiles };
        return Resample(result);
    }

    /// <summary>The x4 result at the size <see cref="UpscaleOptions.OutScale"/> or <see cref="UpscaleOptions.OutWidth"/>
    /// ask for (itself when neither does): area averaging down, bicubic up, clamped to [0,1].</summary>
    Image Resample(Image x4)
    {
        int s = _net.Config.Scale;
        (int tw, int th) = Options switch
        {
            { OutWidth: int ow } => (ow, Math.Max(1, (int)Math.Round(x4.Height * (double)ow / x4.Width))),
            { OutScale: int os } when os != s => (x4.Width / s * os, x4.Height / s * os),
            _ => (x4.Width, x4.Height),
        };
        if (tw == x4.Width && th == x4.Height) return x4;
        var mode = tw < x4.Width ? ResizeMode.Area : ResizeMode.Bicubic;
        var d = Resize.Apply(x4.Data, x4.Channels, x4.Height, x4.Width, th, tw, mode);
        for (int i = 0; i < d.Length; i++) d[i] = Math.Clamp(d[i], 0f, 1f);
        return new Image(tw, th, x4.Channels, x4.BitDepth, d) { Profiles = x4.Profiles };
    }

    /// <summary>Test-time augmentation: the mean of the 8 dihedral transforms' results, each turned back.</summary>
    float[] RunTta(float[] rgb, int h, int w, IProgress<UpscaleProgress>? progress, CancellationToken ct)
    {
        int s = _net.Config.Scale;
        float[]? sum = null;
        for (int k = 0; k < Dihedral.Count; k++)
        {
            var (t, th, tw) = Dihedral.Apply(rgb, 3, h, w, k);
            var sr = Run(t, th, tw, $"color (tta {k + 1}/{Dihedral.Count})", progress, ct);
            var (back, _, _) = Dihedral.Invert(sr, 3, th * s, tw * s, k);
            if (sum is null) sum = back;
            else for (int i = 0; i < sum.Length; i++) sum[i] += back[i];
        }
        for (int i = 0; i < sum!.Length; i++) sum[i] /= Dihedral.Count;
        return sum;
    }

    float[] UpscaleAlpha(Image input, IProgress<UpscaleProgress>? progress, CancellationToken ct)
    {
        int s = _net.Config.Scale, h = input.Height, w = input.Width, plane = h * s * w * s;
        var a = input.AlphaPlane;
        float first = a[0];
        bool uniform = true;
        foreach (float v in a) if (v != first) { uniform = false; break; }
        var r = new float[plane];
        if (uniform) { Array.Fill(r, first); return r; }
        if (Options.Alpha == AlphaMode.Bicubic)
        {
            r = Resize.Apply(a.ToArray(), 1, h, w, h * s, w * s, ResizeMode.Bicubic);
            for (int i = 0; i < r.Length; i++) r[i] = Math.Clamp(r[i], 0f, 1f);
            return r;
        }
        // the model sees alpha as a grey image; the three output planes are averaged back to one
        float[] grey = [.. a, .. a, .. a];
        var sr = Run(grey, h, w, "alpha", progress, ct);
        for (int i = 0; i < plane; i++) r[i] = (sr[i] + sr[plane + i] + sr[2 * plane + i]) / 3f;
        return r;
    }

    /// <summary>RGB planes in [0,1] of an LR image -&gt; RGB planes in [0,1] of the x4 result (no colour fix).</summary>
    public float[] UpscaleRgb(float[] lr, int h, int w, IProgress<UpscaleProgress>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(lr);
        if (lr.Length != 3L * h * w) throw new ArgumentException($"{lr.Length} samples for 3x{h}x{w}");
        _gate.Wait(ct);
        try { return Run(lr, h, w, "color", progress, ct); }
        finally { _gate.Release(); }
    }

    // ---- tiling ----

    float[] Run(float[] lr, int h, int w, string pass, IProgress<UpscaleProgress>? progress, CancellationToken ct)
    {
        int m = _net.Config.SizeMultiple;
        int ph = (h + m - 1) / m * m, pw = (w + m - 1) / m * m;
        var padded = ReflectPad(lr, h, w, ph, pw);
        int tile = Options.Tile ?? AutoTile(ph, pw, progress, pass);
        // the whole image's accumulators live in host memory, allocated once: a host out-of-memory error here is not
        // a reason to shrink device tiles
        int s = _net.Config.Scale;
        var sum = new float[3L * ph * s * pw * s];
        var weight = new float[(long)ph * s * pw * s];
        while (true)
        {
            try
            {
                var r = RunTiles(padded, h, w, ph, pw, tile, pass, sum, weight, progress, ct);
                LastTileSize = Math.Min(tile, Math.Max(ph, pw));
                return r;
            }
            catch (Exception e) when (Options.Tile is null && DeviceMemory.IsOutOfMemory(e))
            {
                _ctx.Pool.Trim();
                int used = Math.Min(tile, Math.Max(ph, pw));
                if (used <= m)
                    throw new InsufficientMemoryException($"{DeviceName} ran out of memory even with {m}x{m} tiles ({e.Message.ReplaceLineEndings(" ")}); free memory on the device or use another --device", e);
                int next = Math.Max(m, used / 2 / m * m);
                _autoCap = next;
                Array.Clear(sum);
                Array.Clear(weight);
                progress?.Report(new UpscaleProgress("notice", pass, 0, 0, next, $"out of memory on {DeviceName} with {used}x{used} tiles; retrying with {next}x{next}"));
                tile = next;
            }
        }
    }

    /// <summary>The automatic tile: the largest multiple of the size unit whose measured memory fits 80% of what the
    /// device has free, within [unit, min(MaxAutoTile, the padded image, any size an out-of-memory error taught)].</summary>
    int AutoTile(int ph, int pw, IProgress<UpscaleProgress>? progress, string pass)
    {
        int m = _net.Config.SizeMultiple;
        int cap = Math.Min(Math.Min(Options.MaxAutoTile / m * m, _autoCap), Math.Max(ph, pw));
        if (cap <= m) return m;
        bool first = double.IsNaN(_bytesPerPixel);
        if (first)
        {
            try { _bytesPerPixel = MeasureBytesPerPixel(); }
            catch (Exception e) when (DeviceMemory.IsOutOfMemory(e))
            {
                _ctx.Pool.Trim();
                throw new InsufficientMemoryException($"{DeviceName} ran out of memory even with {m}x{m} tiles ({e.Message.ReplaceLineEndings(" ")}); free memory on the device or use another --device", e);
            }
        }
        long free = (Options.FreeMemory ?? DeviceMemory.Available)(_ctx);
        double budget = TileMemoryBudget.Budget(free, Options.MaxMemory);
        int tile = TileMemoryBudget.LargestTile(_bytesPerPixel, budget, m, cap);
        if (first)
            progress?.Report(new UpscaleProgress("calibrate", pass, 0, 0, tile,
                $"automatic tile {tile}x{tile}: the model takes {_bytesPerPixel / 1024:0.#} KiB of device memory per LR pixel, {DeviceName} has {free / 1073741824.0:0.#} GiB free, budget {budget / 1073741824.0:0.##} GiB (--max-memory)"));
        return tile;
    }

    /// <summary>Bytes of one unit-sized tile per LR pixel: the buffer pool's peak in use over it (with
    /// <see cref="BufferPool.KeepResidentAtPeak"/> that, not the sum of the sizes it handed out, is what stays resident;
    /// every activation of this network scales with the tile's area), plus the tile's host arrays.</summary>
    double MeasureBytesPerPixel()
    {
        int m = _net.Config.SizeMultiple;
        var pool = _ctx.Pool;
        pool.Trim();
        pool.ResetPeak();
        long before = pool.PeakBytesInUse;
        var grey = new float[3 * m * m];
        Array.Fill(grey, 0.5f);
        long managed = GC.GetTotalAllocatedBytes(precise: true);
        _ = SampleTile(grey, m, m, 0, CancellationToken.None);
        _managedBytesPerTile = GC.GetTotalAllocatedBytes(precise: true) - managed;
        return Math.Max(1, pool.PeakBytesInUse - before) / (double)(m * m) + TileMemoryBudget.TileHostBytesPerPixel(_net.Config.Scale);
    }

    /// <summary>Predicted growth of the process's resident memory over upscaling an RGB <paramref name="h"/> x
    /// <paramref name="w"/> image with <paramref name="channels"/> decoded channels, the model loaded (one pass; alpha
    /// through the model and --tta add passes): the tile's bytes (<see cref="BytesPerPixel"/> times its area), the CPU
    /// convolutions' scratch, the managed garbage of a tile (what the calibration tile allocated, up to the GC's
    /// youngest-generation budget: x4 at LR 64 grew 10 MiB past the model without it once the Winograd forward ran per
    /// block of output channels, 3 MiB with a 4 MiB budget) and the image-wide arrays
    /// (<see cref="TileMemoryBudget.ImageBytes"/>). Runs the one-tile calibration when it has not run yet.</summary>
    public double PredictMemoryGrowth(int h, int w, int channels)
    {
        int m = _net.Config.SizeMultiple;
        int ph = (h + m - 1) / m * m, pw = (w + m - 1) / m * m;
        int tile = Options.Tile ?? AutoTile(ph, pw, null, "color");
        if (double.IsNaN(_bytesPerPixel)) _bytesPerPixel = MeasureBytesPerPixel();
        int th = Math.Min(ph, tile), tw = Math.Min(pw, tile), s = _net.Config.Scale;
        // what the widest convolution (conv_up2, C -> C 3x3 at the x4 stage) holds outside the pool while it runs, less
        // what it held on the calibration tile: the kernels' scratch pool (one for all threads) keeps that, and the
        // band copies are capped (CpuConv.BandFloats), so on all but the smallest models the tile adds little
        int c = _net.Config.ModelChannels;
        double scratch = Math.Max(0, _ctx.Backend.Conv2dForwardScratchBytes(new ConvShape(1, c, s * th, s * tw, c, 3, 1, 1))
                                     - _ctx.Backend.Conv2dForwardScratchBytes(new ConvShape(1, c, s * m, s * m, c, 3, 1, 1)));
        // the garbage a tile allocates stays resident until a collection: up to the GC's allocation budget between
        // collections of its youngest generation (GCGen0MaxBudget, 16 MiB here), as much as the calibration tile allocated
        double garbage = Math.Min(_managedBytesPerTile, Gen0Budget.Value);
        return _bytesPerPixel * th * tw + scratch + garbage + TileMemoryBudget.ImageBytes(h, w, channels, s, m);
    }

    /// <summary>The GC's allocation budget of its youngest generation (GC.GetConfigurationVariables' GCGen0MaxBudget),
    /// else 16 MiB.</summary>
    static readonly Lazy<double> Gen0Budget = new(() =>
        GC.GetConfigurationVariables().TryGetValue("GCGen0MaxBudget", out var v) && Convert.ToDouble(v, System.Globalization.CultureInfo.InvariantCulture) is > 0 and var b
            ? b : 16.0 * 1048576);

    float[] RunTiles(float[] padded, int h, int w, int ph, int pw, int tile, string pass, float[] sum, float[] weight,
        IProgress<UpscaleProgress>? progress, CancellationToken ct)
    {
        int s = _net.Config.Scale;
        int overlap = Options.OverlapFor(tile);
        var ys = TileBlend.Starts(ph, tile, tile - overlap);
        var xs = TileBlend.Starts(pw, tile, tile - overlap);
        int th = Math.Min(ph, tile), tw = Math.Min(pw, tile);
        int PH = ph * s, PW = pw * s, oh = th * s, ow = tw * s;
        var ysSr = ys.Select(v => v * s).ToList();
        var xsSr = xs.Select(v => v * s).ToList();
        int tiles = ys.Count * xs.Count;
        ulong tileIndex = 0;
        for (int iy = 0; iy < ys.Count; iy++)
        {
            var wy = TileBlend.AxisWeights(Options.Blend, ysSr, iy, oh);
            for (int ix = 0; ix < xs.Count; ix++)
            {
                ct.ThrowIfCancellationRequested();
                var wx = TileBlend.AxisWeights(Options.Blend, xsSr, ix, ow);
                int ty = ys[iy], tx = xs[ix];
                var tileLr = Crop(padded, ph, pw, ty, tx, th, tw);
                var o = SampleTile(tileLr, th, tw, tileIndex++, ct);
                int y0 = ty * s, x0 = tx * s;
                Parallel.For(0, oh, Ctmsr.Kernels.Cpu.CpuThreads.Options, y =>
                {
                    for (int x = 0; x < ow; x++)
                    {
                        float wt = wy[y] * wx[x];
                        long p = (long)(y0 + y) * PW + x0 + x;
                        for (int c = 0; c < 3; c++) sum[c * (long)PH * PW + p] += wt * o[(c * oh + y) * ow + x];
                        weight[p] += wt;
                    }
                });
                // the tile's host arrays are garbage now: collect them before the next tile allocates its own, so the
                // resident set holds one tile's worth (the pool's buffers are reused, not collected)
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
                progress?.Report(new UpscaleProgress("tile", pass, (int)tileIndex, tiles, tile));
            }
        }
        int H = h * s, W = w * s;
        var result = new float[3 * H * W];
        Parallel.For(0, 3 * H, Ctmsr.Kernels.Cpu.CpuThreads.Options, row =>
        {
            int c = row / H, y = row % H;
            for (int x = 0; x < W; x++)
            {
                long p = (long)y * PW + x;
                float v = sum[c * (long)PH * PW + p] / weight[p];
                result[(c * H + y) * W + x] = Math.Clamp((v + 1f) * 0.5f, 0f, 1f);
            }
        });
        return result;
    }

    /// <summary>The sampler on one tile in [0,1]: lq = 2 tile - 1, y = bicubic x4 of lq, eps from the tile's own Philox
    /// stream (tile index in bits 40+ of the counter, the stochastic steps' noise n in bits 32..39); returns [-1,1] values.</summary>
    float[] SampleTile(float[] tile01, int h, int w, ulong tileIndex, CancellationToken ct)
    {
        int s = _net.Config.Scale;
        var lq = new float[tile01.Length];
        for (int i = 0; i < lq.Length; i++) lq[i] = 2f * tile01[i] - 1f;
        var up = Resize.Apply(lq, 3, h, w, h * s, w * s, ResizeMode.Bicubic);
        using var noGrad = Tape.NoGrad();
        using var scope = Tape.Scope();
        var y = Tensor.From(_ctx, up, 1, 3, h * s, w * s);
        Tensor Noise(ulong offset)
        {
            var t = Tensor.Empty(_ctx, 1, 3, h * s, w * s);
            _ctx.Backend.FillNormal(t.Count, Options.Seed, (tileIndex << 40) + offset, t.Buffer);
            return t;
        }
        var eps = Noise(0);
        var lqT = Tensor.From(_ctx, lq, 1, 3, h, w);
        var x0 = Trajectory.Sample((x, sigma) => Precond.D(_net, x, [(float)sigma], lqT), y, eps, Options.NoiseScale,
            Options.Sampling, n => Noise((ulong)n << 32), ct);
        return x0.ToArray();
    }

    static float[] ReflectPad(float[] src, int h, int w, int ph, int pw)
    {
        if (ph == h && pw == w) return src;
        var r = new float[3 * ph * pw];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < ph; y++)
            {
                int sy = Backend.Reflect101(y, h);
                for (int x = 0; x < pw; x++) r[(c * ph + y) * pw + x] = src[(c * h + sy) * w + Backend.Reflect101(x, w)];
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

    public void Dispose()
    {
        _ctx.Dispose();
        _gate.Dispose();
    }
}
