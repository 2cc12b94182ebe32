using System.Diagnostics;
using Ctmsr.Autograd;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Model.Checkpoints;
using Ctmsr.Model.Network;
using Ctmsr.Train.Training;
using static Ctmsr.Tests.Training.TrajectoryStageKit;

namespace Ctmsr.Tests.Training;

/// <summary>`train align` and `train distill` through the Trainer: exact resume after an interruption (as CT's test),
/// the logs, the starting weights, and the alignment's memory staying that of one step as K grows.</summary>
[NonParallelizable]
public sealed class TrajectoryTrainerTests
{
    static string ValGt => SharedData.Path_("data/ValSR/gt");

    static Dictionary<string, float[]> Tensors(string path)
    {
        using var f = SafetensorsFile.Open(path);
        return f.Names.ToDictionary(n => n, n => f.Floats(n));
    }

    static TrainOptions Options(TrainStage stage) => TrainingKit.Options(ValGt, iters: 4, batch: 1) with
    {
        Stage = stage, Model = CtmsrConfig.Tiny, From = ModelPath, Accumulate = 2, EmaDecay = 0.9f, Lr = 1e-4f,
        Trajectory = new TrajectoryTrainOptions { TeacherSteps = 2, Candidates = 2, Gamma = 0.3, StudentSteps = 2, Start = 0.9, Guidance = 0.1 },
    };

    [TestCase(TrainStage.Align)]
    [TestCase(TrainStage.Distill)]
    public void ResumeIsExact(TrainStage stage)
    {
        var root = TrainingKit.TempDir("traj-resume");
        try
        {
            var opt = Options(stage);
            using var ctx = new Context(new CpuBackend());
            var sw = Stopwatch.StartNew();
            TrainResult whole;
            using (var t = Trainer.Start(ctx, opt, Path.Combine(root, "a")))
            {
                // the student (and its EMA) start at the given model; distillation's teacher too
                var model = CheckpointFiles.LoadStateDict(ModelPath);
                var (name, p0) = t.Net.NamedParameters().First();
                Assert.That(p0.ToArray(), Is.EqualTo(model["model." + name].ToFloats()));
                if (stage == TrainStage.Distill) Assert.That(t.Teacher!.Parameters().First().ToArray(), Is.EqualTo(model["model." + name].ToFloats()));
                else Assert.That(t.Teacher, Is.Null);
                whole = t.Run();
            }
            TestContext.Out.WriteLine($"{stage}: 4 iterations in {sw.Elapsed.TotalSeconds:0.0} s; losses {string.Join(", ", whole.Losses)}");
            TrainResult first, second;
            using (var t = Trainer.Start(ctx, opt, Path.Combine(root, "b"))) first = t.Run(stopAt: 2);
            using (var t = Trainer.Resume(ctx, Path.Combine(root, "b")))
            {
                Assert.That(t.Iteration, Is.EqualTo(2));
                second = t.Run();
            }
            Assert.That(first.Losses.Concat(second.Losses), Is.EqualTo(whole.Losses), "losses of 2 + resume + 2 equal 4 in one go");
            var a = Tensors(whole.LastCheckpoint!); var b = Tensors(second.LastCheckpoint!);
            Assert.That(b.Keys.Order(), Is.EqualTo(a.Keys.Order()));
            Assert.That(a.Keys.Any(k => k.StartsWith("teacher.", StringComparison.Ordinal)), Is.EqualTo(stage == TrainStage.Distill), "the distillation teacher is checkpointed");
            foreach (var k in a.Keys) Assert.That(b[k], Is.EqualTo(a[k]), $"{k} differs bitwise");
            Assert.That(TrainingCheckpoint.ReadState(second.LastCheckpoint!).Stage, Is.EqualTo(stage));
            var log = RunDirectory.Open(Path.Combine(root, "b")).ReadLog();
            Assert.That(log.Select(e => (int)e["iter"]!), Is.EqualTo(new[] { 1, 2, 3, 4 }));
            var keys = stage == TrainStage.Align ? new[] { "loss_traj", "loss_gt", "reward_ode", "reward_best", "peak_mib" } : new[] { "teacher_to_gt", "peak_mib" };
            foreach (var e in log) foreach (var k in keys) Assert.That(double.IsFinite((double)e[k]!), $"{k} logged");
            // the run changed the model
            var model0 = CheckpointFiles.LoadStateDict(ModelPath);
            var firstName = a.Keys.First(k => k.StartsWith("params.model.", StringComparison.Ordinal));
            Assert.That(a[firstName], Is.Not.EqualTo(model0[firstName["params.".Length..]].ToFloats()));
        }
        finally { TrainingKit.Delete(root); }
    }

    [Test]
    public void AlignmentMemoryIsThatOfOneStepAsKGrows()
    {
        // From tau = K the trajectory has K steps; the rollouts keep N K states without gradients, the backward is one
        // step at a time. Peak pool bytes therefore grow by about N (K' - K) states from K = 4 to 10, not by 6 steps of
        // activations: measured here and bounded by the extra states (with the pool's bucket rounding, 12.5%) plus 3;
        // and the whole stays within 1.35 times one D forward + backward (parameter gradients included in both).
        var batch = Batch();
        using var ctx = new Context(new CpuBackend());
        var net = Load(ctx);
        long state = 3L * 64 * 64 * sizeof(float);
        var peaks = new Dictionary<int, long>();
        const int n = 4;
        foreach (int k in new[] { 4, 10 })
        {
            using var scope = Tape.Scope();
            var gt = Tensor.From(ctx, batch.Gt, 1, 3, 64, 64);
            var y = Tensor.From(ctx, batch.LqUp, 1, 3, 64, 64);
            var lq = Tensor.From(ctx, batch.Lq, 1, 3, 16, 16);
            long before = ctx.Pool.BytesInUse;
            ctx.Pool.ResetPeak();
            AlignStage.Step(ctx, net, gt, y, lq, batch.Gt, new TrajectoryTrainOptions { TeacherSteps = k, Candidates = n }, new AlignReward(AlignRewardKind.Psnr), 5, forceTau: k);
            peaks[k] = ctx.Pool.PeakBytesInUse - before;
            net.ZeroGrad();
        }
        // one step's forward + backward alone, for scale
        long oneStep;
        using (var scope = Tape.Scope())
        {
            var x = Tensor.From(ctx, batch.LqUp, 1, 3, 64, 64);
            var lq = Tensor.From(ctx, batch.Lq, 1, 3, 16, 16);
            long before = ctx.Pool.BytesInUse;
            ctx.Pool.ResetPeak();
            F.Mean(Precond.D(net, x, [0.5f], lq)).Backward();
            oneStep = ctx.Pool.PeakBytesInUse - before;
            net.ZeroGrad();
        }
        TestContext.Out.WriteLine($"peak pool bytes of one alignment step (batch 1, 64x64, N {n}): K 4 {peaks[4] / 1048576.0:0.0} MiB, K 10 {peaks[10] / 1048576.0:0.0} MiB; " +
                                  $"one D forward+backward {oneStep / 1048576.0:0.0} MiB; a state {state / 1024.0:0} KiB");
        Assert.That(peaks[10] - peaks[4], Is.LessThan((long)(1.125 * (n * 6 + 3) * state)), "growth is the stored states, not activations");
        Assert.That(peaks[10], Is.LessThan((long)(1.35 * oneStep)), "well under two steps' activations");
    }

    [Test, Explicit("measurement at the paper's setting (batch 2, 256x256 crops): minutes of CPU")]
    public void AlignmentPeakMemoryAtThePapersSetting()
    {
        using var ctx = new Context(new CpuBackend());
        var net = Load(ctx);
        foreach (int k in new[] { 4, 10 })
        {
            using var scope = Tape.Scope();
            using var loader = new Ctmsr.Train.Data.BatchLoader(new Ctmsr.Train.Data.FolderDataset(SharedData.Path_("data/ValSR/gt"), 256, 4242), 2);
            var b = loader.Next();
            var gt = Tensor.From(ctx, b.Gt, 2, 3, 256, 256);
            var y = Tensor.From(ctx, b.LqUp, 2, 3, 256, 256);
            var lq = Tensor.From(ctx, b.Lq, 2, 3, 64, 64);
            long before = ctx.Pool.BytesInUse;
            ctx.Pool.ResetPeak();
            var sw = Stopwatch.StartNew();
            AlignStage.Step(ctx, net, gt, y, lq, b.Gt, new TrajectoryTrainOptions { TeacherSteps = k, Candidates = 4 }, new AlignReward(AlignRewardKind.Psnr), 5, forceTau: k);
            TestContext.Out.WriteLine($"K {k}, N 4, tau = K, batch 2, 256x256: peak {(ctx.Pool.PeakBytesInUse - before) / 1048576.0:0.0} MiB above the model, {sw.Elapsed.TotalSeconds:0} s");
            net.ZeroGrad();
        }
    }
}
