using System.CommandLine;
using System.Diagnostics;
using Ctmsr.Autograd;
using Ctmsr.Model.Lpips;
using Ctmsr.Model.Network;
using Ctmsr.Train.Training;
using Spectre.Console;

namespace Ctmsr.Cli.Verbs;

/// <summary>
/// `ctmsr train ct --data DIR --run DIR [...]` and `ctmsr train dtm --from CT_RUN_OR_CKPT --data DIR --run DIR [...]`;
/// either continues a run with `--resume RUN_DIR`. Progress shows iteration, loss, it/s and ETA; Ctrl+C stops
/// after the current iteration and writes a checkpoint.
/// </summary>
static class TrainVerb
{
    internal sealed class Common
    {
        public readonly Option<DirectoryInfo?> Data = new("--data") { Description = "folder of HR training images (recursive; png/jpg/jpeg)" };
        public readonly Option<DirectoryInfo?> Run = new("--run") { Description = "run directory to create (config.json, log.jsonl, loss.png redrawn at each log step, checkpoints/, model_ema.safetensors)" };
        public readonly Option<DirectoryInfo?> Resume = new("--resume") { Description = "continue the run in RUN_DIR exactly from its newest checkpoint (its config.json holds the options)" };
        public readonly Option<int?> Iters = new("--iters") { Description = "total iterations (CT default 500000, DTM 2000, align and distill 30000 as in the paper)" };
        public readonly Option<int?> Batch = new("--batch") { Description = "batch size (default 32; align and distill 2 as in the paper)" };
        public readonly Option<int?> Crop = new("--crop") { Description = "HR crop size (default 256; the LR side crop/4 must be a multiple of the model's window size x 2^(levels-1))" };
        public readonly Option<string?> Config = new("--config") { Description = "model: x4 (the released model), small (the fixtures' C 32 config) or tiny (small with 2 levels: LR multiple 16, crop 64) (default x4; DTM: the CT checkpoint's)" };
        public readonly Option<ulong?> Seed = new("--seed") { Description = "run seed: fixes initial weights, data order, crops, degradations, noise and dropout (default 0)" };
        public readonly Option<float?> Lr = new("--lr") { Description = "AdamW learning rate (default 5e-5)" };
        public readonly Option<int?> S0 = new("--s0") { Description = "CT step curriculum: N(k) starts at s0 + 1 points (default 4, the released setting)" };
        public readonly Option<int?> S1 = new("--s1") { Description = "CT step curriculum: N(k) ends at s1 + 1 points (default 3); --s0 1 --s1 1 trains the one-step map at sigma = 1 only" };
        public readonly Option<float?> EmaDecay = new("--ema-decay") { Description = "EMA decay per step (default 0.999; short runs want less, as the EMA starts from the random initial weights)" };
        public readonly Option<int?> Accumulate = new("--accumulate") { Description = "micro-batches per optimiser step (gradient accumulation, default 1)" };
        public readonly Option<int?> CheckpointEvery = new("--checkpoint-every") { Description = "iterations between checkpoints (default 5000)" };
        public readonly Option<int?> Keep = new("--keep") { Description = "checkpoints to keep (default 3)" };
        public readonly Option<int?> Workers = new("--workers") { Description = "data loader threads (default 2)" };
        public readonly Option<FileInfo?> LpipsVgg = new("--lpips-vgg") { Description = "torchvision VGG16 weights (vgg16-397923af.pth) for the LPIPS loss; without it the loss is Charbonnier alone" };
        public readonly Option<FileInfo?> LpipsLin = new("--lpips-lin") { Description = "LPIPS v0.1 linear heads for VGG (lpips-v0.1/vgg.pth; default: $CTMSR_LPIPS_VGG_HEADS, else weights/lpips-v0.1/vgg.pth here or in ../shared)" };
        public readonly Option<string?> Perceptual = PerceptualOptions.Kind();
        public readonly Option<FileInfo?> PerceptualWeights = PerceptualOptions.Weights();
        public readonly Option<float?> PerceptualWeight = new("--perceptual-weight") { Description = "weight of the perceptual term in L_CT (default 0.5, beside 0.5 Charbonnier)" };
        public readonly Option<float?> TextureWeight = new("--texture-weight") { Description = "with --perceptual resnet18: weight of a texture term on the same features (per-channel moments, against blur; default 0, none)" };
        public readonly Option<DirectoryInfo?> Val = new("--val") { Description = "validation folder with gt/ and lq/ (matched by name): the EMA model's PSNR-Y is logged at every checkpoint" };
        public readonly Option<int?> ValLimit = new("--val-limit") { Description = "validation images to use (default all)" };
        public readonly Option<double?> CleanFraction = new("--clean-fraction") { Description = "fraction of training pairs made by clean MATLAB-style bicubic x1/4 instead of the Real-ESRGAN degradation (default 0, the paper's; e.g. 0.5 for a model that must also serve clean bicubic inputs)" };
        public readonly Option<string?> Device = DeviceOption.Create();
        public readonly Option<string?> Threads = ThreadsOption.Create();
        public readonly Option<string?> Precision = PrecisionOption.Create();
        public readonly TrainDistributed.Options Distributed = new();

        /// <summary>Adds the options; <paramref name="curriculum"/> false leaves out CT's --s0/--s1 (align and distill have no curriculum).</summary>
        public void AddTo(Command c, bool curriculum = true)
        {
            foreach (Option o in new Option[] { Data, Run, Resume, Iters, Batch, Crop, Config, Seed, Lr, S0, S1, EmaDecay, Accumulate, CheckpointEvery, Keep, Workers, Val, ValLimit, LpipsVgg, LpipsLin, Perceptual, PerceptualWeights, PerceptualWeight, TextureWeight, CleanFraction, Device, Threads, Precision })
                if (curriculum || (o != S0 && o != S1)) c.Options.Add(o);
            foreach (var o in Distributed.All) c.Options.Add(o);
        }
    }

    public static Command Create()
    {
        var train = new Command("train", "train CTMSR: stage 1 consistency training (ct), stage 2 distribution trajectory matching (dtm); trajectory optimisation (spec/TRAJECTORY.md): alignment (align), few-step distillation (distill)");

        var ct = new Command("ct", "stage 1: consistency training from random weights, or from --init weights (spec section 4)");
        var cc = new Common();
        cc.AddTo(ct);
        var init = new Option<string?>("--init") { Description = "start from these weights instead of random ones (a run directory's newest checkpoint, a checkpoint or a model file): fine-tuning, or a longer schedule after a short one" };
        ct.Options.Add(init);
        ct.SetGuardedAction(r => Execute(r, cc, TrainStage.Ct, r.GetValue(init), null, null));

        var dtm = new Command("dtm", "stage 2: L_CT + L_DTM, starting from a CT run or checkpoint (spec section 5)");
        var dc = new Common();
        dc.AddTo(dtm);
        var from = new Option<string?>("--from") { Description = "CT run directory (its newest checkpoint) or checkpoint file to start from" };
        var loss = new Option<string?>("--loss") { Description = "dtm (the method, default) or sds (the paper's score-distillation ablation)" };
        var refresh = new Option<int?>("--teacher-refresh") { Description = "iterations between teacher refreshes (default 1000)" };
        dtm.Options.Add(from); dtm.Options.Add(loss); dtm.Options.Add(refresh);
        dtm.SetGuardedAction(r => Execute(r, dc, TrainStage.Dtm, r.GetValue(from), r.GetValue(loss), r.GetValue(refresh)));

        train.Subcommands.Add(ct);
        train.Subcommands.Add(dtm);
        train.Subcommands.Add(TrainTrajectoryVerbs.Align());
        train.Subcommands.Add(TrainTrajectoryVerbs.Distill());
        return train;
    }

    static CtmsrConfig ParseConfig(string name) => name.Trim().ToLowerInvariant() switch
    {
        "x4" => CtmsrConfig.X4,
        "small" => CtmsrConfig.Small,
        "tiny" => CtmsrConfig.Tiny,
        _ => throw new ArgumentException($"unknown --config '{name}': use x4, small or tiny"),
    };

    internal static int Execute(ParseResult r, Common c, TrainStage stage, string? from, string? lossKind, int? refresh,
        TrajectoryTrainOptions? trajectory = null, Func<Context, TrainerHooks, TrainerHooks>? moreHooks = null)
    {
        ThreadsOption.Apply(r, c.Threads);
        // data-parallel under mpirun: every rank runs this verb; rank 0 alone talks and writes
        using var dp = TrainDistributed.Open(r, c.Distributed);
        return dp is null ? Run(r, c, stage, from, lossKind, refresh, trajectory, moreHooks, null)
            : dp.Guard(() => Run(r, c, stage, from, lossKind, refresh, trajectory, moreHooks, dp));
    }

    static int Run(ParseResult r, Common c, TrainStage stage, string? from, string? lossKind, int? refresh,
        TrajectoryTrainOptions? trajectory, Func<Context, TrainerHooks, TrainerHooks>? moreHooks, TrainDistributed? dp)
    {
        bool leader = dp?.Leader ?? true;
        using var ctx = new Context(DeviceOption.Open(dp is null ? r.GetValue(c.Device) : dp.DeviceSpec(r.GetValue(c.Device)), r.GetValue(c.Precision)));
        var reporter = new Reporter();
        var resume = r.GetValue(c.Resume);
        // a resumed run keeps its perceptual loss (config.json); only the weights file may be given again
        string? perceptual = resume is not null ? RunDirectory.Open(resume.FullName).ReadOptions().Perceptual : PerceptualOptions.ParseKind(r.GetValue(c.Perceptual));
        float texture = resume is not null ? RunDirectory.Open(resume.FullName).ReadOptions().TextureWeight : r.GetValue(c.TextureWeight) ?? 0f;
        if (texture != 0 && perceptual is null) throw new ArgumentException("--texture-weight needs --perceptual resnet18 (the term is on its features)");
        if (perceptual is not null && r.GetValue(c.LpipsVgg) is not null)
            throw new ArgumentException("--perceptual resnet18 replaces LPIPS-VGG: pass one of --perceptual and --lpips-vgg");
        var hooks = new TrainerHooks
        {
            Lpips = perceptual is not null ? PerceptualDistance(PerceptualOptions.Open(ctx, r.GetValue(c.PerceptualWeights)), texture) : OpenLpips(ctx, r.GetValue(c.LpipsVgg), r.GetValue(c.LpipsLin)),
            Message = leader ? m => AnsiConsole.MarkupLine(m.StartsWith("WARNING", StringComparison.Ordinal) ? $"[yellow]{Markup.Escape(m)}[/]" : Markup.Escape(m)) : null,
            Progress = leader ? reporter : null,
            Reducer = dp?.Reducer,
        };
        if (moreHooks is not null) hooks = moreHooks(ctx, hooks);

        Trainer trainer;
        if (resume is not null)
        {
            var ignored = new Option[] { c.Data, c.Run, c.Iters, c.Batch, c.Crop, c.Config, c.Seed, c.Lr, c.S0, c.S1, c.EmaDecay, c.Accumulate, c.Perceptual, c.PerceptualWeight, c.TextureWeight, c.CleanFraction }
                .Where(o => r.GetResult(o) is not null).Select(o => o.Name).ToList();
            if (ignored.Count > 0 && leader)
                AnsiConsole.MarkupLineInterpolated($"[yellow]note: {string.Join(", ", ignored)} ignored: a resumed run keeps the options in {resume.FullName}/config.json[/]");
            var runStage = RunDirectory.Open(resume.FullName).ReadOptions().Stage.ToString().ToLowerInvariant();
            if (runStage != stage.ToString().ToLowerInvariant())
                throw new ArgumentException($"{resume.FullName} is a {runStage} run; resume it with `ctmsr train {runStage} --resume {resume.FullName}`");
            trainer = Trainer.Resume(ctx, resume.FullName, hooks);
        }
        else
        {
            var data = r.GetValue(c.Data) ?? throw new ArgumentException("--data DIR is required: the folder of HR training images");
            var run = r.GetValue(c.Run) ?? throw new ArgumentException("--run DIR is required: the directory this run writes to");
            var cfgName = r.GetValue(c.Config);
            CtmsrConfig model;
            if (cfgName is not null) model = ParseConfig(cfgName);
            else if (from is not null) model = Trainer.SourceConfig(Trainer.ResolveSource(from)) ?? CtmsrConfig.X4;
            else model = CtmsrConfig.X4;
            var d = new TrainOptions();
            var o = d with
            {
                Stage = stage, Data = data.FullName, Model = model,
                Iterations = r.GetValue(c.Iters) ?? stage switch { TrainStage.Dtm => 2000, TrainStage.Align or TrainStage.Distill => 30_000, _ => d.Iterations },
                Batch = r.GetValue(c.Batch) ?? (stage.IsTrajectory() ? 2 : d.Batch),
                Trajectory = trajectory ?? d.Trajectory, Crop = r.GetValue(c.Crop) ?? d.Crop, Seed = r.GetValue(c.Seed) ?? d.Seed,
                Lr = r.GetValue(c.Lr) ?? d.Lr, S0 = r.GetValue(c.S0) ?? d.S0, S1 = r.GetValue(c.S1) ?? d.S1,
                EmaDecay = r.GetValue(c.EmaDecay) ?? d.EmaDecay, Accumulate = r.GetValue(c.Accumulate) ?? d.Accumulate,
                CheckpointEvery = r.GetValue(c.CheckpointEvery) ?? d.CheckpointEvery, KeepCheckpoints = r.GetValue(c.Keep) ?? d.KeepCheckpoints,
                LoaderWorkers = r.GetValue(c.Workers) ?? d.LoaderWorkers,
                Val = r.GetValue(c.Val)?.FullName, ValLimit = r.GetValue(c.ValLimit) ?? 0,
                Perceptual = perceptual, LpipsWeight = r.GetValue(c.PerceptualWeight) ?? d.LpipsWeight, TextureWeight = texture,
                CleanFraction = r.GetValue(c.CleanFraction) ?? d.CleanFraction,
                From = from is null ? null : Path.GetFullPath(from), TeacherRefresh = refresh ?? d.TeacherRefresh,
                DtmLoss = (lossKind ?? "dtm").Trim().ToLowerInvariant() switch
                {
                    "dtm" => DtmLossKind.Dtm, "sds" => DtmLossKind.Sds,
                    _ => throw new ArgumentException($"unknown --loss '{lossKind}': use dtm or sds"),
                },
            };
            // a start that fails (a bad --init, unreadable data) must not leave a run folder that blocks the next start
            bool existed = Directory.Exists(run.FullName) && Directory.EnumerateFileSystemEntries(run.FullName).Any();
            try { trainer = Trainer.Start(ctx, o, run.FullName, hooks); }
            catch when (!existed && Directory.Exists(run.FullName))
            {
                try { Directory.Delete(run.FullName, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
                throw;
            }
        }

        using (trainer)
        using (var cts = new CancellationTokenSource())
        {
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cts.Cancel(); };
            Console.CancelKeyPress += onCancel;
            // SIGTERM (`kill PID`, a batch scheduler's or a container's stop) winds down like Ctrl+C: the step in progress
            // ends, a checkpoint is written, exit 143. A background job started by a shell without job control ignores
            // SIGINT, so for it this is the only polite stop.
            int terminated = 0;
            using var onTerm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, sc =>
            {
                sc.Cancel = true;
                Interlocked.Exchange(ref terminated, 1);
                cts.Cancel();
            });
            try
            {
                TrainResult result;
                if (AnsiConsole.Profile.Capabilities.Interactive)
                    result = AnsiConsole.Progress().AutoClear(false)
                        .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                        .Start(pc =>
                        {
                            reporter.Task = pc.AddTask(trainer.Options.Stage.ToString().ToUpperInvariant(), maxValue: trainer.Options.Iterations);
                            reporter.Task.Value = trainer.Iteration;
                            return trainer.Run(cancel: cts.Token);
                        });
                else result = trainer.Run(cancel: cts.Token);
                if (!leader) return 0;
                if (result.Finished)
                    Console.WriteLine($"done: {result.Iteration} iterations; EMA model {trainer.RunDir.EmaModelPath}, checkpoint {result.LastCheckpoint}");
                else
                    Console.WriteLine($"stopped at iteration {result.Iteration}; checkpoint {result.LastCheckpoint}; continue with `ctmsr train {trainer.Options.Stage.ToString().ToLowerInvariant()} --resume {trainer.RunDir.Root}`");
                // interrupted is 130 (Ctrl+C) or 143 (SIGTERM), as shells report those signals, so scripts can tell it from a finished run
                return !result.Finished && cts.IsCancellationRequested ? (Volatile.Read(ref terminated) == 1 ? 143 : 130) : 0;
            }
            finally { Console.CancelKeyPress -= onCancel; }
        }
    }

    /// <summary>The ResNet18 distance as the loss's perceptual term, with the texture term at <paramref name="texture"/> (0: none).</summary>
    static PerSampleDistance PerceptualDistance(Ctmsr.Model.Perceptual.PerceptualLoss loss, float texture) =>
        texture == 0 ? (a, b) => loss.PerSample(a, b) : (a, b) => loss.PerSample(a, b, texture);

    internal static PerSampleDistance? OpenLpips(Context ctx, FileInfo? vgg, FileInfo? lin)
    {
        if (vgg is null) return null;
        if (!vgg.Exists) throw new FileNotFoundException($"{vgg.FullName}: no such file; pass the torchvision VGG16 weights (vgg16-397923af.pth) to --lpips-vgg");
        if (lin is { Exists: false }) throw new FileNotFoundException($"{lin.FullName}: no such file; pass lpips-v0.1/vgg.pth to --lpips-lin");
        var heads = lin?.FullName ?? WeightFiles.FindDefault("CTMSR_LPIPS_VGG_HEADS", "lpips-v0.1/vgg.pth")
            ?? throw new FileNotFoundException("LPIPS needs the v0.1 VGG heads: pass --lpips-lin lpips-v0.1/vgg.pth or set CTMSR_LPIPS_VGG_HEADS");
        var net = Lpips.Load(ctx, LpipsBackbone.Vgg16, vgg.FullName, heads);
        return net.PerSample;
    }

    /// <summary>Feeds the Spectre task when interactive, else prints a line every ~10 s (and at the end).</summary>
    sealed class Reporter : IProgress<TrainProgress>
    {
        public ProgressTask? Task { get; set; }
        readonly Stopwatch _since = Stopwatch.StartNew();

        public void Report(TrainProgress p)
        {
            string dtm = p.LossDtm is { } d ? p.Stage == TrainStage.Align ? $" (trajectory {p.LossCt:0.0000}, gt {d:0.0000})" : $" (ct {p.LossCt:0.0000}, dtm {d:0.0000})" : "";
            string line = $"{p.Stage.ToString().ToUpperInvariant()} {p.Iteration}/{p.Total} loss {p.Loss:0.0000}{dtm} N {p.Steps} lr {p.Lr:0.##e0} {p.ItPerSec:0.00} it/s {p.ImagesPerSec:0.0} img/s ETA {Eta(p.Eta)}";
            if (Task is not null)
            {
                Task.Description = Markup.Escape(line);
                Task.Value = p.Iteration;
            }
            else if (_since.Elapsed.TotalSeconds >= 10 || p.Iteration == p.Total || p.Iteration == 1)
            {
                Console.WriteLine(line);
                _since.Restart();
            }
        }

        static string Eta(TimeSpan t) => t.TotalDays >= 1 ? $"{(int)t.TotalDays}d{t.Hours:00}h" : t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:00}m" : $"{t.Minutes}m{t.Seconds:00}s";
    }
}
