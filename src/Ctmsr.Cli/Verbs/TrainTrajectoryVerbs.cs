using System.CommandLine;
using Ctmsr.Autograd;
using Ctmsr.Metrics;
using Ctmsr.Model.Lpips;
using Ctmsr.Train.Training;

namespace Ctmsr.Cli.Verbs;

/// <summary>
/// `ctmsr train align --init MODEL --data DIR --run DIR [...]` (Stage A of spec/TRAJECTORY.md) and
/// `ctmsr train distill --init MODEL --data DIR --run DIR [...]` (Stage B): the run directory, logging, checkpoints,
/// EMA and exact resume (`--resume RUN_DIR`) of `train ct`, with the stage's own flags.
/// </summary>
static class TrainTrajectoryVerbs
{
    static Option<string?> Init() => new("--init")
    {
        Description = "the trained model to start from: a run directory (its newest checkpoint: training weights and EMA), a training checkpoint, or a model file (e.g. models/ctmsr-tiny.safetensors, a run's model_ema.safetensors)",
    };

    static Option<int?> TeacherSteps(string what) => new("--teacher-steps") { Description = $"K, ODE steps of {what} (default 4; the paper uses 4..10)" };

    public static Command Align()
    {
        var cmd = new Command("align", "Stage A (spec/TRAJECTORY.md): align the K-step ODE trajectory with the best of N stochastic rollouts; per-step MSE to the winner's states + MSE of the final state to gt, each step's input detached (memory of one step)");
        var c = new TrainVerb.Common();
        c.AddTo(cmd, curriculum: false);
        var init = Init();
        var k = TeacherSteps("the trajectory being aligned");
        var n = new Option<int?>("--candidates") { Description = "N, rollouts from x_tau compared by the reward, candidate 0 being the ODE itself (default 4; the paper uses 4..8)" };
        var gamma = new Option<double?>("--gamma") { Description = "fixed gamma of the candidates' modulated stochastic step, in (0, 1] (default 0.05; the spec asks for 0.05 and 0.1; a learned gamma is not implemented)" };
        var reward = new Option<string?>("--reward") { Description = "psnr (default: PSNR-Y against gt), niqe (-NIQE; crops of at least 192 and --niqe-params), lpips-alex (-LPIPS-Alex against gt; needs --lpips-alex) or mix (PSNR-Y - NIQE - 10 LPIPS-Alex over the terms whose weights are given)" };
        var niqe = new Option<FileInfo?>("--niqe-params") { Description = "NIQE pristine model for --reward niqe|mix (default: $CTMSR_NIQE_PARAMS, else weights/niqe_pris_params.npz here or in ../shared)" };
        var alex = new Option<FileInfo?>("--lpips-alex") { Description = "torchvision AlexNet weights (alexnet-owt-7be5be79.pth) for --reward lpips-alex|mix (heads: $CTMSR_LPIPS_HEADS or weights/lpips-v0.1/alex.pth)" };
        foreach (Option o in new Option[] { init, k, n, gamma, reward, niqe, alex }) cmd.Options.Add(o);
        cmd.SetGuardedAction(r =>
        {
            var d = new TrajectoryTrainOptions();
            var kind = (r.GetValue(reward) ?? "psnr").Trim().ToLowerInvariant() switch
            {
                "psnr" => AlignRewardKind.Psnr, "niqe" => AlignRewardKind.Niqe, "lpips-alex" => AlignRewardKind.LpipsAlex, "mix" => AlignRewardKind.Mix,
                var x => throw new ArgumentException($"--reward {x}: use psnr, niqe, lpips-alex or mix"),
            };
            var t = d with
            {
                TeacherSteps = r.GetValue(k) ?? d.TeacherSteps, Candidates = r.GetValue(n) ?? d.Candidates,
                Gamma = r.GetValue(gamma) ?? d.Gamma, Reward = kind,
            };
            bool resuming = r.GetValue(c.Resume) is not null;
            if (!resuming)
            {
                t.Validate(TrainStage.Align);
                if (r.GetValue(init) is null) throw new ArgumentException("--init is required: the trained model to align (a run directory, checkpoint or model file)");
            }
            else kind = RunDirectory.Open(r.GetValue(c.Resume)!.FullName).ReadOptions().Trajectory.Reward;
            return TrainVerb.Execute(r, c, TrainStage.Align, r.GetValue(init), null, null, t,
                (ctx, h) => WithRewardModels(ctx, h, kind, r.GetValue(niqe), r.GetValue(alex)));
        });
        return cmd;
    }

    public static Command Distill()
    {
        var cmd = new Command("distill", "Stage B (spec/TRAJECTORY.md): distil the K-step ODE teacher (frozen, the --init model) into a 1- or 2-step student with the inference start and guidance; target = mix of the teacher's output and gt, Charbonnier loss (0.5 LPIPS-VGG + 0.5 Charbonnier with --lpips-vgg)");
        var c = new TrainVerb.Common();
        c.AddTo(cmd, curriculum: false);
        var init = Init();
        var k = TeacherSteps("the teacher");
        var student = new Option<int?>("--student-steps") { Description = "k, the student's ODE steps: 1 (default) or 2" };
        var start = new Option<double?>("--start") { Description = "the student's start time T in (0, 1]: x_T = lq_up + T eps (default 1; use the same --start at inference)" };
        var guidance = new Option<double?>("--guidance") { Description = "negative guidance weight w in [0, 10] applied to the student's estimates during training, as at inference (default 0)" };
        var mix = new Option<float?>("--target-mix") { Description = "m in [0, 1]: target = m * teacher's K-step output + (1 - m) * gt (default 0.5)" };
        foreach (Option o in new Option[] { init, k, student, start, guidance, mix }) cmd.Options.Add(o);
        cmd.SetGuardedAction(r =>
        {
            var d = new TrajectoryTrainOptions();
            var t = d with
            {
                TeacherSteps = r.GetValue(k) ?? d.TeacherSteps, StudentSteps = r.GetValue(student) ?? d.StudentSteps,
                Start = r.GetValue(start) ?? d.Start, Guidance = r.GetValue(guidance) ?? d.Guidance, TargetMix = r.GetValue(mix) ?? d.TargetMix,
            };
            if (r.GetValue(c.Resume) is null)
            {
                t.Validate(TrainStage.Distill);
                if (r.GetValue(init) is null) throw new ArgumentException("--init is required: the (aligned) teacher the student starts from (a run directory, checkpoint or model file)");
            }
            return TrainVerb.Execute(r, c, TrainStage.Distill, r.GetValue(init), null, null, t);
        });
        return cmd;
    }

    static TrainerHooks WithRewardModels(Context ctx, TrainerHooks h, AlignRewardKind kind, FileInfo? niqe, FileInfo? alex)
    {
        NiqeModel? niqeModel = null;
        LpipsScorer? lpips = null;
        if (kind is AlignRewardKind.Niqe or AlignRewardKind.Mix)
        {
            var path = niqe?.FullName ?? WeightFiles.FindDefault("CTMSR_NIQE_PARAMS", "niqe_pris_params.npz");
            if (path is null && kind == AlignRewardKind.Niqe)
                throw new FileNotFoundException("--reward niqe needs the NIQE pristine model: pass --niqe-params niqe_pris_params.npz or set CTMSR_NIQE_PARAMS");
            if (path is not null) niqeModel = NiqeModel.Load(path);
        }
        if (alex is not null)
        {
            if (!alex.Exists) throw new FileNotFoundException($"{alex.FullName}: no such file; pass torchvision's AlexNet weights (alexnet-owt-7be5be79.pth) to --lpips-alex");
            var heads = WeightFiles.FindDefault("CTMSR_LPIPS_HEADS", "lpips-v0.1/alex.pth")
                ?? throw new FileNotFoundException("LPIPS-Alex needs the v0.1 heads: set CTMSR_LPIPS_HEADS to lpips-v0.1/alex.pth");
            lpips = LpipsScorer.Load(ctx, LpipsBackbone.Alex, alex.FullName, heads);
        }
        else if (kind == AlignRewardKind.LpipsAlex)
            throw new ArgumentException("--reward lpips-alex needs torchvision's AlexNet weights: pass --lpips-alex alexnet-owt-7be5be79.pth");
        return new TrainerHooks { Lpips = h.Lpips, Progress = h.Progress, Message = h.Message, Source = h.Source, Niqe = niqeModel, LpipsAlex = lpips };
    }
}
