using System.Diagnostics;
using Ctmsr.Autograd;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Model.Checkpoints;
using Ctmsr.Model.Network;
using Ctmsr.Train.Data;
using Ctmsr.Train.Training;

namespace Ctmsr.Tests.Training;

[NonParallelizable]
public class TrainerTests
{
    static string ValGt => SharedData.Path_("data/ValSR/gt");

    static Dictionary<string, float[]> Tensors(string path)
    {
        using var f = SafetensorsFile.Open(path);
        return f.Names.ToDictionary(n => n, n => f.Floats(n));
    }

    [Test]
    public void ResumeIsExact()
    {
        var root = TrainingKit.TempDir("resume");
        try
        {
            var opt = TrainingKit.Options(ValGt, iters: 6, batch: 1) with { Accumulate = 2 };
            var sw = Stopwatch.StartNew();
            using var ctx = new Context(new CpuBackend());
            TrainResult whole;
            using (var t = Trainer.Start(ctx, opt, Path.Combine(root, "a"))) whole = t.Run();
            TestContext.Out.WriteLine($"6 iterations in {sw.Elapsed.TotalSeconds:0.0} s; losses {string.Join(", ", whole.Losses)}");
            TrainResult first, second;
            using (var t = Trainer.Start(ctx, opt, Path.Combine(root, "b"))) first = t.Run(stopAt: 3);
            Assert.That(first.Iteration, Is.EqualTo(3));
            Assert.That(first.Finished, Is.False);
            using (var t = Trainer.Resume(ctx, Path.Combine(root, "b")))
            {
                Assert.That(t.Iteration, Is.EqualTo(3));
                second = t.Run();
            }
            Assert.That(first.Losses.Concat(second.Losses), Is.EqualTo(whole.Losses), "losses of 3 + resume + 3 equal 6 in one go");
            Assert.That(second.Finished);
            var a = Tensors(whole.LastCheckpoint!); var b = Tensors(second.LastCheckpoint!);
            Assert.That(b.Keys.Order(), Is.EqualTo(a.Keys.Order()));
            Assert.That(a.Keys.Count(k => k.StartsWith("optim.m.", StringComparison.Ordinal)), Is.GreaterThan(0));
            foreach (var k in a.Keys) Assert.That(b[k], Is.EqualTo(a[k]), $"{k} differs bitwise");
            // metadata: iteration, Adam step, dropout offset
            using (var fa = SafetensorsFile.Open(whole.LastCheckpoint!)) using (var fb = SafetensorsFile.Open(second.LastCheckpoint!))
                Assert.That(fb.Metadata, Is.EquivalentTo(fa.Metadata));
            Assert.That(TrainingCheckpoint.ReadState(whole.LastCheckpoint!).AdamStep, Is.EqualTo(6));
            // the log of b holds each iteration once, and the EMA model loads as an inference model
            var log = RunDirectory.Open(Path.Combine(root, "b")).ReadLog();
            Assert.That(log.Select(e => (int)e["iter"]!), Is.EqualTo(new[] { 1, 2, 3, 4, 5, 6 }));
            var net = new CtmsrNet(ctx, TrainingKit.Tiny);
            ModelWeights.Load(net, CheckpointFiles.LoadStateDict(Path.Combine(root, "b", "model_ema.safetensors")));
            Assert.That(net.Parameters().First().ToArray(), Is.EqualTo(a["params_ema.model." + net.NamedParameters().First().name]));
        }
        finally { TrainingKit.Delete(root); }
    }

    [Test]
    public void CtLossFallsAndDtmChangesTheModel()
    {
        var root = TrainingKit.TempDir("ct");
        try
        {
            using var ctx = new Context(new CpuBackend());
            // a learning rate well above the paper's so that a few dozen iterations show the trend
            var opt = TrainingKit.Options(ValGt, iters: 30, batch: 2) with { Lr = 1e-3f, S0 = 3, S1 = 3 };
            var messages = new List<string>();
            TrainResult r;
            var sw = Stopwatch.StartNew();
            using (var t = Trainer.Start(ctx, opt, Path.Combine(root, "ct"), new TrainerHooks { Message = messages.Add }))
                r = t.Run();
            TestContext.Out.WriteLine($"CT 30 iterations in {sw.Elapsed.TotalSeconds:0.0} s: {string.Join(", ", r.Losses.Select(l => l.ToString("0.0000")))}");
            Assert.That(messages.Count(m => m.Contains("Charbonnier ALONE")), Is.EqualTo(1), "the missing LPIPS is said once");
            // the CT loss on a fixed held-out batch (every n, fixed noise, dropout off), before and after
            var initial = new CtmsrNet(ctx, TrainingKit.Tiny);
            initial.InitializeRandom((int)(SeedMix.Mix(opt.Seed, 0x696E6974) & 0x7FFFFFFF));
            var final = new CtmsrNet(ctx, TrainingKit.Tiny);
            using (var f = SafetensorsFile.Open(r.LastCheckpoint!)) ModelWeights.Load(final, f.ReadAll(TrainingCheckpoint.Params));
            TrainBatch held;
            using (var hl = new BatchLoader(new FolderDataset(ValGt, 64, seed: 12345), 4)) held = hl.Next();
            double lossBefore = FixedCtLoss(ctx, initial, held), lossAfter = FixedCtLoss(ctx, final, held);
            TestContext.Out.WriteLine($"fixed-batch CT loss {lossBefore:0.0000} -> {lossAfter:0.0000}");
            // 0.8: with the degradation's JPEG step on ImageSharp (issue 13) the same 30 iterations give 0.1875 -> 0.1422
            // (ratio 0.758; it was just under 0.75 with libjpeg-turbo's bytes). Still a test that can fail: a trainer that
            // does not learn leaves the weights as initialised (Lr = 0: AdamW's step and its decoupled decay both scale
            // with Lr; a cut graph: zero gradients), so both losses are taken with the same weights on the same held-out
            // batch and noise and the ratio is exactly 1; a wrong-signed update makes it above 1. The run is
            // deterministic (seeded data, noise and dropout; kernels whose results do not depend on the thread count,
            // see ThreadsTests), so the 5% margin to 0.758 is not sampling noise.
            Assert.That(lossAfter, Is.LessThan(0.8 * lossBefore), $"CT loss fell from {lossBefore:0.0000} to {lossAfter:0.0000}");

            // DTM from the CT run: a different config is refused
            var bad = opt with { Stage = TrainStage.Dtm, From = Path.Combine(root, "ct"), Model = TrainingKit.Tiny with { NumBlocks = 2 } };
            var e = Assert.Throws<ArgumentException>(() => Trainer.Start(ctx, bad, Path.Combine(root, "bad")));
            Assert.That(e!.Message, Does.Contain("drop --config"));

            var dtmOpt = opt with { Stage = TrainStage.Dtm, From = Path.Combine(root, "ct"), Iterations = 3, TeacherRefresh = 2, Lr = 1e-4f };
            using var dtm = Trainer.Start(ctx, dtmOpt, Path.Combine(root, "dtm"), new TrainerHooks { Message = messages.Add });
            Assert.That(messages.Any(m => m.Contains("DTM term uses a per-sample Charbonnier")));
            var before = Tensors(r.LastCheckpoint!);
            var firstName = "params.model." + dtm.Net.NamedParameters().First().name;
            Assert.That(dtm.Net.Parameters().First().ToArray(), Is.EqualTo(before[firstName]), "DTM starts from the CT weights");
            float[] Output(CtmsrNet net)
            {
                using var scope = Tape.Scope();
                using var ng = Tape.NoGrad();
                net.Eval();
                var rnd = new Random(5);
                var x = Tensor.From(ctx, Enumerable.Range(0, 3 * 64 * 64).Select(_ => (float)rnd.NextDouble() * 2 - 1).ToArray(), 1, 3, 64, 64);
                var lq = Tensor.From(ctx, Enumerable.Range(0, 3 * 16 * 16).Select(_ => (float)rnd.NextDouble() * 2 - 1).ToArray(), 1, 3, 16, 16);
                var o = Precond.D(net, x, [1f], lq).ToArray();
                net.Train();
                return o;
            }
            var out0 = Output(dtm.Net);
            var dr = dtm.Run();
            var out1 = Output(dtm.Net);
            var log = dtm.RunDir.ReadLog();
            Assert.That(log.All(l => double.IsFinite((double)l["loss_dtm"]!) && (double)l["loss_dtm"]! > 0), "DTM term present and finite");
            Assert.That(log.All(l => (double)l["loss"]! > (double)l["loss_ct"]!), "L = L_CT + L_DTM");
            double change = out0.Zip(out1, (p, q) => Math.Abs(p - q)).Max();
            Assert.That(change, Is.GreaterThan(1e-4), "DTM changes the output");
            Assert.That(dtm.TeacherIteration, Is.EqualTo(2), "teacher refreshed every 2 iterations");
            Assert.That(TrainingCheckpoint.ReadState(dr.LastCheckpoint!).Stage, Is.EqualTo(TrainStage.Dtm));
            var whole = Tensors(dr.LastCheckpoint!);
            Assert.That(whole.Keys.Any(k => k.StartsWith("teacher.", StringComparison.Ordinal)));

            // CT can start from given weights (fine-tuning): the student and its EMA begin at the CT run's EMA model
            var ctInit = opt with { From = Path.Combine(root, "ct", "model_ema.safetensors"), Iterations = 1 };
            using (var t = Trainer.Start(ctx, ctInit, Path.Combine(root, "ct-init")))
            {
                var ema = Tensors(Path.Combine(root, "ct", "model_ema.safetensors"));
                var (name, p0) = t.Net.NamedParameters().First();
                Assert.That(p0.ToArray(), Is.EqualTo(ema["model." + name]),
                    "CT --init loads the weights");
            }

            // DTM resume is exact too (stopping at 1, while the teacher is still the CT model, is the telling case)
            TrainResult d1, d2;
            using (var t = Trainer.Start(ctx, dtmOpt, Path.Combine(root, "dtm2"))) d1 = t.Run(stopAt: 1);
            using (var t = Trainer.Resume(ctx, Path.Combine(root, "dtm2"))) d2 = t.Run();
            Assert.That(d1.Losses.Concat(d2.Losses), Is.EqualTo(dr.Losses));
            var split = Tensors(d2.LastCheckpoint!);
            foreach (var k in whole.Keys) Assert.That(split[k], Is.EqualTo(whole[k]), $"{k} differs after a DTM resume");
        }
        finally { TrainingKit.Delete(root); }
    }

    static double FixedCtLoss(Context ctx, CtmsrNet net, TrainBatch b)
    {
        using var scope = Tape.Scope();
        using var ng = Tape.NoGrad();
        net.Eval();
        var gt = Tensor.From(ctx, b.Gt, b.Count, 3, 64, 64);
        var up = Tensor.From(ctx, b.LqUp, b.Count, 3, 64, 64);
        var lq = Tensor.From(ctx, b.Lq, b.Count, 3, 16, 16);
        var eps = ForwardProcess.Noise(ctx, 99, b.Count, 3, 64, 64);
        double sum = 0;
        for (int n = 0; n < 3; n++)
        {
            float s0 = Curriculum.Sigma(n, 4), s1 = Curriculum.Sigma(n + 1, 4);
            var target = Precond.D(net, ForwardProcess.Q(gt, up, eps, s0), Enumerable.Repeat(s0, b.Count).ToArray(), lq);
            var pred = Precond.D(net, ForwardProcess.Q(gt, up, eps, s1), Enumerable.Repeat(s1, b.Count).ToArray(), lq);
            sum += Losses.Ct(pred, target, null, 0.5f, 0.5f).ToScalar();
        }
        net.Train();
        return sum / 3;
    }

    sealed class NanSource(ISampleSource inner) : ISampleSource
    {
        public TrainSample Get(long index)
        {
            var s = inner.Get(index);
            if (index >= 2) s.Gt[0] = float.NaN;
            return s;
        }
    }

    [Test]
    public void NonFiniteLossStopsWithIterationAndCheckpoint()
    {
        var root = TrainingKit.TempDir("nan");
        try
        {
            using var ctx = new Context(new CpuBackend());
            var opt = TrainingKit.Options(ValGt, iters: 4, batch: 1) with { CheckpointEvery = 1 };
            var src = new NanSource(new FolderDataset(ValGt, 64, 1));
            using var t = Trainer.Start(ctx, opt, Path.Combine(root, "run"), new TrainerHooks { Source = src });
            var e = Assert.Throws<TrainingDivergedException>(() => t.Run());
            TestContext.Out.WriteLine(e!.Message);
            Assert.That(e.Message, Does.Contain("at iteration 3"));
            Assert.That(e.Message, Does.Contain("ckpt_00000002.safetensors"));
            Assert.That(e.Message, Does.Contain("--resume"));
            Assert.That(t.Iteration, Is.EqualTo(2));
        }
        finally { TrainingKit.Delete(root); }
    }

    [Test]
    public void BadRunInputsAreClearErrors()
    {
        var root = TrainingKit.TempDir("badrun");
        try
        {
            using var ctx = new Context(new CpuBackend());
            var opt = TrainingKit.Options(ValGt, iters: 2);
            Assert.That(Assert.Throws<ArgumentException>(() => Trainer.Start(ctx, opt with { Crop = 48 }, Path.Combine(root, "x")))!.Message,
                Does.Contain("multiple of 64"));
            Assert.That(Assert.Throws<DirectoryNotFoundException>(() => Trainer.Start(ctx, opt with { Data = Path.Combine(root, "none") }, Path.Combine(root, "y")))!.Message,
                Does.Contain("no such folder"));
            Assert.That(Assert.Throws<DirectoryNotFoundException>(() => Trainer.Resume(ctx, Path.Combine(root, "none")))!.Message,
                Does.Contain("no such run directory"));
            using (Trainer.Start(ctx, opt, Path.Combine(root, "z"))) { }
            Assert.That(Assert.Throws<ArgumentException>(() => Trainer.Start(ctx, opt, Path.Combine(root, "z")))!.Message,
                Does.Contain("already holds a run"));
            Assert.That(Assert.Throws<FileNotFoundException>(() => Trainer.Resume(ctx, Path.Combine(root, "z")))!.Message,
                Does.Contain("no checkpoint yet"));
            var dtm = opt with { Stage = TrainStage.Dtm, From = Path.Combine(root, "z") };
            Assert.That(Assert.Throws<FileNotFoundException>(() => Trainer.Start(ctx, dtm, Path.Combine(root, "w")))!.Message,
                Does.Contain("no checkpoint yet"));
            Assert.That(Assert.Throws<ArgumentException>(() => Trainer.Start(ctx, opt with { Stage = TrainStage.Dtm }, Path.Combine(root, "v")))!.Message,
                Does.Contain("--from"));
        }
        finally { TrainingKit.Delete(root); }
    }

    [Test]
    public void ValidationScoresTheEmaModelAtCheckpoints()
    {
        var root = TrainingKit.TempDir("val");
        try
        {
            using var ctx = new Context(new CpuBackend());
            var val = Path.GetDirectoryName(ValGt)!;
            var opt = TrainingKit.Options(ValGt, iters: 2, batch: 1) with { Val = val, ValLimit = 2, CheckpointEvery = 1 };
            var msgs = new List<string>();
            using var t = Trainer.Start(ctx, opt, Path.Combine(root, "run"), new TrainerHooks { Message = msgs.Add });
            t.Run();
            var vals = t.RunDir.ReadLog().Where(l => l.ContainsKey("val_psnr_y")).ToList();
            Assert.That(vals.Select(v => (int)v["iter"]!), Is.EqualTo(new[] { 1, 2 }));
            foreach (var v in vals) Assert.That((double)v["val_psnr_y"]!, Is.InRange(3.0, 60.0));
            Assert.That(msgs.Count(m => m.StartsWith("validation", StringComparison.Ordinal)), Is.EqualTo(2));
        }
        finally { TrainingKit.Delete(root); }
    }

    [Test]
    public void PsnrYClosedForm()
    {
        // gt all 0 ([-1]), sr all 0.5 -> Y differs by (65.481 + 128.553 + 24.966) * 128/255 on every pixel
        int plane = 16;
        var gt = Enumerable.Repeat(-1f, 3 * plane).ToArray();
        var sr = Enumerable.Repeat(0.00392157f, 3 * plane).ToArray(); // u = 128/255
        double d = 219.0 * 128 / 255;
        Assert.That(Validation.PsnrY(sr, gt, plane), Is.EqualTo(10 * Math.Log10(255.0 * 255 / (d * d))).Within(1e-6));
        Assert.That(Validation.PsnrY(gt, gt, plane), Is.EqualTo(double.PositiveInfinity));
    }

    [Test]
    public void OptionsRoundTripThroughJson()
    {
        var o = TrainingKit.Options("/data", 10) with { LrMilestones = [5, 8], DtmLoss = DtmLossKind.Sds, Seed = ulong.MaxValue };
        var back = TrainOptions.FromJson(o.ToJson(), "config.json");
        Assert.That(back.ToJson(), Is.EqualTo(o.ToJson()));
        Assert.That(TrainingCheckpoint.SameConfig(back.Model, o.Model));
        Assert.That(back.DtmLoss, Is.EqualTo(DtmLossKind.Sds));
    }
}
