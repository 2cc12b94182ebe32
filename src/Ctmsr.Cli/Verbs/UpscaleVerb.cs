using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Ctmsr.Imaging;
using Ctmsr.Inference;
using Spectre.Console;

namespace Ctmsr.Cli.Verbs;

/// <summary>
/// `ctmsr upscale IN -o OUT --weights W [--device D] [--tile auto|N] [--blend average|cosine] [--color-fix ...]
/// [--alpha ...] [-f png|jpg|webp|webp-lossy|tiff] [--quality Q] [--max-pixels N] [--bit-depth auto|8|16] [--recursive] [--overwrite] [--json]
/// [--threads N] [--steps N] [--sampler ode|consistency|msde] [--gamma G] [--guidance W] [--start T]`.
/// Exit codes: 0 every file upscaled or skipped, 1 some failed, 2 a usage error, 130 interrupted.
/// Option values are parsed here rather than by the parser, so a bad value is a one-line usage error (exit 2).
/// </summary>
static class UpscaleVerb
{
    public static Command Create()
    {
        var input = new Argument<string?>("input") { Description = "an image file or a folder of images", Arity = ArgumentArity.ZeroOrOne };
        var output = new Option<string?>("-o", "--output") { Description = "output file (single input) or folder" };
        var weights = new Option<string?>("--weights") { Description = "model weights: .safetensors or the official CTMSR.pth (params_ema is used)" };
        var seed = new Option<string?>("--seed") { Description = "noise seed (default 0)" };
        var tile = new Option<string?>("--tile") { Description = "LR tile size: auto or 0 (default: fit free device memory, at most 512, halve on out-of-memory) or N, a multiple of the model's size unit (64 for the x4 model; the error names it)" };
        var overlap = new Option<string?>("--tile-overlap") { Description = "LR pixels shared by neighbouring tiles (default 64, the spec's stride 448 at tile 512; half the tile below 128)" };
        var blend = new Option<string?>("--blend") { Description = "tile blending: cosine (default: a cross-fade, no seams) or average (the paper's uniform mean, which shows seams)" };
        var colorFix = new Option<string?>("--color-fix") { Description = "colour correction toward the bicubic input: none (default), adain or wavelet" };
        var alpha = new Option<string?>("--alpha") { Description = "alpha plane: model (default; a uniform alpha is carried as is), bicubic or discard" };
        var format = new Option<string?>("-f", "--format") { Description = "output format: png (default for folders), jpg, webp (lossless), webp-lossy or tiff; a single output follows its extension. Names: a single output is written to exactly -o (never another name; JPEG/TIFF drop alpha with a notice); a folder output mirrors the input tree with the format's extension, and inputs that would share a name (x.png, x.jpg) become x-png.png, x-jpg.png; an existing file is replaced only with --overwrite, and only the one named" };
        var quality = new Option<string?>("--quality") { Description = "JPEG and lossy WebP quality 1..100 (default 95)" };
        var tta = new Option<bool>("--tta") { Description = "test-time augmentation: average the 8 flips/rotations (8 times slower, a little cleaner)" };
        var outScale = new Option<string?>("--scale") { Description = "output scale 2, 3 or 4 (default 4): the x4 result resampled down" };
        var outWidth = new Option<string?>("--width") { Description = "output width in pixels (height in proportion): the x4 result resampled" };
        var maxMemory = new Option<string?>("--max-memory") { Description = "device memory --tile auto may plan for, e.g. 2G or 512M (default: 80% of the free memory, at most 4G)" };
        var maxPixels = new Option<string?>("--max-pixels") { Description = "largest input in pixels (width x height), checked from the header before decoding (default and ceiling: the largest whose x4 result fits in memory, about 44.7 MP for RGB)" };
        var bitDepth = new Option<string?>("--bit-depth") { Description = "PNG bits per sample: auto (default: as the input), 8 or 16" };
        var recursive = new Option<bool>("--recursive") { Description = "walk sub-folders, mirroring them under the output folder" };
        var skipExisting = new Option<bool>("--skip-existing") { Description = "leave outputs that exist alone (the default)" };
        var overwrite = new Option<bool>("--overwrite") { Description = "replace outputs that exist" };
        var json = new Option<bool>("--json") { Description = "progress as JSON lines on stdout, ending with a summary object" };
        var sampling = new SamplerFlags();
        var device = DeviceOption.Create();
        var threads = ThreadsOption.Create();
        var precision = PrecisionOption.Create();
        var cmd = new Command("upscale", "x4 super-resolution of images (one step; tiled; PNG, JPEG, WebP or TIFF output; '-' reads stdin or writes stdout)")
        {
            input, output, weights, seed, tile, overlap, blend, colorFix, alpha, format, quality, maxPixels, maxMemory, tta, outScale, outWidth, bitDepth,
            recursive, skipExisting, overwrite, json, device, threads, precision,
        };
        sampling.AddTo(cmd);
        // the parser's own errors (a missing option value, an unknown option) are usage errors for Program, like every verb's
        cmd.SetGuardedAction(r =>
        {
            try { return Execute(r); }
            catch (Exception e) when (r.GetValue(json))
            {
                // under --json a fatal error is an event too, so a consumer of stdout sees why the stream ended
                int code = Fail.Report(e);
                Emit(new { @event = "error", message = e.Message.ReplaceLineEndings(" "), exitCode = code });
                return code;
            }
        });
        return cmd;

        int Execute(ParseResult r)
        {
            ThreadsOption.Apply(r, threads);
            string inPath = r.GetValue(input) ?? throw new ArgumentException("no input given; usage: ctmsr upscale IN -o OUT --weights W");
            string outPath = r.GetValue(output) ?? throw new ArgumentException("no output given; add -o OUT (a file, or a folder for a folder input)");
            string w = r.GetValue(weights) ?? throw new ArgumentException("no model given; add --weights W (.safetensors or the official CTMSR.pth)");
            if (r.GetValue(skipExisting) && r.GetValue(overwrite)) throw new ArgumentException("--skip-existing and --overwrite contradict each other; pick one");

            var options = new UpscaleOptions
            {
                Seed = r.GetValue(seed) is { } s ? ParseULong("--seed", s) : 0,
                Tile = r.GetValue(tile) is { } t && !t.Equals("auto", StringComparison.OrdinalIgnoreCase) && ParseInt("--tile", t, 0, 1 << 16) is int tv and > 0 ? tv : null,
                MaxInputPixels = r.GetValue(maxPixels) is { } mp ? ParseLong("--max-pixels", mp) : null,
                MaxMemory = r.GetValue(maxMemory) is { } mm ? ParseBytes("--max-memory", mm) : null,
                Tta = r.GetValue(tta),
                OutScale = r.GetValue(outScale) is { } os ? ParseInt("--scale", os, 2, 4) : null,
                OutWidth = r.GetValue(outWidth) is { } ow ? ParseInt("--width", ow, 1, 1 << 20) : null,
                TileOverlap = r.GetValue(overlap) is { } o ? ParseInt("--tile-overlap", o, 0, 1 << 16) : null,
                Blend = Choice("--blend", r.GetValue(blend), TileBlendMode.Cosine, ("average", TileBlendMode.Average), ("cosine", TileBlendMode.Cosine)),
                ColorFix = Choice("--color-fix", r.GetValue(colorFix), ColorFixMode.None, ("none", ColorFixMode.None), ("adain", ColorFixMode.AdaIn), ("wavelet", ColorFixMode.Wavelet)),
                Alpha = Choice("--alpha", r.GetValue(alpha), AlphaMode.Model, ("model", AlphaMode.Model), ("bicubic", AlphaMode.Bicubic), ("discard", AlphaMode.Discard)),
            };
            options = sampling.Apply(r, options);
            var outFormat = Choice("-f", r.GetValue(format), OutputFormat.Auto, ("png", OutputFormat.Png), ("jpg", OutputFormat.Jpeg), ("jpeg", OutputFormat.Jpeg),
                ("webp", OutputFormat.WebP), ("webp-lossy", OutputFormat.WebP), ("tiff", OutputFormat.Tiff), ("tif", OutputFormat.Tiff));
            var save = new SaveOptions
            {
                Format = outFormat,
                WebpLossless = !"webp-lossy".Equals(r.GetValue(format), StringComparison.OrdinalIgnoreCase),
                Quality = r.GetValue(quality) is { } q ? ParseInt("--quality", q, 1, 100) : 95,
                BitDepth = r.GetValue(bitDepth) is { } b && !b.Equals("auto", StringComparison.OrdinalIgnoreCase) ? ParseInt("--bit-depth", b, 8, 16) : null,
                Overwrite = r.GetValue(overwrite),
            };
            if (save.BitDepth is not (null or 8 or 16)) throw new ArgumentException($"--bit-depth {save.BitDepth} must be auto, 8 or 16");
            if (save.Quality != 95 && outFormat is OutputFormat.Png or OutputFormat.Tiff) Console.Error.WriteLine("ctmsr: note: --quality applies to JPEG and lossy WebP output only");

            if (outPath == "-" && r.GetValue(json)) throw new ArgumentException("-o - writes the image to stdout, where --json writes its events too: drop one of them");
            var jobs = UpscaleBatch.Plan(inPath, outPath, r.GetValue(recursive), outFormat);
            foreach (var j in jobs.Take(1)) save.Check(j.Output); // usage errors (extension, format, depth) before loading the model
            UpscaleBatch.CheckWritable(jobs);

            if (!File.Exists(w)) throw new FileNotFoundException($"{w}: no such weights file (convert the official CTMSR.pth or pass it directly)");
            ImageCodec.EnsureNativeLibraries();

            bool asJson = r.GetValue(json);
            var sw = System.Diagnostics.Stopwatch.StartNew();
            using var up = Upscaler.Load(w, DeviceOption.Open(r.GetValue(device), r.GetValue(precision)), options);
            string tileText = options.Tile is int ft ? $"{ft}" : "auto";
            if (asJson) Emit(new { @event = "model", config = up.Config.ToString(), device = up.DeviceName, ms = sw.Elapsed.TotalMilliseconds, tile = tileText, steps = options.Steps, images = jobs.Count });
            else Console.Error.WriteLine($"model {up.Config} on {up.DeviceName}, loaded in {sw.Elapsed.TotalSeconds:0.0} s; tile {tileText}, {options.Sampling.Describe()}, {jobs.Count} image(s)");

            // after every usage check and the model load, so a usage error stays the only line
            var unsupported = UpscaleBatch.Unsupported(inPath, r.GetValue(recursive));
            if (unsupported.Count > 0)
                Console.Error.WriteLine($"ctmsr: note: {unsupported.Count} file(s) left out, not images this tool reads ({string.Join(", ", ImageCodec.InputExtensions.Select(e => e.TrimStart('.')))}): " +
                    string.Join(", ", unsupported.Take(10).Select(f => Path.GetRelativePath(inPath, f))) + (unsupported.Count > 10 ? ", ..." : ""));

            // under --json the summary reports the run's memory: the growth of the resident set's high-water mark over
            // the images (measured) beside the model of it (predicted, for the largest input)
            double? predicted = null;
            Ctmsr.Benchmarking.RssWatch? rss = null;
            if (asJson)
            {
                foreach (var j in jobs)
                    if (j.Input != "-" && ImageCodec.Identify(j.Input) is var (iw, ih))
                        predicted = Math.Max(predicted ?? 0, up.PredictMemoryGrowth(ih, iw, 3));
                // the calibration tile's buffers go back first, so the run allocates what it needs after the baseline
                up.Context.Pool.Trim();
                rss = Ctmsr.Benchmarking.RssWatch.Start();
            }

            using var cts = new CancellationTokenSource();
            string interrupted = "interrupted (Ctrl+C); outputs written so far are complete and are skipped when you run the same command again";
            var policy = new InterruptPolicy(cts, second =>
            {
                string message = second ? interrupted + " (second Ctrl+C: left at once)" : interrupted;
                if (asJson) Emit(new { @event = "interrupted", message });
                else Console.Error.WriteLine($"ctmsr: {message}");
                Environment.Exit(130); // AtomicFile removes a temporary in flight on the way out
            }, TimeSpan.FromSeconds(1));
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                e.Cancel = true;
                policy.Press();
            };
            Console.CancelKeyPress += onCancel;
            try
            {
                var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
                BatchSummary summary;
                if (!asJson && console.Profile.Capabilities.Interactive)
                    summary = console.Progress().AutoClear(true)
                        .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                        .Start(p =>
                        {
                            // the bar counts images, advancing by tiles within one
                            var task = p.AddTask("upscale", maxValue: jobs.Count);
                            var clock = System.Diagnostics.Stopwatch.StartNew();
                            double outMp = 0; // output megapixels of the tiles done, for the rate
                            var events = new SyncProgress<BatchEvent>(e =>
                            {
                                if (e.Kind == "tile" && e.Progress is { } tp)
                                {
                                    outMp += tp.TileSize * (double)tp.TileSize * 16 / 1e6;
                                    task.Value = e.Index + (double)tp.Tile / Math.Max(1, tp.Tiles);
                                    task.Description = Markup.Escape($"{e.Index + 1}/{e.Total} {Path.GetFileName(e.Input)} {tp.Pass} tile {tp.Tile}/{tp.Tiles} ({tp.TileSize}px) {outMp / Math.Max(clock.Elapsed.TotalSeconds, 1e-3):0.00} MP/s");
                                }
                                else
                                {
                                    if (e.Kind is "done" or "skipped" or "failed") task.Value = e.Index + 1;
                                    if (Line(e) is { } line) console.WriteLine(line);
                                }
                            });
                            return UpscaleBatch.RunAsync(up, jobs, save, events, cts.Token).GetAwaiter().GetResult();
                        });
                else
                {
                    var events = new SyncProgress<BatchEvent>(e => Report(e, asJson));
                    summary = UpscaleBatch.RunAsync(up, jobs, save, events, cts.Token).GetAwaiter().GetResult();
                }
                PrintSummary(summary, asJson, outPath == "-", rss?.PeakGrowth(), predicted);
                return summary.ExitCode;
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                if (policy.ClaimExit())
                {
                    if (asJson) Emit(new { @event = "interrupted", message = interrupted });
                    else Console.Error.WriteLine($"ctmsr: {interrupted}");
                }
                return 130;
            }
            finally { Console.CancelKeyPress -= onCancel; }
        }
    }

    static int ParseInt(string name, string s, int min, int max) =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= min && v <= max ? v
            : throw new ArgumentException($"{name} {s}: expected a whole number {min}..{max}");

    static long ParseLong(string name, string s) =>
        long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) && v > 0 ? v
            : throw new ArgumentException($"{name} {s}: expected a whole number > 0");

    static long ParseBytes(string name, string s)
    {
        string t = s.Trim().ToUpperInvariant().TrimEnd('B', 'I');
        long unit = t.EndsWith('K') ? 1L << 10 : t.EndsWith('M') ? 1L << 20 : t.EndsWith('G') ? 1L << 30 : t.EndsWith('T') ? 1L << 40 : 1;
        if (unit > 1) t = t[..^1];
        return double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 && v * unit < long.MaxValue ? (long)(v * unit)
            : throw new ArgumentException($"{name} {s}: expected a size such as 2G, 512M or a number of bytes");
    }

    static ulong ParseULong(string name, string s) =>
        ulong.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong v) ? v
            : throw new ArgumentException($"{name} {s}: expected a whole number >= 0");

    static T Choice<T>(string name, string? value, T fallback, params (string key, T value)[] choices)
    {
        if (value is null) return fallback;
        foreach (var (k, v) in choices) if (k.Equals(value, StringComparison.OrdinalIgnoreCase)) return v;
        throw new ArgumentException($"{name} {value}: use {string.Join(", ", choices.Select(c => c.key))}");
    }

    static readonly JsonSerializerOptions JsonOptions = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    static void Emit(object o) => Console.Out.WriteLine(JsonSerializer.Serialize(o, JsonOptions));

    static object Item(UpscaleFileResult r) => new
    {
        input = r.Input, output = r.Output, status = r.Status, ms = Math.Round(r.Ms, 1),
        width = r.Width == 0 ? (int?)null : r.Width, height = r.Height == 0 ? (int?)null : r.Height,
        outWidth = r.OutWidth == 0 ? (int?)null : r.OutWidth, outHeight = r.OutHeight == 0 ? (int?)null : r.OutHeight,
        tile = r.TileSize == 0 ? (int?)null : r.TileSize, notice = r.Notice, error = r.Error,
    };

    static void Report(BatchEvent e, bool asJson)
    {
        if (asJson)
        {
            switch (e.Kind)
            {
                case "start": Emit(new { @event = "start", index = e.Index, total = e.Total, input = e.Input }); break;
                case "tile": Emit(new { @event = "tile", index = e.Index, pass = e.Progress!.Pass, tile = e.Progress.Tile, tiles = e.Progress.Tiles, tileSize = e.Progress.TileSize }); break;
                case "notice": Emit(new { @event = "notice", index = e.Index, input = e.Input, message = e.Message }); break;
                default: Emit(new { @event = e.Kind, index = e.Index, total = e.Total, result = Item(e.Result!) }); break;
            }
            return;
        }
        if (Line(e) is { } line) Console.Error.WriteLine(line);
    }

    /// <summary>The human line for an event, or null for events shown only as progress.</summary>
    static string? Line(BatchEvent e)
    {
        var r = e.Result;
        return e.Kind switch
        {
            "notice" => $"ctmsr: note: {e.Message}",
            "done" => $"[{e.Index + 1}/{e.Total}] {r!.Input} -> {r.Output} ({r.Width}x{r.Height} -> {r.OutWidth}x{r.OutHeight}, tile {r.TileSize}, {r.Ms:0} ms)",
            "skipped" => $"[{e.Index + 1}/{e.Total}] {r!.Input}: skipped, {r.Output} exists (--overwrite to redo)",
            // decoder errors already name the file
            "failed" => $"ctmsr: error: {(r!.Error!.StartsWith(r.Input, StringComparison.Ordinal) ? r.Error : $"{r.Input}: {r.Error}")}",
            _ => null,
        };
    }

    static void PrintSummary(BatchSummary s, bool asJson, bool stdoutIsImage, long? peakGrowth = null, double? predictedGrowth = null)
    {
        if (asJson)
        {
            Emit(new
            {
                @event = "summary", done = s.Done, skipped = s.Skipped, failed = s.Failed, ms = Math.Round(s.Ms, 1), exitCode = s.ExitCode,
                rssPeakGrowth = peakGrowth, rssPredictedGrowth = predictedGrowth is { } p ? (long?)p : null, images = s.Items.Select(Item).ToList(),
            });
            return;
        }
        double mpix = s.Items.Where(i => i.Status == "done").Sum(i => i.OutWidth * (double)i.OutHeight) / 1e6, secs = s.Ms / 1000;
        (stdoutIsImage ? Console.Error : Console.Out).WriteLine($"{s.Done} upscaled, {s.Failed} failed, {s.Skipped} skipped (exist; --overwrite to redo) in {secs:0.0} s, {(secs > 0 ? mpix / secs : 0):0.00} output megapixels/s");
    }
}
