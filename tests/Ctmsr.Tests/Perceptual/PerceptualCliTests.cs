using Ctmsr.Autograd;
using Ctmsr.Imaging;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Metrics;
using Ctmsr.Model.Perceptual;
using Ctmsr.Tests.Training;

namespace Ctmsr.Tests.Perceptual;

/// <summary>The perceptual loss through the CLI (train ct with --perceptual, its resume, eval's column) and the scorer's crop.</summary>
public class PerceptualCliTests
{
    [Test]
    public void TrainCtWithThePerceptualLossRecordsItAndTheResumeKeepsIt()
    {
        string data = SharedData.Path_("data/Bicubicx4/gt");
        string run = Path.Combine(TrainingKit.TempDir("percept"), "run");
        try
        {
            var (code, o, e) = CliRunner.Run("train", "ct", "--data", data, "--run", run, "--config", "tiny", "--iters", "2", "--batch", "2",
                "--crop", "64", "--checkpoint-every", "1", "--workers", "1", "--perceptual", "resnet18", "--perceptual-weights", Resnet18Files.Model);
            Assert.That(code, Is.EqualTo(0), o + e);
            Assert.That(o, Does.Contain("perceptual loss: resnet18").And.Not.Contain("Charbonnier ALONE"));
            Assert.That(File.ReadAllText(Path.Combine(run, "config.json")), Does.Contain("\"perceptual\": \"resnet18\""));
            (code, o, e) = CliRunner.Run("train", "ct", "--resume", run, "--perceptual-weights", Resnet18Files.Model);
            Assert.That(code, Is.EqualTo(0), o + e);
            // without the flag the resume still opens the loss config.json names: a bad default location shows it
            var old = Environment.GetEnvironmentVariable("CTMSR_RESNET18_ONNX");
            Environment.SetEnvironmentVariable("CTMSR_RESNET18_ONNX", "/nonexistent/r18.onnx");
            try { (code, o, e) = CliRunner.Run("train", "ct", "--resume", run); }
            finally { Environment.SetEnvironmentVariable("CTMSR_RESNET18_ONNX", old); }
            Assert.That(code, Is.Not.EqualTo(0));
            Assert.That(e, Does.Contain("$CTMSR_RESNET18_ONNX points to /nonexistent/r18.onnx"), "the resumed run asks for the loss its config.json names");
        }
        finally { TrainingKit.Delete(Path.GetDirectoryName(run)!); }
    }

    [Test]
    public void BadPerceptualOptionsFailWithOneLine()
    {
        var (code, _, e) = CliRunner.Run("train", "ct", "--data", ".", "--run", "x", "--perceptual", "vgg");
        Assert.That(code, Is.Not.EqualTo(0));
        Assert.That(e, Does.Contain("unknown --perceptual 'vgg'"));
        (code, _, e) = CliRunner.Run("train", "ct", "--data", ".", "--run", "x", "--perceptual", "resnet18", "--perceptual-weights", "/nonexistent/ResNet18.onnx");
        Assert.That(code, Is.Not.EqualTo(0));
        Assert.That(e, Does.Contain("/nonexistent/ResNet18.onnx: no such file"));
        (code, _, e) = CliRunner.Run("eval", "--sr", SharedData.Path_("data/Bicubicx4/gt"), "--perceptual-weights", Resnet18Files.Model, "--no-niqe");
        Assert.That(code, Is.Not.EqualTo(0));
        Assert.That(e, Does.Contain("pass --gt"));
    }

    [Test]
    public void ScorerScoresTheCentredMultipleOf32()
    {
        using var ctx = new Context(new CpuBackend());
        var loss = new PerceptualLoss(Resnet18Onnx.Load(ctx, Resnet18Files.Model));
        var scorer = new PerceptualScorer(loss);
        var rng = new Random(9);
        Image Make() { var im = new Image(70, 100, 3); for (int i = 0; i < im.Data.Length; i++) im.Data[i] = (float)rng.NextDouble(); return im; }
        var a = Make(); var b = Make();
        // by hand: the centred 64x96 region (x 3..66, y 2..97), mapped to [-1, 1]
        float[] Crop(Image im)
        {
            var v = new float[3 * 96 * 64];
            for (int c = 0; c < 3; c++) for (int y = 0; y < 96; y++) for (int x = 0; x < 64; x++)
                v[(c * 96 + y) * 64 + x] = im.Data[(c * 100 + y + 2) * 70 + x + 3] * 2 - 1;
            return v;
        }
        double want;
        using (Tape.NoGrad())
        using (Tape.Scope())
            want = loss.PerSample(Tensor.From(ctx, Crop(a), 1, 3, 96, 64), Tensor.From(ctx, Crop(b), 1, 3, 96, 64)).ToArray()[0];
        Assert.That(scorer.Score(a, b), Is.EqualTo(want));
        Assert.That(scorer.Score(a, a), Is.EqualTo(0));
    }

    [Test]
    public void EvalWritesThePerceptualColumn()
    {
        string gt = SharedData.Path_("data/Bicubicx4/gt");
        string dir = TrainingKit.TempDir("percept-eval");
        try
        {
            string csv = Path.Combine(dir, "scores.csv");
            var (code, o, e) = CliRunner.Run("eval", "--sr", gt, "--gt", gt, "--no-niqe", "--perceptual-weights", Resnet18Files.Model, "--csv", csv);
            Assert.That(code, Is.EqualTo(0), o + e);
            var lines = File.ReadAllLines(csv);
            Assert.That(lines[0], Is.EqualTo("image,psnr_y,ssim_y,perceptual_resnet18"));
            Assert.That(lines.Skip(1).Select(l => l.Split(',')[^1]), Has.All.EqualTo("0.000000"), "an image against itself");
        }
        finally { TrainingKit.Delete(dir); }
    }
}
