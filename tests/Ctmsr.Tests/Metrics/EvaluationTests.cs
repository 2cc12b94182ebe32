using Ctmsr.Autograd;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Model.Checkpoints;
using Ctmsr.Model.Lpips;
using Ctmsr.Imaging;
using Ctmsr.Metrics;

namespace Ctmsr.Tests.Metrics;

/// <summary>The `ctmsr eval` engine: pairing, the table, and LPIPS loading from files.</summary>
public class EvaluationTests
{
    [Test]
    public void TableOfBicubicUpsamplingCarriesTheFixtureScoresAndTheirMean()
    {
        using var fx = SafetensorsFile.Open(SharedData.Fixture("ops.safetensors"));
        var wantP = fx.Floats("metrics.psnr_y");
        var wantN = fx.Floats("metrics.niqe_gt");
        var names = FullReferenceMetricTests.FixtureImages().Take(2).ToArray();
        string gtDir = SharedData.Path_("data/ValSR/gt");
        var items = Evaluation.PairDirectories(gtDir, gtDir).Where(i => names.Contains(i.Name))
            .Select(i => i with { Sr = () => FullReferenceMetricTests.Pair(i.Name).sr }).ToList();
        var niqe = NiqeModel.Load(SharedData.Path_("weights/niqe_pris_params.npz"));
        var rows = items.Select(i => Evaluation.Score(i, new EvalMetrics(true, null, null))).ToList();
        for (int k = 0; k < 2; k++) Assert.That(rows[k].PsnrY!.Value, Is.EqualTo(wantP[k]).Within(1e-3 * wantP[k]));
        var csv = Evaluation.ToCsv(rows).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(csv[0], Is.EqualTo("image,psnr_y,ssim_y"));
        Assert.That(csv[^1], Does.StartWith($"mean,{(rows[0].PsnrY + rows[1].PsnrY)!.Value / 2:F4},"));
        // identical SR and GT: PSNR inf, SSIM 1, NIQE of gt as in the fixture
        var same = Evaluation.Score(Evaluation.PairDirectories(gtDir, gtDir).First(i => i.Name == names[0]), new EvalMetrics(true, null, niqe));
        Assert.That(same.PsnrY, Is.EqualTo(double.PositiveInfinity));
        Assert.That(same.SsimY, Is.EqualTo(1.0).Within(1e-12));
        Assert.That(same.Niqe!.Value, Is.EqualTo(wantN[0]).Within(1e-2 * wantN[0]));
        Assert.That(Evaluation.ToCsv([same]), Does.Contain($"{names[0]},inf,1.000000,"));
    }

    [Test]
    public void MissingGroundTruthIsAnErrorThatNamesTheImage()
    {
        var sr = Directory.CreateTempSubdirectory("ctmsr-eval-sr").FullName;
        var gt = Directory.CreateTempSubdirectory("ctmsr-eval-gt").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(sr, "a.png"), ImageCodec.EncodePng(new Image(4, 4, 3)));
            File.WriteAllBytes(Path.Combine(gt, "b.png"), ImageCodec.EncodePng(new Image(4, 4, 3)));
            var e = Assert.Throws<FileNotFoundException>(() => Evaluation.PairDirectories(sr, gt));
            Assert.That(e!.Message, Does.Contain("a.png").And.Contain("paired by file name"));
        }
        finally { Directory.Delete(sr, true); Directory.Delete(gt, true); }
    }

    [Test]
    public void LpipsScorerLoadsFilesAndScoresImages()
    {
        // backbone written as safetensors (the formula weights stand in for torchvision's AlexNet)
        string tmp = Path.Combine(Path.GetTempPath(), $"ctmsr-alex-{Environment.ProcessId}.safetensors");
        try
        {
            SafetensorsFile.Write(tmp, LpipsFormulaWeights.Build(LpipsBackbone.Alex));
            using var ctx = new Context(new CpuBackend());
            var scorer = LpipsScorer.Load(ctx, LpipsBackbone.Alex, tmp, SharedData.Path_("weights/lpips-v0.1/alex.pth"));
            var name = FullReferenceMetricTests.FixtureImages()[0];
            var (gt, sr) = FullReferenceMetricTests.Pair(name);
            Assert.That(scorer.Score(gt, gt), Is.EqualTo(0.0));
            double d = scorer.Score(sr, gt);
            Assert.That(d, Is.GreaterThan(0.0));
            Assert.That(scorer.Score(gt, sr), Is.EqualTo(d).Within(1e-6 * d), "symmetric");
        }
        finally { File.Delete(tmp); }
    }
}
