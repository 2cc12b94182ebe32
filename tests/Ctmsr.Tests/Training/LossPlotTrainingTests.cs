using Ctmsr.Autograd;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Imaging;
using Ctmsr.Train.Training;

namespace Ctmsr.Tests.Training;

/// <summary>The run directory's loss.png: written at each log step, atomically, and redrawn in full after a resume.</summary>
[NonParallelizable]
public class LossPlotTrainingTests
{
    [Test]
    public void LossPngIsWrittenEachLogStepAndAResumeRedrawsTheWholeHistory()
    {
        var root = TrainingKit.TempDir("lossplot");
        try
        {
            var opt = TrainingKit.Options(SharedData.Path_("data/ValSR/gt"), iters: 4, batch: 1);
            using var ctx = new Context(new CpuBackend());
            string a = Path.Combine(root, "a", "run"), b = Path.Combine(root, "b", "run");
            byte[]? afterOne = null;
            using (var t = Trainer.Start(ctx, opt, a, new TrainerHooks
            {
                // the progress report follows the log step of the same iteration: the picture is already there
                Progress = new SyncProgress(p => { if (p.Iteration == 1) afterOne = File.ReadAllBytes(Path.Combine(a, "loss.png")); }),
            })) t.Run();
            Assert.That(afterOne, Is.Not.Null, "loss.png exists after the first iteration");
            byte[] whole = File.ReadAllBytes(Path.Combine(a, "loss.png"));
            Assert.That(whole, Is.Not.EqualTo(afterOne), "and is redrawn as the run goes on");
            var img = ImageCodec.Decode(whole, "loss.png");
            Assert.That((img.Width, img.Height), Is.EqualTo((960, 540)));
            Assert.That(Directory.GetFiles(Path.Combine(root, "a", "run")).Select(Path.GetFileName), Has.None.EndsWith(".tmp"));

            using (var t = Trainer.Start(ctx, opt, b)) t.Run(stopAt: 2);
            using (var t = Trainer.Resume(ctx, b)) t.Run();
            Assert.That(File.ReadAllBytes(Path.Combine(b, "loss.png")), Is.EqualTo(whole), "interrupted + resumed draws the same picture as one run");
        }
        finally { TrainingKit.Delete(root); }
    }

    sealed class SyncProgress(Action<TrainProgress> f) : IProgress<TrainProgress>
    {
        public void Report(TrainProgress value) => f(value);
    }
}
