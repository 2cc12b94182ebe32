using System.Text.Json;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Imaging;
using Ctmsr.Inference;
using static Ctmsr.Tests.Inference.InferenceKit;

namespace Ctmsr.Tests.Inference;

/// <summary>The file API, batches and the `ctmsr upscale` verb (run in-process through the CLI's entry point).</summary>
[NonParallelizable]
public class UpscaleFilesTests
{
    string _dir = "";

    [SetUp] public void SetUp() => _dir = TempDir();
    [TearDown] public void TearDown() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    string P(string rel) => Path.Combine(_dir, rel);

    void WritePng(string rel, Image img, int depth = 8)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(P(rel))!);
        File.WriteAllBytes(P(rel), ImageCodec.EncodePng(img, depth));
    }

    /// <summary>An APP1 Exif segment (little-endian TIFF, IFD0 holding only the orientation tag) after SOI.</summary>
    static byte[] WithExifOrientation(byte[] jpeg, int orientation)
    {
        byte[] tiff =
        [
            (byte)'I', (byte)'I', 42, 0, 8, 0, 0, 0,             // header; IFD0 at offset 8
            1, 0,                                                 // one entry
            0x12, 0x01, 3, 0, 1, 0, 0, 0, (byte)orientation, 0, 0, 0, // 0x0112, SHORT, count 1, value
            0, 0, 0, 0,                                           // no next IFD
        ];
        byte[] seg = [0xFF, 0xE1, 0, 0, .. "Exif\0\0"u8, .. tiff];
        seg[2] = (byte)((seg.Length - 2) >> 8);
        seg[3] = (byte)(seg.Length - 2);
        return [.. jpeg.AsSpan(0, 2), .. seg, .. jpeg.AsSpan(2)];
    }

    [Test]
    public async Task SixteenBitGreyStaysSixteenBitGreyAndExifOrientationIsApplied()
    {
        using var up = new Upscaler(new CpuBackend(), State, new UpscaleOptions { Seed = 1 });
        WritePng("g16.png", Card(20, 12, 1, 16), 16);
        var r = await up.UpscaleFileAsync(P("g16.png"), P("out/g16.png"));
        var o = ImageCodec.Decode(r.Output!);
        Assert.That((r.Status, o.Channels, o.BitDepth, o.Width, o.Height), Is.EqualTo(("done", 1, 16, 80, 48)));
        await up.UpscaleFileAsync(P("g16.png"), P("out/g8.png"), new SaveOptions { BitDepth = 8 });
        Assert.That(ImageCodec.Decode(P("out/g8.png")).BitDepth, Is.EqualTo(8));

        // stored 24x16, orientation 6 (rotate 90 clockwise): displayed 16x24, so the output is 64x96
        File.WriteAllBytes(P("rot.jpg"), WithExifOrientation(ImageCodec.EncodeJpeg(Card(24, 16, 3), 95), 6));
        r = up.UpscaleFile(P("rot.jpg"), P("out/rot.png"));
        Assert.That((r.OutWidth, r.OutHeight), Is.EqualTo((64, 96)));
        var rot = ImageCodec.Decode(P("out/rot.png"));
        Assert.That((rot.Width, rot.Height), Is.EqualTo((64, 96)));
    }

    [Test]
    public void JpegForAnImageWithAlphaIsWrittenWhereAskedWithoutAlphaAndANotice()
    {
        var rgba = Card(16, 16, 4);
        for (int i = 0; i < 256; i++) rgba.AlphaPlane[i] = i % 16 < 8 ? 1f : 0.25f;
        WritePng("a.png", rgba);
        using var up = new Upscaler(new CpuBackend(), State, new UpscaleOptions { Alpha = AlphaMode.Bicubic });
        // An unrelated a.png beside the requested a.jpg is never touched (it used to be replaced by the PNG fallback).
        Directory.CreateDirectory(P("out"));
        File.WriteAllText(P("out/a.png"), "unrelated");
        var r = up.UpscaleFile(P("a.png"), P("out/a.jpg"), new SaveOptions { Quality = 80, Overwrite = true });
        Assert.That(r.Output, Is.EqualTo(P("out/a.jpg")));
        Assert.That(r.Notice, Does.Contain("alpha").And.Contain("without"));
        Assert.That(File.ReadAllText(P("out/a.png")), Is.EqualTo("unrelated"));
        Assert.That(ImageCodec.Decode(P("out/a.jpg")).Channels, Is.EqualTo(3));

        using var discard = new Upscaler(new CpuBackend(), State, new UpscaleOptions { Alpha = AlphaMode.Discard });
        r = discard.UpscaleFile(P("a.png"), P("out/b.jpg"), new SaveOptions { Quality = 80 });
        Assert.That((r.Output, r.Notice), Is.EqualTo((P("out/b.jpg"), (string?)null)));
        Assert.That(ImageCodec.Detect(File.ReadAllBytes(P("out/b.jpg"))), Is.EqualTo(ImageCodec.Format.Jpeg));
    }

    [Test]
    public void JpegOutputUsesTheQualityAsked()
    {
        WritePng("c.png", Card(16, 16, 3));
        using var up = new Upscaler(new CpuBackend(), State, new UpscaleOptions { Seed = 2 });
        up.UpscaleFile(P("c.png"), P("c60.jpg"), new SaveOptions { Format = OutputFormat.Jpeg, Quality = 60 });
        var sr = up.Upscale(ImageCodec.Decode(P("c.png")));
        Assert.That(File.ReadAllBytes(P("c60.jpg")), Is.EqualTo(ImageCodec.EncodeJpeg(sr, 60)));
        Assert.That(ImageCodec.EncodeJpeg(sr, 60), Is.Not.EqualTo(ImageCodec.EncodeJpeg(sr, 95)));
        Assert.Throws<ArgumentException>(() => up.UpscaleFile(P("c.png"), P("c.jpg"), new SaveOptions { BitDepth = 16 }));
        Assert.Throws<ArgumentException>(() => up.UpscaleFile(P("c.png"), P("c.png.out"), new SaveOptions()));
        Assert.Throws<ArgumentException>(() => up.UpscaleFile(P("c.png"), P("c.png"), new SaveOptions { Format = OutputFormat.Jpeg }));
    }

    [Test]
    public void ExistingOutputsAreSkippedAndCancellationWritesNothing()
    {
        WritePng("c.png", Card(16, 16, 3));
        File.WriteAllText(P("out.png"), "keep me");
        using var up = new Upscaler(new CpuBackend(), State);
        var r = up.UpscaleFile(P("c.png"), P("out.png"), new SaveOptions { Overwrite = false });
        Assert.That(r.Status, Is.EqualTo("skipped"));
        Assert.That(File.ReadAllText(P("out.png")), Is.EqualTo("keep me"));

        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAsync<TaskCanceledException>(() => up.UpscaleFileAsync(P("c.png"), P("never.png"), null, null, cts.Token));
        Assert.That(up.Upscale(Card(8, 8, 3), null, default).Width, Is.EqualTo(32), "a cancelled call leaves the upscaler usable");
        Assert.Throws<OperationCanceledException>(() => up.Upscale(Card(8, 8, 3), null, cts.Token));
        Assert.That(File.Exists(P("never.png")), Is.False);
    }

    void MakeTree()
    {
        WritePng("in/top.png", Card(12, 12, 3));
        File.WriteAllBytes(P("in/top.jpg"), ImageCodec.EncodeJpeg(Card(12, 12, 3), 90));
        WritePng("in/sub/deep/leaf.png", Card(10, 14, 1));
        File.WriteAllText(P("in/notes.txt"), "not an image");
        File.WriteAllText(P("in/sub/broken.png"), "\u0089PNG this is no PNG");
        WritePng("in/.hidden.png", Card(8, 8, 3));
    }

    [Test]
    public void PlansMirrorTheTreeAndIgnoreNonImages()
    {
        MakeTree();
        var flat = UpscaleBatch.Plan(P("in"), P("out"), recursive: false, OutputFormat.Auto);
        Assert.That(flat.Select(j => Path.GetRelativePath(_dir, j.Input)), Is.EqualTo(new[] { "in/top.jpg", "in/top.png" }));
        Assert.That(flat.Select(j => Path.GetRelativePath(_dir, j.Output)), Is.EqualTo(new[] { "out/top-jpg.png", "out/top-png.png" }), "no two inputs share an output; both colliding names say where they came from");

        var deep = UpscaleBatch.Plan(P("in"), P("out"), recursive: true, OutputFormat.Jpeg);
        Assert.That(deep.Select(j => Path.GetRelativePath(_dir, j.Output)),
            Is.EqualTo(new[] { "out/sub/broken.jpg", "out/sub/deep/leaf.jpg", "out/top-jpg.jpg", "out/top-png.jpg" }));

        // an output folder inside the input folder is not read back as input
        WritePng("in/up/old.png", Card(8, 8, 3));
        Assert.That(UpscaleBatch.Plan(P("in"), P("in/up"), true, OutputFormat.Auto).Select(j => j.Input), Has.None.Contains("old.png"));

        Directory.CreateDirectory(P("docs/more"));
        File.WriteAllText(P("docs/a.txt"), "text");
        WritePng("docs/more/b.png", Card(8, 8, 3));
        Assert.Throws<ArgumentException>(() => UpscaleBatch.Plan(P("docs"), P("o"), false, OutputFormat.Auto), "no images at the top of docs/");
        Assert.That(UpscaleBatch.Plan(P("docs"), P("o"), true, OutputFormat.Auto), Has.Count.EqualTo(1));
        Assert.Throws<FileNotFoundException>(() => UpscaleBatch.Plan(P("missing"), P("o"), false, OutputFormat.Auto));
        Assert.That(UpscaleBatch.Plan(P("in/top.png"), P("dir") + "/", false, OutputFormat.Auto)[0].Output, Is.EqualTo(Path.Combine(P("dir") + "/", "top.png")));
    }

    [Test]
    public async Task ABatchReportsEachFailureGoesOnAndSkipsWhatExists()
    {
        MakeTree();
        using var up = new Upscaler(new CpuBackend(), State);
        var jobs = UpscaleBatch.Plan(P("in"), P("out"), true, OutputFormat.Auto);
        var events = new List<BatchEvent>();
        var s = await UpscaleBatch.RunAsync(up, jobs, new SaveOptions { Overwrite = false }, new SyncProgress<BatchEvent>(events.Add));
        Assert.That((s.Done, s.Skipped, s.Failed, s.ExitCode), Is.EqualTo((3, 0, 1, 1)));
        var failed = s.Items.Single(i => i.Status == "failed");
        Assert.That(failed.Input, Does.EndWith("broken.png"));
        Assert.That(failed.Error, Is.Not.Empty);
        Assert.That(File.Exists(P("out/sub/deep/leaf.png")) && File.Exists(P("out/top-png.png")) && File.Exists(P("out/top-jpg.png")));
        Assert.That(ImageCodec.Decode(P("out/sub/deep/leaf.png")).Channels, Is.EqualTo(1));
        Assert.That(Directory.EnumerateFiles(P("out"), "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".png", StringComparison.Ordinal)), Is.Empty, "no temporaries left");
        Assert.That(events.Count(e => e.Kind == "start"), Is.EqualTo(4));
        Assert.That(events.Count(e => e.Kind == "tile"), Is.EqualTo(3));
        Assert.That(s.Items.Where(i => i.Status == "done").All(i => i.Ms > 0));

        s = await UpscaleBatch.RunAsync(up, jobs, new SaveOptions { Overwrite = false });
        Assert.That((s.Done, s.Skipped, s.Failed), Is.EqualTo((0, 3, 1)));
        s = await UpscaleBatch.RunAsync(up, jobs, new SaveOptions { Overwrite = true });
        Assert.That((s.Done, s.Skipped, s.Failed), Is.EqualTo((3, 0, 1)));
    }

    static (int code, string stdout, string stderr) Cli(params string[] args) => CliRunner.Run(args);

    [Test]
    public void TheVerbExitsZeroOneOrTwoAndStreamsJsonLines()
    {
        MakeTree();
        string w = WeightsPath;
        var (code, stdout, stderr) = Cli("upscale", P("in"), "-o", P("out"), "--weights", w, "--recursive", "--json", "--blend", "cosine");
        Assert.That(code, Is.EqualTo(1), stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var docs = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.That(docs.Select(d => d.GetProperty("event").GetString()), Does.Contain("start").And.Contain("done").And.Contain("failed").And.Contain("tile"));
        var summary = docs[^1];
        Assert.That(summary.GetProperty("event").GetString(), Is.EqualTo("summary"));
        Assert.That((summary.GetProperty("done").GetInt32(), summary.GetProperty("failed").GetInt32()), Is.EqualTo((3, 1)));
        var images = summary.GetProperty("images").EnumerateArray().ToList();
        Assert.That(images, Has.Count.EqualTo(4));
        Assert.That(images.Where(i => i.GetProperty("status").GetString() == "done").All(i => i.GetProperty("ms").GetDouble() > 0));

        // again: everything that exists is skipped, the broken file still fails
        (code, stdout, _) = Cli("upscale", P("in"), "-o", P("out"), "--weights", w, "--recursive", "--json");
        Assert.That(code, Is.EqualTo(1));
        var again = JsonDocument.Parse(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]).RootElement;
        Assert.That(again.GetProperty("skipped").GetInt32(), Is.EqualTo(3));

        // a single good file: 0, human output
        (code, _, stderr) = Cli("upscale", P("in/top.png"), "-o", P("one.jpg"), "--weights", w, "--quality", "70", "--steps", "2");
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(ImageCodec.Detect(File.ReadAllBytes(P("one.jpg"))), Is.EqualTo(ImageCodec.Format.Jpeg));

        // usage errors: 2 and one line that names the fix
        foreach (var args in new[]
        {
            new[] { "upscale", P("in"), "-o", P("o2"), "--weights", w, "--blend", "median" },
            new[] { "upscale", P("in"), "-o", P("o2"), "--weights", w, "--tile", "100" },
            new[] { "upscale", P("in"), "--weights", w },
            new[] { "upscale", P("in"), "-o", P("o2"), "--weights", w, "--frobnicate" },
            new[] { "upscale", P("in/top.png"), "-o", P("x.jpg"), "--weights", w, "--bit-depth", "16" },
            new[] { "upscale", P("in/top.png"), "-o", P("x.png"), "--weights", P("nope.safetensors") },
            new[] { "upscale", P("in"), "-o", P("o2"), "--weights", w, "--overwrite", "--skip-existing" },
        })
        {
            (code, stdout, stderr) = Cli(args);
            Assert.That(code, Is.EqualTo(2), string.Join(" ", args) + "\n" + stderr);
            var errLines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.That(errLines, Has.Length.EqualTo(1), stderr);
            Assert.That(errLines[0], Does.StartWith("ctmsr: error: "));
        }
        Assert.That(Directory.Exists(P("o2")), Is.False, "usage errors write nothing");
    }
}
