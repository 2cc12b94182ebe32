using Ctmsr.Cli.Verbs;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Imaging;
using Ctmsr.Inference;
using Ctmsr.Metrics;
using Ctmsr.Imaging.Resampling;

namespace Ctmsr.Tests.Metrics;

/// <summary>`ctmsr eval --model W --lq DIR --gt DIR`: upscale and score in one go, with the bicubic baseline beside.</summary>
[NonParallelizable]
public class EvalLqTests
{
    static readonly string[] Names = ["ILSVRC2012_val_00000067.png", "ILSVRC2012_val_00000073.png", "ILSVRC2012_val_00000079.png"];

    /// <summary>A folder pair holding three ValSR images (the full set takes too long for a test).</summary>
    static (string root, string lq, string gt) ThreeImages()
    {
        string src = SharedData.Path_("data/ValSR");
        string root = Directory.CreateTempSubdirectory("ctmsr-evallq-").FullName;
        foreach (var d in new[] { "lq", "gt" })
        {
            Directory.CreateDirectory(Path.Combine(root, d));
            foreach (var n in Names) File.Copy(Path.Combine(src, d, n), Path.Combine(root, d, n));
        }
        return (root, Path.Combine(root, "lq"), Path.Combine(root, "gt"));
    }

    [Test]
    public void ModelAndBicubicAreScoredAgainstTheGroundTruth()
    {
        var (root, lqDir, gtDir) = ThreeImages();
        try
        {
            var weights = SharedData.Fixture("ctmsr_small.safetensors");
            using var up = Upscaler.Load(weights, new CpuBackend(), new UpscaleOptions { Seed = 2 });
            var items = Evaluation.PairLq(lqDir, gtDir, up.Upscale, 4);
            Assert.That(items.Select(i => i.Name), Is.EqualTo(Names));
            var rows = items.Select(i => Evaluation.Score(i, new EvalMetrics(true, null, null))).ToList();
            for (int k = 0; k < Names.Length; k++)
            {
                var lq = ImageCodec.Decode(Path.Combine(lqDir, Names[k]));
                var gt = ImageCodec.Decode(Path.Combine(gtDir, Names[k]));
                // the baseline, computed here straight from the resampler: PyTorch bicubic x4, clamped
                var bic = Resize.Apply(lq.Data, 3, lq.Height, lq.Width, 4 * lq.Height, 4 * lq.Width, ResizeMode.Bicubic).Select(v => Math.Clamp(v, 0f, 1f)).ToArray();
                var bicImg = new Image(gt.Width, gt.Height, 3, 8, bic);
                Assert.That(rows[k].Bicubic!.PsnrY, Is.EqualTo(Psnr.Y(bicImg, gt)), Names[k]);
                Assert.That(rows[k].Bicubic!.SsimY, Is.EqualTo(Ssim.Y(bicImg, gt)), Names[k]);
                Assert.That(rows[k].Bicubic!.PsnrY, Is.InRange(15.0, 40.0), "bicubic of a real degradation is a plausible PSNR");
                // the model's scores are those of its output for this LQ image (same seed, same noise)
                var sr = up.Upscale(lq);
                Assert.That(rows[k].PsnrY, Is.EqualTo(Psnr.Y(sr, gt)), Names[k]);
                Assert.That(rows[k].PsnrY, Is.Not.EqualTo(rows[k].Bicubic!.PsnrY));
            }
            var csv = Evaluation.ToCsv(rows).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.That(csv[0], Is.EqualTo("image,psnr_y,ssim_y,bicubic_psnr_y,bicubic_ssim_y"));
            Assert.That(csv, Has.Length.EqualTo(Names.Length + 2));
            double meanBic = rows.Average(r => r.Bicubic!.PsnrY!.Value);
            Assert.That(csv[^1].Split(',')[3], Is.EqualTo(meanBic.ToString("F4", System.Globalization.CultureInfo.InvariantCulture)));
        }
        finally { Directory.Delete(root, true); }
    }

    [Test]
    public void TheVerbWritesTheTableAndRejectsMixedModes()
    {
        var (root, lqDir, gtDir) = ThreeImages();
        try
        {
            var weights = SharedData.Fixture("ctmsr_small.safetensors");
            string csv = Path.Combine(root, "scores.csv");
            int rc = EvalVerb.Create().Parse(["--model", weights, "--lq", lqDir, "--gt", gtDir, "--no-niqe", "--csv", csv]).Invoke();
            Assert.That(rc, Is.Zero);
            var lines = File.ReadAllLines(csv);
            Assert.That(lines[0], Is.EqualTo("image,psnr_y,ssim_y,bicubic_psnr_y,bicubic_ssim_y"));
            Assert.That(lines.Skip(1).Select(l => l.Split(',')[0]), Is.EqualTo(Names.Append("mean")));
            // the --sr mode still works, on the same folders (lq scored as if it were SR against itself)
            string csv2 = Path.Combine(root, "sr.csv");
            Assert.That(EvalVerb.Create().Parse(["--sr", gtDir, "--gt", gtDir, "--no-niqe", "--csv", csv2]).Invoke(), Is.Zero);
            Assert.That(File.ReadAllLines(csv2)[0], Is.EqualTo("image,psnr_y,ssim_y"));
            Assert.That(File.ReadAllLines(csv2)[1], Does.Contain(",inf,"));
            // usage errors: exit 2
            Assert.That(EvalVerb.Create().Parse(["--sr", gtDir, "--model", weights, "--lq", lqDir, "--no-niqe"]).Invoke(), Is.EqualTo(2));
            Assert.That(EvalVerb.Create().Parse(["--lq", lqDir, "--gt", gtDir, "--no-niqe"]).Invoke(), Is.EqualTo(2));
            Assert.That(EvalVerb.Create().Parse(["--gt", gtDir, "--no-niqe"]).Invoke(), Is.EqualTo(2));
            Assert.That(EvalVerb.Create().Parse(["--sr", gtDir, "--gt", gtDir, "--seed", "3", "--no-niqe"]).Invoke(), Is.EqualTo(2), "--seed means nothing with --sr");
        }
        finally { Directory.Delete(root, true); }
    }
}
