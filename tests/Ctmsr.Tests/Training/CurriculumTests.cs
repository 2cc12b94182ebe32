using Ctmsr.Train.Data;
using Ctmsr.Train.Training;

namespace Ctmsr.Tests.Training;

public class CurriculumTests
{
    // N(k) = max(s0 - floor(k / K'), s1) + 1, K' = floor(K / (s0 - s1 + 1)), worked by hand
    [TestCase(0, 500_000, 4, 3, 5)]
    [TestCase(249_999, 500_000, 4, 3, 5)]
    [TestCase(250_000, 500_000, 4, 3, 4)]
    [TestCase(499_999, 500_000, 4, 3, 4)]
    [TestCase(0, 500_000, 3, 3, 4)]
    [TestCase(499_999, 500_000, 3, 3, 4)]
    [TestCase(0, 100, 6, 2, 7)]     // K' = 20
    [TestCase(19, 100, 6, 2, 7)]
    [TestCase(20, 100, 6, 2, 6)]
    [TestCase(79, 100, 6, 2, 4)]
    [TestCase(80, 100, 6, 2, 3)]
    [TestCase(99, 100, 6, 2, 3)]
    [TestCase(1, 1, 4, 3, 4)]       // K < s0 - s1 + 1: K' is clamped to 1
    public void StepsMatchClosedForm(long k, long total, int s0, int s1, int expected) =>
        Assert.That(Curriculum.Steps(k, total, s0, s1), Is.EqualTo(expected));

    [TestCase(4, 1, 2)]   // the released setting: m is always 1
    [TestCase(5, 1, 2)]
    [TestCase(10, 1, 5)]
    [TestCase(20, 2, 10)]
    [TestCase(2, 1, 2)]   // empty range collapses to step_min
    public void DtmRange(int n, int lo, int hi) => Assert.That(Curriculum.DtmRange(n), Is.EqualTo((lo, hi)));

    [Test]
    public void SigmaIsLinear()
    {
        Assert.That(Curriculum.Sigma(0, 4), Is.EqualTo(0f));
        Assert.That(Curriculum.Sigma(1, 4), Is.EqualTo(1f / 3).Within(1e-7));
        Assert.That(Curriculum.Sigma(3, 4), Is.EqualTo(1f));
    }

    [Test]
    public void MultiStepLrHalvesAtMilestones()
    {
        Assert.That(MultiStepLr.At(49_999, 5e-5f, [50_000], 0.5f), Is.EqualTo(5e-5f));
        Assert.That(MultiStepLr.At(50_000, 5e-5f, [50_000], 0.5f), Is.EqualTo(2.5e-5f));
        Assert.That(MultiStepLr.At(7, 1f, [2, 5], 0.1f), Is.EqualTo(0.01f).Within(1e-7));
    }

    [Test]
    public void Reflect101()
    {
        // cv2.BORDER_REFLECT_101 of a b c d: ... c b | a b c d | c b a b c d ...
        int[] expect = [0, 1, 2, 3, 2, 1, 0, 1, 2, 3, 2];
        for (int p = 0; p < expect.Length; p++) Assert.That(CropSampler.Reflect101(p, 4), Is.EqualTo(expect[p]), $"p = {p}");
        Assert.That(CropSampler.Reflect101(-1, 4), Is.EqualTo(1));
        Assert.That(CropSampler.Reflect101(5, 1), Is.EqualTo(0));
    }

    [Test]
    public void CropPadsSmallImagesWithReflect101()
    {
        // a 3x2 (h x w) image, values 10*y + x + 100*c, cropped 5x5 at (0, 0)
        int h = 3, w = 2;
        var src = new float[3 * h * w];
        for (int c = 0; c < 3; c++) for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) src[(c * h + y) * w + x] = 100 * c + 10 * y + x;
        var crop = CropSampler.Crop(src, h, w, 0, 0, 5);
        int[] ry = [0, 1, 2, 1, 0], rx = [0, 1, 0, 1, 0];
        for (int c = 0; c < 3; c++) for (int y = 0; y < 5; y++) for (int x = 0; x < 5; x++)
            Assert.That(crop[(c * 5 + y) * 5 + x], Is.EqualTo(100 * c + 10 * ry[y] + rx[x]));
        // an image smaller than the crop can only be cropped at (0, 0)
        for (ulong s = 0; s < 20; s++) Assert.That(CropSampler.Corner(3, 2, 5, s), Is.EqualTo((0, 0)));
        // otherwise the corner stays inside
        for (ulong s = 0; s < 50; s++)
        {
            var (t, l) = CropSampler.Corner(300, 70, 64, s);
            Assert.That(t, Is.InRange(0, 236)); Assert.That(l, Is.InRange(0, 6));
        }
    }
}
