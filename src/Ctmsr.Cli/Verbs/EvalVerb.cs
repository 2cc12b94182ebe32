using System.CommandLine;
using System.Diagnostics;
using Ctmsr.Autograd;
using Ctmsr.Model.Checkpoints;
using Ctmsr.Model.Lpips;
using Ctmsr.Train.Metrics;
using Spectre.Console;

namespace Ctmsr.Cli.Verbs;

/// <summary>
/// `ctmsr eval --sr DIR [--gt DIR] [--lpips-alex alexnet.pth] [--csv FILE]`: the paper's metrics per image and their
/// mean. With --gt: PSNR and SSIM on Y (BasicSR), LPIPS-Alex when the torchvision AlexNet weights are given, and NIQE
/// when the pristine model is found; without: NIQE only (no-reference).
/// </summary>
static class EvalVerb
{
    const string NiqeFile = "niqe_pris_params.npz";
    const string AlexHeads = "lpips-v0.1/alex.pth";

    public static Command Create()
    {
        var sr = new Option<DirectoryInfo>("--sr") { Description = "folder of super-resolved images (PNG, JPEG, PNM)", Required = true };
        var gt = new Option<DirectoryInfo?>("--gt") { Description = "folder of ground-truth images, paired with --sr by file name (enables PSNR/SSIM/LPIPS)" };
        var csv = new Option<FileInfo?>("--csv") { Description = "write the table to this file (atomically) instead of stdout" };
        var crop = new Option<int>("--crop-border") { Description = "pixels dropped on each side before scoring (default 0, as in the paper)", DefaultValueFactory = _ => 0 };
        var alex = new Option<FileInfo?>("--lpips-alex") { Description = "torchvision AlexNet ImageNet weights (alexnet-owt-7be5be79.pth): adds LPIPS-Alex (needs --gt)" };
        var heads = new Option<FileInfo?>("--lpips-heads") { Description = $"LPIPS v0.1 AlexNet heads (default: $CTMSR_LPIPS_HEADS, else weights/{AlexHeads} here or in ../shared)" };
        var niqe = new Option<FileInfo?>("--niqe-params") { Description = $"NIQE pristine model (default: $CTMSR_NIQE_PARAMS, else weights/{NiqeFile} here or in ../shared)" };
        var noNiqe = new Option<bool>("--no-niqe") { Description = "skip NIQE" };
        var device = DeviceOption.Create();
        var cmd = new Command("eval", "score super-resolved images: PSNR/SSIM (Y), LPIPS-Alex and NIQE per image, plus the mean")
            { sr, gt, csv, crop, alex, heads, niqe, noNiqe, device };
        cmd.SetGuardedAction(r =>
        {
            var srDir = r.GetValue(sr)!;
            var gtDir = r.GetValue(gt);
            // Hook: `--model W --lq DIR` (upscale-and-score) will build these items with Sr = () => upscale(lq) instead.
            var items = Evaluation.PairDirectories(srDir.FullName, gtDir?.FullName);

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
            try
            {
                var metrics = new EvalMetrics(gtDir is not null, lpips, niqeModel, r.GetValue(crop));
                var rows = Score(items, metrics);
                string table = Evaluation.ToCsv(rows);
                var csvPath = r.GetValue(csv);
                if (csvPath is null) Console.Out.Write(table);
                else
                {
                    AtomicFile.WriteAllText(csvPath.FullName, table);
                    var mean = Evaluation.Mean(rows);
                    Console.WriteLine($"scored {rows.Count} images -> {csvPath.FullName}; mean: " + string.Join(", ", new[]
                    {
                        mean.PsnrY is { } p ? $"PSNR-Y {p:F4}" : null, mean.SsimY is { } s ? $"SSIM-Y {s:F4}" : null,
                        mean.LpipsAlex is { } l ? $"LPIPS-Alex {l:F4}" : null, mean.Niqe is { } n ? $"NIQE {n:F4}" : null,
                    }.Where(x => x is not null)));
                }
                return 0;
            }
            finally { ctx?.Dispose(); }
        });
        return cmd;
    }

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
                    rows.Add(Evaluation.Score(item, metrics));
                    task.Increment(1);
                    task.Description = $"eval {rows.Count}/{items.Count} ({rows.Count / Math.Max(sw.Elapsed.TotalSeconds, 1e-9):F1} it/s)";
                }
            });
        return rows;
    }
}
