using Ctmsr.Imaging;
using Ctmsr.Metrics;
using Ctmsr.Train.Training;

namespace Ctmsr.Tests.Training;

/// <summary>The alignment rewards: PSNR-Y in closed form (unrounded, clamped), NIQE as minus BasicSR's NIQE of the
/// clamped [0, 1] image, and the missing-weights errors.</summary>
public class AlignRewardTests
{
    [Test]
    public void PsnrRewardIsTheClosedFormPerSample()
    {
        // sample 0: gt = -1 (black), sr = 0.5 in [0,1] -> Y differs by 219 * 0.5 everywhere; sample 1: sr = gt -> 100 (capped)
        int h = 4, w = 4, n = 3 * h * w;
        var gt = Enumerable.Repeat(-1f, 2 * n).ToArray();
        var sr = new float[2 * n];
        for (int i = 0; i < n; i++) { sr[i] = 0f; sr[n + i] = -1f; }
        var r = new AlignReward(AlignRewardKind.Psnr).Score(sr, gt, 2, h, w);
        double d = 219.0 * 0.5;
        Assert.That(r[0], Is.EqualTo(10 * Math.Log10(255.0 * 255 / (d * d))).Within(1e-9));
        Assert.That(r[1], Is.EqualTo(100));
        // values beyond [-1, 1] are clamped as the output is
        var over = sr.Select(v => v == 0f ? 0f : -3f).ToArray();
        Assert.That(new AlignReward(AlignRewardKind.Psnr).Score(over, gt, 2, h, w), Is.EqualTo(r));
    }

    [Test]
    public void NiqeRewardIsMinusNiqeAndMissingWeightsAreNamed()
    {
        var model = NiqeModel.Load(SharedData.Path_("weights/niqe_pris_params.npz"));
        int h = 192, w = 192, n = 3 * h * w;
        var rnd = new Random(3);
        var x = Enumerable.Range(0, n).Select(i => (float)(0.8 * Math.Sin(0.05 * (i % w) + 0.07 * (i / w % h)) + 0.1 * (rnd.NextDouble() - 0.5))).ToArray();
        var img = new Image(w, h, 3, 8, x.Select(v => Math.Clamp((v + 1) / 2f, 0f, 1f)).ToArray());
        var r = new AlignReward(AlignRewardKind.Niqe, model).Score(x, x, 1, h, w);
        Assert.That(r[0], Is.EqualTo(-Niqe.Of(img, model)).Within(1e-4));
        Assert.That(Assert.Throws<ArgumentException>(() => new AlignReward(AlignRewardKind.Niqe))!.Message, Does.Contain("--niqe-params"));
        Assert.That(Assert.Throws<ArgumentException>(() => new AlignReward(AlignRewardKind.LpipsAlex))!.Message, Does.Contain("--lpips-alex"));
    }
}
