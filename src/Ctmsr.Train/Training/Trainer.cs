using System.Diagnostics;
using System.Text.Json.Nodes;
using Ctmsr.Autograd;
using Ctmsr.Imaging;
using Ctmsr.Model.Checkpoints;
using Ctmsr.Model.Network;
using Ctmsr.Train.Data;
using Ctmsr.Train.Degradation;
using Ctmsr.Train.Distributed;

namespace Ctmsr.Train.Training;

/// <summary>
/// Runs the CT stage (spec section 4), the DTM stage (section 5), or the alignment / distillation stages of
/// spec/TRAJECTORY.md (<see cref="AlignStage"/>, <see cref="DistillStage"/>) in a run directory, with checkpoints that
/// continue bit-exactly. Every random choice of iteration k (the batch, n, m, eps, eps', tau, the candidates' noise) is
/// a pure function of (seed, stage, k); the dropout stream's offset is the only random state, and it is checkpointed.
/// </summary>
public sealed class Trainer : IDisposable
{
    readonly Context _ctx;
    readonly TrainerHooks _hooks;
    readonly ISampleSource _source;
    readonly FolderDataset? _folder;
    readonly ulong _stageSeed;
    // data-parallel (null: one process): this rank's share of each batch; rank 0 alone writes the run directory
    readonly IGradientReducer? _reducer;
    readonly int _localBatch;
    bool Leader => _reducer is null || _reducer.Rank == 0;
    static bool IsLeader(TrainerHooks? h) => h?.Reducer is null || h.Reducer.Rank == 0;
    BatchLoader? _loader;
    AlignReward? _reward;
    PairedDataset? _val;
    CtmsrNet? _evalNet;
    string? _lastCheckpoint;
    CancellationToken _cancel;
    bool _stopVoted;
    LossCurve _curve;
    bool _plotFailed;

    public TrainOptions Options { get; }
    public RunDirectory RunDir { get; }
    public CtmsrNet Net { get; }
    public CtmsrNet? Teacher { get; }
    public AdamW Optimizer { get; }
    public Ema Ema { get; }
    /// <summary>Iterations completed (the next one to run is this, 0-based).</summary>
    public int Iteration { get; private set; }
    public int TeacherIteration { get; private set; }

    Trainer(Context ctx, TrainOptions o, RunDirectory run, TrainerHooks? hooks)
    {
        o.Validate();
        _ctx = ctx; Options = o; RunDir = run; _hooks = hooks ?? new TrainerHooks();
        _stageSeed = SeedMix.Mix(o.Seed, (ulong)o.Stage + 1);
        if (_hooks.Source is { } src) _source = src;
        else
        {
            _folder = new FolderDataset(o.Data, o.Crop, SeedMix.Mix(_stageSeed, 0x64617461),
                new RealEsrganDegradation(ImageCodec.JpegRoundTrip, DegradationSettings.Default with { CleanProbability = o.CleanFraction }));
            _folder.OnBadFile = (p, why) => Say($"skipping an unreadable image: {why}");
            _source = _folder;
        }
        if (o.Val is not null) _val = new PairedDataset(Path.Combine(o.Val, "gt"), Path.Combine(o.Val, "lq"), o.Model.Scale);
        Net = new CtmsrNet(ctx, o.Model, SeedMix.Mix(o.Seed, 0x64726F70));
        Net.InitializeRandom((int)(SeedMix.Mix(o.Seed, 0x696E6974) & 0x7FFFFFFF));
        Net.Train(!o.Stage.IsTrajectory());
        if (o.Stage is TrainStage.Dtm or TrainStage.Distill) { Teacher = new CtmsrNet(ctx, o.Model); Teacher.Eval(); }
        Optimizer = new AdamW(Net.Parameters(), o.Lr, (o.Beta1, o.Beta2), o.AdamEps, o.WeightDecay);
        Ema = new Ema(Net.Parameters(), o.EmaDecay);
        _curve = new LossCurve { Title = CurveTitle(), SingleName = SingleCurveName(o.Stage) };
        _reducer = _hooks.Reducer;
        _localBatch = o.Batch;
        if (_reducer is not null)
        {
            _localBatch = RankState.LocalBatch(o.Batch, _reducer.Size);
            Net.Dropout.Shard = _reducer.Rank; Net.Dropout.Shards = _reducer.Size;
            _reducer.Attach(Net.Parameters().ToList());
        }
    }

    /// <summary>Data-parallel: every rank takes rank 0's weights, optimiser state and counters.</summary>
    void SyncFromRoot()
    {
        if (_reducer is null) return;
        Span<long> c = [Iteration, TeacherIteration, Optimizer.Step, (long)Net.Dropout.Offset];
        RankState.Broadcast(_reducer, Net, Optimizer, Ema, Teacher, c);
        Iteration = (int)c[0]; TeacherIteration = (int)c[1]; Optimizer.Step = (int)c[2]; Net.Dropout.Offset = (ulong)c[3];
    }

    static string SingleCurveName(TrainStage s) => s switch { TrainStage.Align => "align loss", TrainStage.Distill => "distill loss", _ => "CT loss" };

    string CurveTitle() => $"{Options.Stage.ToString().ToUpperInvariant()} loss, {Path.GetFileName(RunDir.Root)}";

    /// <summary>Redraws loss.png; a failure to write it (disk full, permissions) is said once and does not stop training.</summary>
    void WriteLossPlot()
    {
        try { _curve.Save(RunDir.LossPlotPath); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (!_plotFailed) Say($"WARNING: could not write {RunDir.LossPlotPath} ({e.Message}); training goes on without the loss plot");
            _plotFailed = true;
        }
    }

    void Say(string m) => _hooks.Message?.Invoke(m);

    /// <summary>
    /// A new run in <paramref name="runDir"/>. CT starts from random weights unless <see cref="TrainOptions.From"/> is set;
    /// DTM always loads it (a CT run directory, a training checkpoint, or any CTMSR state dict). Its configuration must
    /// equal the options'.
    /// </summary>
    public static Trainer Start(Context ctx, TrainOptions options, string runDir, TrainerHooks? hooks = null)
    {
        options.Validate();
        if (hooks?.Reducer is { } red) RankState.LocalBatch(options.Batch, red.Size); // before the run directory exists
        string? from = null;
        bool leader = IsLeader(hooks);
        if (leader && (options.Stage is TrainStage.Dtm or TrainStage.Align or TrainStage.Distill || options.From is not null))
        {
            from = ResolveSource(options.From);
            var srcCfg = SourceConfig(from);
            if (srcCfg is not null && !TrainingCheckpoint.SameConfig(srcCfg, options.Model))
                throw new ArgumentException($"the starting checkpoint {from} has model ({srcCfg}) but the {options.Stage.ToString().ToUpperInvariant()} run asks for ({options.Model}); drop --config or pass a checkpoint of that model");
        }
        var run = leader ? RunDirectory.Create(runDir, options) : RunDirectory.OnOtherRank(runDir);
        var t = new Trainer(ctx, options, run, hooks);
        if (from is not null) t.LoadCtWeights(from);
        t.SyncFromRoot();
        t.Announce();
        return t;
    }

    /// <summary>Continues the run in <paramref name="runDir"/> from its newest checkpoint, exactly as if it had not stopped.</summary>
    public static Trainer Resume(Context ctx, string runDir, TrainerHooks? hooks = null)
    {
        if (!IsLeader(hooks))
        {
            // the other ranks get the options and the state from rank 0, which reads the run directory
            var opts = TrainOptions.FromJson(hooks!.Reducer!.BroadcastString(null), "rank 0's run options");
            var follower = new Trainer(ctx, opts, RunDirectory.OnOtherRank(runDir), hooks);
            follower.SyncFromRoot();
            return follower;
        }
        var run = RunDirectory.Open(runDir);
        var ckpt = run.LatestCheckpoint()
                   ?? throw new FileNotFoundException($"{run.Root} has no checkpoint yet (checkpoints/ckpt_*.safetensors); start it again without --resume in a new directory");
        var options = run.ReadOptions();
        hooks?.Reducer?.BroadcastString(options.ToJson());
        var t = new Trainer(ctx, options, run, hooks);
        var st = TrainingCheckpoint.Load(ckpt, t.Net, t.Optimizer, t.Ema, t.Teacher);
        if (st.Stage != t.Options.Stage)
            throw new InvalidDataException($"{ckpt} is a {st.Stage} checkpoint but {run.ConfigPath} describes a {t.Options.Stage} run; the run directory is inconsistent");
        t.Iteration = st.Iteration; t.TeacherIteration = st.TeacherIteration; t._lastCheckpoint = ckpt;
        t.SyncFromRoot();
        run.TruncateLog(st.Iteration);
        t._curve = LossCurve.FromLog(run.ReadLog(), t.CurveTitle(), SingleCurveName(t.Options.Stage));
        t.Say($"resuming {run.Root} at iteration {st.Iteration} of {t.Options.Iterations} from {Path.GetFileName(ckpt)}");
        t.Announce();
        return t;
    }

    /// <summary>A run directory stands for its newest checkpoint; a file stands for itself.</summary>
    public static string ResolveSource(string? from)
    {
        if (string.IsNullOrWhiteSpace(from)) throw new ArgumentException("this stage starts from a trained model: pass --from CT_RUN_DIR (dtm) or --init RUN_DIR|MODEL (align, distill), a run directory or a checkpoint file");
        if (RunDirectory.IsRun(from))
            return RunDirectory.Open(from).LatestCheckpoint()
                   ?? throw new FileNotFoundException($"{from} has no checkpoint yet; train CT longer (or until its first --checkpoint-every) before DTM");
        if (Directory.Exists(from)) throw new ArgumentException($"{from} is a folder but not a run directory (no config.json); pass a CT run directory or a checkpoint file");
        if (!File.Exists(from)) throw new FileNotFoundException($"{from}: no such run directory or checkpoint; check --from (dtm) or --init", from);
        return from;
    }

    /// <summary>The model configuration a DTM source declares (run directory or safetensors metadata), or null when it does not say.</summary>
    public static CtmsrConfig? SourceConfig(string path)
    {
        if (RunDirectory.IsRun(path)) path = ResolveSource(path);
        if (!CheckpointFiles.IsSafetensors(path)) return null;
        using var f = SafetensorsFile.Open(path);
        return f.Metadata.ContainsKey("model_channels") ? CtmsrConfig.FromMetadata(f.Metadata) : null;
    }

    void LoadCtWeights(string path)
    {
        if (TrainingCheckpoint.IsTrainingCheckpoint(path))
        {
            var st = TrainingCheckpoint.Load(path, Net, opt: null, Ema, teacher: null, restoreDropout: false);
            Say($"{Options.Stage.ToString().ToUpperInvariant()} starts from {path} ({st.Stage} iteration {st.Iteration}): training weights, EMA; fresh AdamW");
        }
        else
        {
            // an inference checkpoint (official .pth or model_ema.safetensors): the same weights seed the student and its EMA
            ModelWeights.Load(Net, CheckpointFiles.LoadStateDict(path));
            foreach (var (p, e) in Ema.Pairs) _ctx.Backend.CopyStrided([(int)p.Count], p.Buffer, 0, [1], e.Buffer, 0, [1], false);
            Say($"{Options.Stage.ToString().ToUpperInvariant()} starts from the model in {path}");
        }
        if (Teacher is null) return;
        CopyWeights(Net, Teacher);
        TeacherIteration = 0;
    }

    void Announce()
    {
        var o = Options;
        Say($"{o.Stage.ToString().ToUpperInvariant()} on {_ctx.Backend.Name}: model {o.Model} ({Net.ParameterCount:N0} parameters), batch {o.Batch}" +
            (o.Accumulate > 1 ? $" x {o.Accumulate} accumulated" : "") + $", crop {o.Crop}, {o.Iterations:N0} iterations, seed {o.Seed}, run {RunDir.Root}");
        if (_reducer is not null) Say($"data-parallel over {_reducer.Size} ranks: {_localBatch} samples per rank per micro-batch, gradients averaged over ranks; rank 0 writes the run");
        if (o.Perceptual is not null && _hooks.Lpips is not null)
            Say($"perceptual loss: {o.Perceptual} features (LPIPS-style, not LPIPS-VGG), weight {o.LpipsWeight} beside Charbonnier {o.CharbonnierWeight}{(o.TextureWeight > 0 ? $", texture term weight {o.TextureWeight} inside it" : "")}");
        if (_hooks.Lpips is null && o.Stage != TrainStage.Align)
        {
            Say($"WARNING: no perceptual network given (--lpips-vgg, or --perceptual resnet18): the {(o.Stage == TrainStage.Distill ? "distillation" : "CT")} loss is Charbonnier ALONE, not the method's 0.5 LPIPS + 0.5 Charbonnier; results will be blurrier than the paper's");
            if (o.Stage == TrainStage.Dtm)
                Say("WARNING: DTM needs LPIPS; without it the DTM term uses a per-sample Charbonnier distance instead (an approximation of the method)");
        }
    }

    static void CopyWeights(CtmsrNet from, CtmsrNet to)
    {
        foreach (var ((_, a), (_, b)) in from.NamedParameters().Zip(to.NamedParameters()))
            a.Backend.CopyStrided([(int)a.Count], a.Buffer, 0, [1], b.Buffer, 0, [1], false);
    }

    /// <summary>
    /// Trains until the configured iteration count, <paramref name="stopAt"/> or cancellation; a checkpoint is
    /// written every CheckpointEvery iterations and whenever the loop ends.
    /// </summary>
    public TrainResult Run(int? stopAt = null, CancellationToken cancel = default)
    {
        var o = Options;
        int end = Math.Min(o.Iterations, stopAt ?? int.MaxValue);
        var losses = new List<double>();
        if (Iteration >= end) return new TrainResult(Iteration, losses, _lastCheckpoint, Iteration >= o.Iterations);
        _loader ??= new BatchLoader(_source, _localBatch, (long)Iteration * o.Accumulate, o.LoaderWorkers, o.BatchesInFlight,
            _reducer?.Rank ?? 0, _reducer?.Size ?? 1);
        _cancel = cancel; _stopVoted = false;
        var clock = Stopwatch.StartNew();
        var window = new Queue<double>();
        int doneHere = 0;
        bool dirty = false;
        try
        {
            while (Iteration < end && !_stopVoted && (_reducer is not null || !cancel.IsCancellationRequested))
            {
                int k = Iteration;
                var (loss, ct, dtm, steps, lr) = Step(k);
                if (!double.IsFinite(loss))
                    throw new TrainingDivergedException(
                        $"the loss became {loss} at iteration {k + 1} (CT {ct}, DTM {dtm?.ToString() ?? "-"}); the last good checkpoint is {_lastCheckpoint ?? "none (no checkpoint written yet)"}: " +
                        $"resume it (--resume {RunDir.Root}) after lowering \"lr\" in config.json, or check the data for broken images");
                Iteration = k + 1;
                dirty = true;
                if (o.Stage == TrainStage.Dtm && Iteration % o.TeacherRefresh == 0) { CopyWeights(Net, Teacher!); TeacherIteration = Iteration; }
                losses.Add(loss);
                doneHere++;
                double now = clock.Elapsed.TotalSeconds;
                window.Enqueue(now);
                if (window.Count > 21) window.Dequeue();
                double itps = window.Count > 1 ? (window.Count - 1) / (now - window.Peek()) : doneHere / Math.Max(now, 1e-9);
                double imgps = itps * o.Batch * o.Accumulate;
                var eta = TimeSpan.FromSeconds(itps > 0 ? (o.Iterations - Iteration) / itps : 0);
                var entry = new JsonObject
                {
                    ["iter"] = Iteration, ["loss"] = loss, ["loss_ct"] = ct, ["loss_dtm"] = dtm, ["lr"] = lr, ["n"] = steps,
                    ["it_s"] = Math.Round(itps, 4), ["img_s"] = Math.Round(imgps, 3), ["elapsed_s"] = Math.Round(now, 3),
                };
                if (o.Stage.IsTrajectory())
                {
                    // the two terms under their own names, and the device pool's peak of this iteration
                    entry.Remove("loss_ct"); entry.Remove("loss_dtm");
                    foreach (var (key, v) in _extra) entry[key] = v;
                    entry["peak_mib"] = Math.Round(_ctx.Pool.PeakBytesInUse / 1048576.0, 1);
                }
                if (_reducer is not null)
                {
                    var rs = _reducer.LastStats;
                    entry["ranks"] = _reducer.Size; entry["reduce_mb"] = Math.Round(rs.Bytes / 1e6, 3); entry["reduce_s"] = Math.Round(rs.ExposedSeconds, 4); entry["reduce_max_s"] = Math.Round(rs.MaxSeconds, 4);
                }
                if (!Leader) { if (Iteration % o.CheckpointEvery == 0) dirty = false; continue; }
                RunDir.AppendLog(entry);
                _curve.Add(Iteration, loss, o.Stage.IsTrajectory() ? loss : ct, o.Stage.IsTrajectory() ? null : dtm);
                WriteLossPlot();
                _hooks.Progress?.Report(new TrainProgress(o.Stage, Iteration, o.Iterations, loss, ct, dtm, lr, steps, itps, imgps, eta));
                if (Iteration % o.CheckpointEvery == 0) { Checkpoint(); dirty = false; }
            }
            if (dirty && Leader) Checkpoint();
        }
        finally
        {
            if (_folder?.BadFileSummary() is { } bad) Say("WARNING: " + bad);
        }
        return new TrainResult(Iteration, losses, _lastCheckpoint, Iteration >= o.Iterations);
    }

    /// <summary>Writes a checkpoint of the current state (and the EMA model) and prunes old ones.</summary>
    public string Checkpoint()
    {
        var path = RunDir.CheckpointPath(Iteration);
        TrainingCheckpoint.Save(path, Net, Optimizer, Ema, Teacher,
            new TrainState(Options.Stage, Iteration, Optimizer.Step, Net.Dropout.Seed, Net.Dropout.Offset, TeacherIteration));
        TrainingCheckpoint.SaveEmaModel(RunDir.EmaModelPath, Net, Ema, Iteration);
        RunDir.Prune(Options.KeepCheckpoints);
        _lastCheckpoint = path;
        if (_val is not null) Validate();
        return path;
    }

    /// <summary>Scores the EMA model on the validation pairs, logs and reports the result.</summary>
    public ValidationResult? Validate()
    {
        if (_val is null) return null;
        _evalNet ??= new CtmsrNet(_ctx, Options.Model);
        foreach (var ((_, dst), (_, e)) in _evalNet.NamedParameters().Zip(Ema.Pairs))
            _ctx.Backend.CopyStrided([(int)e.Count], e.Buffer, 0, [1], dst.Buffer, 0, [1], false);
        var r = Validation.Evaluate(_ctx, _evalNet, _val, SeedMix.Mix(Options.Seed, 0x76616C), Options.ValLimit);
        RunDir.AppendLog(new JsonObject { ["iter"] = Iteration, ["val_psnr_y"] = Math.Round(r.PsnrY, 4), ["val_charbonnier"] = r.Charbonnier, ["val_images"] = r.Images });
        Say($"validation at iteration {Iteration} (EMA, {r.Images} images): PSNR-Y {r.PsnrY:0.00} dB, Charbonnier {r.Charbonnier:0.0000}");
        return r;
    }

    /// <summary>The number of discretisation points at iteration k: the CT curriculum, or its final value for DTM.</summary>
    public int StepsAt(int k) => Options.Stage switch
    {
        TrainStage.Ct => Curriculum.Steps(k, Options.Iterations, Options.S0, Options.S1),
        TrainStage.Align => Options.Trajectory.TeacherSteps,
        TrainStage.Distill => Options.Trajectory.StudentSteps,
        _ => Options.S1 + 1,
    };

    (double loss, double ct, double? dtm, int steps, float lr) Step(int k)
    {
        var o = Options;
        float lr = MultiStepLr.At(k, o.Lr, o.LrMilestones, o.LrGamma);
        Optimizer.Lr = lr;
        int steps = StepsAt(k);
        double loss = 0, ct = 0, dtm = 0;
        _extra.Clear();
        _ctx.Pool.ResetPeak();
        for (int j = 0; j < o.Accumulate; j++)
        {
            if (j == o.Accumulate - 1) _reducer?.BeginFinalBackward();
            var batch = _loader!.Next();
            long micro = (long)k * o.Accumulate + j;
            if (batch.Step != micro) throw new InvalidOperationException($"loader out of step: batch {batch.Step} for micro-step {micro}");
            var (l, c, d) = MicroStep(batch, micro, steps, 1f / o.Accumulate);
            loss += l / o.Accumulate; ct += c / o.Accumulate; dtm += d / o.Accumulate;
        }
        if (_reducer is not null)
        {
            // gradients and losses become the means over ranks; a stop request (Ctrl+C on any rank) stops all after this step
            Span<double> v = [loss, ct, dtm, _cancel.IsCancellationRequested ? 1 : 0];
            _reducer.Complete(v);
            (loss, ct, dtm) = (v[0], v[1], v[2]);
            _stopVoted = v[3] > 0;
        }
        if (double.IsFinite(loss))
        {
            Optimizer.StepOnce();
            Ema.Update();
        }
        Optimizer.ZeroGrad();
        return (loss, ct, o.Stage is TrainStage.Dtm or TrainStage.Align ? dtm : null, steps, lr);
    }

    /// <summary>Per-iteration log values of the trajectory stages (averaged over micro-batches).</summary>
    readonly Dictionary<string, double> _extra = new();

    void AddExtra(string key, double v, float scale) => _extra[key] = _extra.GetValueOrDefault(key) + v * scale;

    (double loss, double ct, double dtm) MicroStep(TrainBatch b, long micro, int steps, float scale)
    {
        var o = Options;
        using var scope = Tape.Scope();
        int bs = b.Count, h = b.Height, w = b.Width;
        var gt = Tensor.From(_ctx, b.Gt, bs, 3, h, w);
        var lqUp = Tensor.From(_ctx, b.LqUp, bs, 3, h, w);
        var lq = Tensor.From(_ctx, b.Lq, bs, 3, b.LqHeight, b.LqWidth);
        if (o.Stage == TrainStage.Align)
        {
            _reward ??= new AlignReward(o.Trajectory.Reward, _hooks.Niqe, _hooks.LpipsAlex);
            var r = AlignStage.Step(_ctx, Net, gt, lqUp, lq, b.Gt, o.Trajectory, _reward, SeedMix.Mix(_stageSeed, 0x616C, (ulong)micro), scale);
            AddExtra("loss_traj", r.TrajectoryLoss, scale); AddExtra("loss_gt", r.GtLoss, scale);
            AddExtra("reward_ode", r.OdeReward, scale); AddExtra("reward_best", r.BestReward, scale);
            AddExtra("ode_wins", r.Best.Count(c => c == 0) / (double)bs, scale);
            AddExtra("tau", r.Tau, scale);
            return (r.Loss, r.TrajectoryLoss, r.GtLoss);
        }
        if (o.Stage == TrainStage.Distill)
        {
            var r = DistillStage.Step(_ctx, Net, Teacher!, gt, lqUp, lq, o.Trajectory, _hooks.Lpips, o.LpipsWeight, o.CharbonnierWeight,
                SeedMix.Mix(_stageSeed, 0x6469, (ulong)micro), scale);
            AddExtra("teacher_to_gt", r.TeacherToGt, scale);
            return (r.Loss, r.Loss, 0);
        }
        var rng = new DegradationRandom(SeedMix.Mix(_stageSeed, 0x6E, (ulong)micro));
        int n = rng.NextInt(steps - 1);
        float sn = Curriculum.Sigma(n, steps), sn1 = Curriculum.Sigma(n + 1, steps);
        // a data-parallel rank's batch is the slice rank*bs.. of the global batch: it draws that slice of the noise
        ulong slice = (ulong)(_reducer?.Rank ?? 0) * (ulong)(bs * 3 * h * w);
        var eps = ForwardProcess.Noise(_ctx, SeedMix.Mix(_stageSeed, 0x65, (ulong)micro), slice, [bs, 3, h, w]);
        Tensor target, xn1;
        using (Tape.NoGrad())
        {
            var xn = ForwardProcess.Q(gt, lqUp, eps, sn);
            xn1 = ForwardProcess.Q(gt, lqUp, eps, sn1);
            // theta^- = the current weights, in training mode: the dropout stream hands this pass its own offsets.
            // At sigma_0 = 0, D(x) = x exactly (c_skip 1, c_out 0), so the pass is skipped.
            target = n == 0 ? xn : Precond.D(Net, xn, Fill(bs, sn), lq);
        }
        var pred = Precond.D(Net, xn1, Fill(bs, sn1), lq);
        var lct = Losses.Ct(pred, target, _hooks.Lpips, o.LpipsWeight, o.CharbonnierWeight);
        var total = lct;
        double dtmValue = 0;
        if (o.Stage == TrainStage.Dtm)
        {
            var (lo, hi) = Curriculum.DtmRange(steps);
            int m = lo + rng.NextInt(hi - lo);
            float sm = Curriculum.Sigma(m, steps);
            Tensor tgt; float[] wts;
            using (Tape.NoGrad())
            {
                var xHat = pred.Detach();
                var eps2 = ForwardProcess.Noise(_ctx, SeedMix.Mix(_stageSeed, 0x64, (ulong)micro), slice, [bs, 3, h, w]);
                var zm = ForwardProcess.Q(xHat, lqUp, eps2, sm);
                var fz = Precond.D(Teacher!, zm, Fill(bs, sm), lq);
                Tensor grad;
                if (o.DtmLoss == DtmLossKind.Dtm)
                {
                    var xm = ForwardProcess.Q(gt, lqUp, eps2, sm);
                    var fx = Precond.D(Teacher!, xm, Fill(bs, sm), lq);
                    grad = F.Sub(fz, fx);
                }
                else grad = F.Sub(fz, gt);
                tgt = F.Sub(xHat, grad);
                wts = Losses.DtmWeights(xHat.ToArray(), b.Gt, bs);
            }
            var ldtm = Losses.Dtm(pred, tgt, wts, _hooks.Lpips, o.DtmWeight);
            dtmValue = ldtm.ToScalar();
            total = F.Add(lct, ldtm);
        }
        double ctValue = lct.ToScalar(), value = total.ToScalar();
        if (double.IsFinite(value))
        {
            var scaled = scale == 1f ? total : F.Scale(total, scale);
            scaled.Backward();
        }
        else Tape.Clear();
        return (value, ctValue, dtmValue);
    }

    static float[] Fill(int n, float v) { var a = new float[n]; Array.Fill(a, v); return a; }

    public void Dispose()
    {
        _loader?.Dispose();
        _loader = null;
    }
}
