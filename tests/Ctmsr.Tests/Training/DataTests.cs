using Ctmsr.Train.Data;
using Ctmsr.Imaging;

namespace Ctmsr.Tests.Training;

public class DataTests
{
    static string ValGt => SharedData.Path_("data/ValSR/gt");

    [Test]
    public void SamplesAreDeterministicAndInRange()
    {
        var a = new FolderDataset(ValGt, crop: 64, seed: 3);
        var b = new FolderDataset(ValGt, crop: 64, seed: 3);
        var c = new FolderDataset(ValGt, crop: 64, seed: 4);
        var s1 = a.Get(5); var s2 = b.Get(5); var s3 = c.Get(5);
        Assert.That(s1.Gt, Is.EqualTo(s2.Gt));
        Assert.That(s1.Lq, Is.EqualTo(s2.Lq));
        Assert.That(s1.LqUp, Is.EqualTo(s2.LqUp));
        Assert.That(s1.Gt, Is.Not.EqualTo(s3.Gt), "another seed gives another crop");
        Assert.That((s1.Height, s1.Width, s1.LqHeight, s1.LqWidth), Is.EqualTo((64, 64, 16, 16)));
        Assert.That(s1.Gt.Length, Is.EqualTo(3 * 64 * 64));
        Assert.That(s1.Lq.Length, Is.EqualTo(3 * 16 * 16));
        foreach (var v in s1.Gt.Concat(s1.Lq).Concat(s1.LqUp)) Assert.That(v, Is.InRange(-1f, 1f));
        // the gt crop is a window of the decoded HR image mapped to [-1, 1]
        var img = ImageCodec.Decode(s1.Source).ToRgb();
        bool found = false;
        for (int t = 0; t + 64 <= img.Height && !found; t++)
            for (int l = 0; l + 64 <= img.Width && !found; l++)
                found = Enumerable.Range(0, 64).All(x => s1.Gt[x] == 2 * img[0, t, l + x] - 1) &&
                        CropSampler.Crop(img.Data, img.Height, img.Width, t, l, 64).Select(u => 2 * u - 1).SequenceEqual(s1.Gt);
        Assert.That(found, "gt is a crop of its source image");
    }

    [Test]
    public void EpochVisitsEveryFileOnce()
    {
        var d = new FolderDataset(ValGt, crop: 64, seed: 1);
        var p0 = d.Permutation(0); var p1 = d.Permutation(1);
        Assert.That(p0.OrderBy(i => i), Is.EqualTo(Enumerable.Range(0, d.Files.Count)));
        Assert.That(p1.OrderBy(i => i), Is.EqualTo(Enumerable.Range(0, d.Files.Count)));
        Assert.That(p0, Is.Not.EqualTo(p1));
    }

    [Test]
    public void LoaderIsIndependentOfThreadsAndStart()
    {
        var d = new FolderDataset(ValGt, crop: 64, seed: 9);
        List<TrainBatch> Take(int workers, int inFlight, long start, int n)
        {
            using var l = new BatchLoader(d, 2, start, workers, inFlight);
            return Enumerable.Range(0, n).Select(_ => l.Next()).ToList();
        }
        var one = Take(1, 1, 0, 4);
        var many = Take(3, 3, 0, 4);
        var late = Take(2, 2, 2, 2);
        for (int i = 0; i < 4; i++)
        {
            Assert.That(many[i].Step, Is.EqualTo(i));
            Assert.That(many[i].Gt, Is.EqualTo(one[i].Gt), $"batch {i}");
            Assert.That(many[i].Lq, Is.EqualTo(one[i].Lq), $"batch {i}");
        }
        Assert.That(late[0].Gt, Is.EqualTo(one[2].Gt));
        Assert.That(late[1].LqUp, Is.EqualTo(one[3].LqUp));
        // batch s is samples 2s, 2s+1
        var s5 = d.Get(5);
        Assert.That(one[2].Gt.AsSpan(3 * 64 * 64).ToArray(), Is.EqualTo(s5.Gt));
    }

    [Test]
    public void MissingEmptyAndUnreadableFoldersAreClearErrors()
    {
        var dir = TrainingKit.TempDir("data");
        try
        {
            var missing = Path.Combine(dir, "nope");
            var e1 = Assert.Throws<DirectoryNotFoundException>(() => new FolderDataset(missing, 64));
            Assert.That(e1!.Message, Does.Contain("no such folder"));
            var empty = Directory.CreateDirectory(Path.Combine(dir, "empty")).FullName;
            File.WriteAllText(Path.Combine(empty, "notes.txt"), "x");
            var e2 = Assert.Throws<InvalidDataException>(() => new FolderDataset(empty, 64));
            Assert.That(e2!.Message, Does.Contain("holds no .png/.jpg/.jpeg images"));
            var junk = Directory.CreateDirectory(Path.Combine(dir, "junk")).FullName;
            File.WriteAllBytes(Path.Combine(junk, "a.png"), [1, 2, 3, 4]);
            File.WriteAllBytes(Path.Combine(junk, "b.JPG"), []);
            var e3 = Assert.Throws<InvalidDataException>(() => new FolderDataset(junk, 64));
            Assert.That(e3!.Message, Does.Contain("none of the 2 image files"));
            var e4 = Assert.Throws<ArgumentException>(() => new FolderDataset(ValGt, 66));
            Assert.That(e4!.Message, Does.Contain("multiple of the scale"));
        }
        finally { TrainingKit.Delete(dir); }
    }

    [Test]
    public void BadFilesAreSkippedCountedAndSummarised()
    {
        var dir = TrainingKit.TempDir("mixed");
        try
        {
            var sub = Directory.CreateDirectory(Path.Combine(dir, "sub")).FullName;
            var files = Directory.GetFiles(ValGt).OrderBy(f => f, StringComparer.Ordinal).Take(2).ToList();
            File.Copy(files[0], Path.Combine(dir, "good1.png"));
            File.Copy(files[1], Path.Combine(sub, "good2.PNG"));
            File.WriteAllBytes(Path.Combine(dir, "bad1.png"), [0x89, 0x50, 0x4E, 0x47, 1, 2]);
            File.WriteAllText(Path.Combine(sub, "bad2.jpeg"), "not a jpeg");
            var d = new FolderDataset(dir, 64, seed: 2);
            Assert.That(d.Files, Has.Count.EqualTo(4), "recursive, case-insensitive extensions");
            var reported = new List<string>();
            d.OnBadFile = (p, _) => reported.Add(p);
            for (int i = 0; i < 12; i++)
                Assert.That(Path.GetFileName(d.Get(i).Source), Does.StartWith("good"));
            Assert.That(d.BadFiles, Has.Count.EqualTo(2));
            Assert.That(d.BadFileSummary(), Does.Contain("2 of 4 image files"));
            // the skip is deterministic: a fresh dataset yields the same samples
            var d2 = new FolderDataset(dir, 64, seed: 2);
            Assert.That(d2.Get(7).Gt, Is.EqualTo(d.Get(7).Gt));
        }
        finally { TrainingKit.Delete(dir); }
    }

    [Test]
    public void PairedDatasetMatchesByName()
    {
        var p = new PairedDataset(ValGt, SharedData.Path_("data/ValSR/lq"));
        Assert.That(p.Count, Is.EqualTo(Directory.GetFiles(ValGt).Length));
        var s = p.Get(0);
        Assert.That(Path.GetFileName(s.Source), Is.EqualTo(Path.GetFileName(p.Pairs[0].lq)));
        Assert.That((s.Height, s.LqHeight), Is.EqualTo((256, 64)));
        Assert.That(s.LqUp.Length, Is.EqualTo(s.Gt.Length));
        var e = Assert.Throws<InvalidDataException>(() => new PairedDataset(ValGt, SharedData.Path_("fixtures")));
        Assert.That(e!.Message, Does.Contain("namesake").Or.Contain("no .png"));
    }
}
