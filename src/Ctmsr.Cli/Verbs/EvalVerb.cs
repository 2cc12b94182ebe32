using Ctmsr.Kernels;
using System.CommandLine;
using System.Diagnostics;
using Ctmsr.Autograd;
using Ctmsr.Model.Checkpoints;
using Ctmsr.Model.Lpips;
using Ctmsr.Inference;
using Ctmsr.Metrics;
using Spectre.Console;

namespace Ctmsr.Cli.Verbs;

/// <summary>
/// `ctmsr eval (--sr DIR | --model W --lq DIR) [--gt DIR] [--lpips-alex alexnet.pth] [--csv FILE]`: the paper's metrics
/// per image and their mean. With --gt: PSNR and SSIM on Y (BasicSR), LPIPS-Alex when the torchvision AlexNet weights
/// are given, and NIQE when the pristine model is found; without: NIQE only (no-reference). With --model and --lq the
/// LQ images are upscaled on the fly (with the sampler flags of `upscale`: --steps, --sampler, --gamma, --guidance,
/// --start) and their bicubic x4 is scored beside them as the baseline (bicubic_* columns); the model's time per image
/// is printed on stderr.
/// </summary>
static class EvalVerb
{
    const string NiqeFile = "niqe_pris_params.npz";
    const string AlexHeads = "lpips-v0.1/alex.pth";

    public static Command Create()
    {
        var sr = new Option<DirectoryInfo?>("--sr") { Description = "folder of super-resolved images (PNG, JPEG, PNM); or use --model and --lq" };
        var model = new Option<FileInfo?>("--model") { Description = "upscale-and-score: model weights (.safetensors or the official CTMSR.pth) applied to --lq" };
        var lq = new Option<DirectoryInfo?>("--lq") { Description = "upscale-and-score: folder of low-quality inputs; their bicubic upsampling is scored too, as the baseline" };
        var seed = new Option<ulong>("--seed") { Description = "noise seed of the model's one step (default 0; with --model)" };
        var tile = new Option<int?>("--tile") { Description = "LR tile size for large inputs (with --model; default auto: sized from free memory, halved on out-of-memory)" };
        var gt = new Option<DirectoryInfo?>("--gt") { Description = "folder of ground-truth images, paired with --sr/--lq by file name (enables PSNR/SSIM/LPIPS)" };
        var csv = new Option<FileInfo?>("--csv") { Description = "write the table to this file (atomically) instead of stdout" };
        var crop = new Option<int>("--crop-border") { Description = "pixels dropped on each side before scoring (default 0, as in the paper)", DefaultValueFactory = _ => 0 };
        var alex = new Option<FileInfo?>("--lpips-alex") { Description = "torchvision AlexNet ImageNet weights (alexnet-owt-7be5be79.pth): adds LPIPS-Alex (needs --gt)" };
        var heads = new Option<FileInfo?>("--lpips-heads") { Description = $"LPIPS v0.1 AlexNet heads (default: $CTMSR_LPIPS_HEADS, else weights/{AlexHeads} here or in ../shared)" };
        var niqe = new Option<FileInfo?>("--niqe-params") { Description = $"NIQE pristine model (default: $CTMSR_NIQE_PARAMS, else weights/{NiqeFile} here or in ../shared)" };
        var noNiqe = new Option<bool>("--no-niqe") { Description = "skip NIQE" };
        var perceptualWeights = new Option<FileInfo?>("--perceptual-weights")
        {
            Description = "adds the ResNet18 perceptual distance (needs --gt): ResNet18.onnx of NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1 (tools/DnnImageModels/ResNet18Onnx/)",
        };
        var device = DeviceOption.Create();
        var threads = ThreadsOption.Create();
        var sampling = new SamplerFlags();
        var cmd = new Command("eval", "score super-resolved images: PSNR/SSIM (Y), LPIPS-Alex and NIQE per image, plus the mean")
            { sr, model, lq, seed, tile, gt, csv, crop, alex, heads, niqe, noNiqe, perceptualWeights, device, threads };
        sampling.AddTo(cmd);
        cmd.SetGuardedAction(r =>
        {
            ThreadsOption.Apply(r, threads);
            var srDir = r.GetValue(sr);
            var gtDir = r.GetValue(gt);
            var modelFile = r.GetValue(model);
            var lqDir = r.GetValue(lq);
            if (srDir is not null && (modelFile is not null || lqDir is not null))
                throw new ArgumentException("pass either --sr DIR (score existing outputs) or --model W --lq DIR (upscale and score), not both");
            if (srDir is not null && (r.GetResult(seed) is { Implicit: false } || r.GetResult(tile) is { Implicit: false } || sampling.Given(r)))
                throw new ArgumentException("--seed, --tile and the sampler flags (--steps, --sampler, --gamma, --guidance, --start) set how --model upscales; with --sr the images are already made: drop them");
            if (srDir is null && (modelFile is null || lqDir is null))
                throw new ArgumentException(modelFile is null && lqDir is null ? "nothing to score: pass --sr DIR, or --model W --lq DIR"
                    : modelFile is null ? "--lq needs the model to upscale with: pass --model W as well" : "--model needs the inputs to upscale: pass --lq DIR as well");
            if (srDir is not null && gtDir is null && r.GetValue(noNiqe))
                throw new ArgumentException("nothing to score: without --gt only NIQE applies, and --no-niqe turns it off; pass --gt DIR or drop --no-niqe");

            // sampler values are usage errors, reported before any file is looked at
            var options = srDir is null ? sampling.Apply(r, new UpscaleOptions { Seed = r.GetValue(seed), Tile = r.GetValue(tile) }) : null;
            if (modelFile is not null && !modelFile.Exists)
                throw new FileNotFoundException($"{modelFile.FullName}: no such weights file; pass a .safetensors or the official CTMSR.pth to --model");

            Upscaler? upscaler = null;
            List<EvalItem> items;
            var modelTime = new Stopwatch();
            int modelImages = 0;
            if (srDir is not null) items = Evaluation.PairDirectories(srDir.FullName, gtDir?.FullName);
            else
            {
                Evaluation.PairDirectories(lqDir!.FullName, gtDir?.FullName); // a pairing error shows before the (slow) model load
                var up = upscaler = Upscaler.Load(modelFile!.FullName, DeviceOption.Open(r.GetValue(device)), options!);
                Ctmsr.Imaging.Image Timed(Ctmsr.Imaging.Image lr)
                {
                    modelTime.Start();
                    try { return up.Upscale(lr); }
                    finally { modelTime.Stop(); modelImages++; }
                }
                items = Evaluation.PairLq(lqDir.FullName, gtDir?.FullName, Timed, up.Config.Scale);
                Console.Error.WriteLine($"model {upscaler.Config} on {upscaler.DeviceName}, {options!.Sampling.Describe()}; scoring it and bicubic x{upscaler.Config.Scale} on {items.Count} images");
            }

            NiqeModel? niqeModel = null;
            if (!r.GetValue(noNiqe))
            {
                var path = r.GetValue(niqe)?.FullName ?? WeightFiles.FindDefault("CTMSR_NIQE_PARAMS", NiqeFile);
                if (path is null && gtDir is null)
                    throw new FileNotFoundException($"no-reference evaluation needs the NIQE pristine model: pass --niqe-params {NiqeFile} (BasicSR's) or set CTMSR_NIQE_PARAMS");
                if (path is not null) niqeModel = NiqeModel.Load(path);
                else Console.Error.WriteLine($"ctmsr: note: {NiqeFile} not found, NIQE skipped (pass --niqe-params)");
            }

            Context? ctx = null;
            LpipsScorer? lpips = null;
            var alexPath = r.GetValue(alex);
            if (alexPath is not null)
            {
                if (gtDir is null) throw new ArgumentException("--lpips-alex compares with ground truth: pass --gt DIR as well");
                if (!alexPath.Exists) throw new FileNotFoundException($"{alexPath.FullName}: no such file; pass torchvision's AlexNet ImageNet weights (alexnet-owt-7be5be79.pth)");
                var headsPath = r.GetValue(heads)?.FullName ?? WeightFiles.FindDefault("CTMSR_LPIPS_HEADS", AlexHeads)
                    ?? throw new FileNotFoundException($"LPIPS needs the v0.1 AlexNet heads: pass --lpips-heads {AlexHeads} or set CTMSR_LPIPS_HEADS");
                ctx = new Context(DeviceOption.Open(r.GetValue(device)));
                lpips = LpipsScorer.Load(ctx, LpipsBackbone.Alex, alexPath.FullName, headsPath);
            }
            PerceptualScorer? perceptual = null;
            if (r.GetValue(perceptualWeights) is { } pw)
            {
                if (gtDir is null) throw new ArgumentException("--perceptual-weights compares with ground truth: pass --gt DIR as well");
                ctx ??= new Context(DeviceOption.Open(r.GetValue(device)));
                perceptual = new PerceptualScorer(PerceptualOptions.Open(ctx, pw));
            }
            try
            {
                var metrics = new EvalMetrics(gtDir is not null, lpips, niqeModel, r.GetValue(crop), perceptual);
                var rows = Score(items, metrics);
                string table = Evaluation.ToCsv(rows);
                var csvPath = r.GetValue(csv);
                var mean = Evaluation.Mean(rows);
                if (modelImages > 0)
                    Console.Error.WriteLine($"model time {modelTime.Elapsed.TotalMilliseconds / modelImages:0} ms per image (mean of {modelImages}, decoding and scoring excluded)");
                if (csvPath is null)
                {
                    Console.Out.Write(table);
                    if (mean.Bicubic is { } b) Console.Error.WriteLine($"mean of {rows.Count} images: model {Summary(mean)}; bicubic {Summary(b)}");
                }
                else
                {
                    AtomicFile.WriteAllText(csvPath.FullName, table);
                    Console.WriteLine($"scored {rows.Count} images -> {csvPath.FullName}; mean: " + Summary(mean) + (mean.Bicubic is { } b ? $"; bicubic: {Summary(b)}" : ""));
                }
                int failed = rows.Count(x => x.Error is not null);
                if (failed > 0) Console.Error.WriteLine($"ctmsr: {failed} of {rows.Count} image(s) could not be scored (see the error column); the mean covers the others");
                return failed > 0 ? 1 : 0;
            }
            finally { ctx?.Dispose(); upscaler?.Dispose(); }
        });
        return cmd;
    }

    static string Summary(ImageScores m) => string.Join(", ", new[]
    {
        m.PsnrY is { } p ? $"PSNR-Y {p:F4}" : null, m.SsimY is { } s ? $"SSIM-Y {s:F4}" : null,
        m.LpipsAlex is { } l ? $"LPIPS-Alex {l:F4}" : null, m.Niqe is { } n ? $"NIQE {(double.IsNaN(n) ? "n/a" : n.ToString("F4"))}" : null,
        m.Perceptual is { } q ? $"perceptual-ResNet18 {q:F4}" : null,
    }.Where(x => x is not null));

    /// <summary>Scores every item with a progress bar on stderr (stdout may carry the table).</summary>
    static List<ImageScores> Score(IReadOnlyList<EvalItem> items, EvalMetrics metrics)
    {
        var rows = new List<ImageScores>(items.Count);
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        var sw = Stopwatch.StartNew();
        console.Progress().AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(p =>
            {
                var task = p.AddTask("eval", maxValue: items.Count);
                foreach (var item in items)
                {
                    try { rows.Add(Evaluation.Score(item, metrics)); }
                    catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
                    {
                        // one bad file is reported and the run goes on
                        string msg = e.Message.ReplaceLineEndings(" ");
                        console.MarkupLine(Markup.Escape($"ctmsr: error: {(msg.Contains(item.Name, StringComparison.Ordinal) ? msg : $"{item.Name}: {msg}")}"));
                        rows.Add(new ImageScores(item.Name, null, null, null, null, Error: msg));
                    }
                    task.Increment(1);
                    task.Description = $"eval {rows.Count}/{items.Count} ({rows.Count / Math.Max(sw.Elapsed.TotalSeconds, 1e-9):F1} it/s)";
                }
            });
        return rows;
    }
}
