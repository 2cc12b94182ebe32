using Ctmsr.Cli.Verbs;
using Ctmsr.Train.Data;
using Ctmsr.Imaging;

namespace Ctmsr.Tests.Training;

/// <summary>`ctmsr degrade`: the pairs on disk are the training pairs, deterministic per seed, with per-file errors.</summary>
[NonParallelizable]
public class PairExportTests
{
    static Image Picture(int w, int h, int phase)
    {
        var img = new Image(w, h, 3);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    img[c, y, x] = MathF.Round((float)(0.5 + 0.45 * Math.Sin(0.21 * x * (c + 1) + 0.13 * y + phase)) * 255f) / 255f;
        return img;
    }

    static string Input(string root)
    {
        string dir = Path.Combine(root, "in");
        Directory.CreateDirectory(Path.Combine(dir, "sub"));
        File.WriteAllBytes(Path.Combine(dir, "a.png"), ImageCodec.EncodePng(Picture(300, 280, 0)));
        File.WriteAllBytes(Path.Combine(dir, "small.jpg"), ImageCodec.EncodeJpeg(Picture(70, 45, 1), 95));
        File.WriteAllBytes(Path.Combine(dir, "sub", "c.png"), ImageCodec.EncodePng(Picture(128, 128, 2)));
        return dir;
    }

    static Dictionary<string, byte[]> Files(string dir) =>
        Directory.GetFiles(dir, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(dir, f), File.ReadAllBytes);

    static int Degrade(params string[] args) => DegradeVerb.Create().Parse(args).Invoke();

    [Test]
    public void SameSeedSameBytesOtherSeedOtherPairsAndSizesOfTraining()
    {
        string root = TrainingKit.TempDir("degrade");
        try
        {
            string inDir = Input(root);
            string o1 = Path.Combine(root, "o1"), o2 = Path.Combine(root, "o2"), o3 = Path.Combine(root, "o3");
            Assert.That(Degrade(inDir, o1, "--seed", "5", "--crop", "64", "--recursive"), Is.Zero);
            Assert.That(Degrade(inDir, o2, "--seed", "5", "--crop", "64", "--recursive"), Is.Zero);
            Assert.That(Degrade(inDir, o3, "--seed", "6", "--crop", "64", "--recursive"), Is.Zero);
            var f1 = Files(o1); var f2 = Files(o2); var f3 = Files(o3);
            var names = new[] { "a.png", "small.png", Path.Combine("sub", "c.png") };
            Assert.That(f1.Keys, Is.EquivalentTo(new[] { "gt", "lq", "lq_up" }.SelectMany(d => names.Select(n => Path.Combine(d, n)))));
            Assert.That(f2.Keys, Is.EquivalentTo(f1.Keys));
            foreach (var k in f1.Keys) Assert.That(f2[k], Is.EqualTo(f1[k]), $"{k}: same seed, same bytes");
            foreach (var n in names) Assert.That(f3[Path.Combine("lq", n)], Is.Not.EqualTo(f1[Path.Combine("lq", n)]), $"{n}: another seed, another degradation");
            foreach (var n in names)
            {
                var gt = ImageCodec.Decode(Path.Combine(o1, "gt", n)); var lq = ImageCodec.Decode(Path.Combine(o1, "lq", n)); var up = ImageCodec.Decode(Path.Combine(o1, "lq_up", n));
                Assert.That((gt.Width, gt.Height, lq.Width, lq.Height, up.Width, up.Height), Is.EqualTo((64, 64, 16, 16, 64, 64)), n);
            }
            // the gt crop is a piece of the source (a.png is larger than the crop): find it
            var src = ImageCodec.Decode(Path.Combine(inDir, "a.png")); var crop = ImageCodec.Decode(Path.Combine(o1, "gt", "a.png"));
            bool found = false;
            for (int top = 0; top <= src.Height - 64 && !found; top++)
                for (int left = 0; left <= src.Width - 64 && !found; left++)
                    found = crop[0, 0, 0] == src[0, top, left] && Enumerable.Range(0, 64 * 64).All(i => crop[1, i / 64, i % 64] == src[1, top + i / 64, left + i % 64]);
            Assert.That(found, "gt is a 64x64 window of the source");
            // the pair of a file depends on its path, not on the other files: degrading sub/ alone changes nothing for c.png
            File.Delete(Path.Combine(inDir, "a.png"));
            string o5 = Path.Combine(root, "o5");
            Assert.That(Degrade(inDir, o5, "--seed", "5", "--crop", "64", "--recursive"), Is.Zero);
            Assert.That(File.ReadAllBytes(Path.Combine(o5, "lq", "sub", "c.png")), Is.EqualTo(f1[Path.Combine("lq", "sub", "c.png")]));
        }
        finally { TrainingKit.Delete(root); }
    }

    [Test]
    public void CropZeroKeepsTheWholeImageTrimmedToTheScale()
    {
        string root = TrainingKit.TempDir("degrade0");
        try
        {
            string inDir = Input(root), o = Path.Combine(root, "o");
            Assert.That(Degrade(inDir, o, "--crop", "0"), Is.Zero, "not recursive: sub/ is skipped");
            Assert.That(File.Exists(Path.Combine(o, "lq", "sub", "c.png")), Is.False);
            var gt = ImageCodec.Decode(Path.Combine(o, "gt", "small.png")); var lq = ImageCodec.Decode(Path.Combine(o, "lq", "small.png"));
            Assert.That((gt.Width, gt.Height, lq.Width, lq.Height), Is.EqualTo((68, 44, 17, 11)));
            var src = ImageCodec.Decode(Path.Combine(inDir, "small.jpg"));
            Assert.That(gt[2, 43, 67], Is.EqualTo(src[2, 43, 67]), "the top-left 68x44 of the source");
        }
        finally { TrainingKit.Delete(root); }
    }

    [Test]
    public void ABrokenFileIsReportedTheOthersAreWrittenAndTheExitCodeIs1()
    {
        string root = TrainingKit.TempDir("degradebad");
        try
        {
            string inDir = Input(root), o = Path.Combine(root, "o");
            File.WriteAllBytes(Path.Combine(inDir, "broken.png"), ImageCodec.EncodePng(Picture(40, 40, 3)).Take(60).ToArray());
            Assert.That(Degrade(inDir, o, "--crop", "32"), Is.EqualTo(1));
            Assert.That(File.Exists(Path.Combine(o, "lq", "a.png")) && File.Exists(Path.Combine(o, "lq", "small.png")));
            Assert.That(File.Exists(Path.Combine(o, "lq", "broken.png")), Is.False);
            Assert.That(Degrade(inDir, Path.Combine(root, "o2"), "--crop", "30"), Is.EqualTo(2), "crop not a multiple of 4 is a usage error");
            Assert.That(Degrade(Path.Combine(root, "nothing"), Path.Combine(root, "o3")), Is.EqualTo(2));
        }
        finally { TrainingKit.Delete(root); }
    }

    [Test]
    public void FileSeedsDependOnTheRelativePathOnly()
    {
        Assert.That(PairExport.FileSeed(1, "a/b.png"), Is.EqualTo(PairExport.FileSeed(1, "a\\b.png")));
        Assert.That(PairExport.FileSeed(1, "a/b.png"), Is.Not.EqualTo(PairExport.FileSeed(1, "a/c.png")));
        Assert.That(PairExport.FileSeed(1, "a/b.png"), Is.Not.EqualTo(PairExport.FileSeed(2, "a/b.png")));
    }
}
