using Ctmsr.Cli.Verbs;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Cli.Demo;
using Ctmsr.Imaging;
using Ctmsr.Inference;
using Ctmsr.Metrics;
using Ctmsr.Imaging.Resampling;

namespace Ctmsr.Tests.Demo;

public class TestCardTests
{
    /// <summary>Mean squared difference, over a region, between the image and its 4 x 4 block average:
    /// the energy a x4 LR image cannot hold.</summary>
    static double HighFrequency(Image img, (int X, int Y, int W, int H) r)
    {
        double s = 0; int n = 0;
        for (int c = 0; c < 3; c++)
            for (int by = r.Y; by < r.Y + r.H; by += 4)
                for (int bx = r.X; bx < r.X + r.W; bx += 4)
                {
                    double m = 0;
                    for (int y = 0; y < 4; y++) for (int x = 0; x < 4; x++) m += img[c, by + y, bx + x];
                    m /= 16;
                    for (int y = 0; y < 4; y++) for (int x = 0; x < 4; x++) { double d = img[c, by + y, bx + x] - m; s += d * d; n++; }
                }
        return s / n;
    }

    [Test]
    public void TheCardIsDeterministicAndOnThe8BitGrid()
    {
        var a = TestCard.Render(); var b = TestCard.Render();
        Assert.That((a.Width, a.Height, a.Channels), Is.EqualTo((TestCard.Width, TestCard.Height, 3)));
        Assert.That(a.Width % 4 == 0 && a.Height % 4 == 0, "HR size must be a multiple of the scale");
        Assert.That(b.Data, Is.EqualTo(a.Data));
        Assert.That(a.Data.All(v => v is >= 0f and <= 1f && Math.Abs(v * 255f - MathF.Round(v * 255f)) < 1e-3f));
        // the PNG round trip is lossless, so the HR panel and the metrics see the same pixels
        Assert.That(ImageCodec.Decode(ImageCodec.EncodePng(a), "card.png").Data, Is.EqualTo(a.Data));
    }

    [Test]
    public void TheCardHoldsDetailBeyondX4AndSmoothColourAndText()
    {
        var card = TestCard.Render();
        // the regions tile the card exactly
        Assert.That(TestCard.Regions.Values.Sum(r => r.W * r.H), Is.EqualTo(card.Width * card.Height));
        var hf = TestCard.Regions.ToDictionary(kv => kv.Key, kv => HighFrequency(card, kv.Value));
        foreach (var k in new[] { "zone plate", "siemens star", "checkerboards", "sweeps", "text", "edge and hairlines" })
            Assert.That(hf[k], Is.GreaterThan(0.004), $"{k}: too little detail below the x4 scale ({hf[k]:E2})");
        Assert.That(hf["noise"], Is.GreaterThan(2e-4), "noise texture has a fine grain");
        Assert.That(hf["hsv gradient"], Is.LessThan(1e-3), "the gradient is smooth, which makes the measure meaningful");

        // the gradient holds saturated reds, greens and blues
        var (gx, gy, gw, gh) = TestCard.Regions["hsv gradient"];
        bool Dominant(int ch)
        {
            for (int y = gy; y < gy + gh; y++)
                for (int x = gx; x < gx + gw; x++)
                {
                    float v = card[ch, y, x], o1 = card[(ch + 1) % 3, y, x], o2 = card[(ch + 2) % 3, y, x];
                    if (v > 0.9f && o1 < 0.1f && o2 < 0.1f) return true;
                }
            return false;
        }
        Assert.That(Dominant(0) && Dominant(1) && Dominant(2));

        // the text band: mostly dark background, with a few thousand pixels of bright ink in several colours
        var (tx, ty, tw, th) = TestCard.Regions["text"];
        int bright = 0; var colours = new HashSet<(int, int, int)>();
        for (int y = ty; y < ty + th; y++)
            for (int x = tx; x < tx + tw; x++)
            {
                float r = card[0, y, x], g = card[1, y, x], b = card[2, y, x];
                if (Math.Max(r, Math.Max(g, b)) > 0.8f) { bright++; colours.Add(((int)(r * 4), (int)(g * 4), (int)(b * 4))); }
            }
        Assert.That(bright, Is.InRange(2000, tw * th / 2));
        Assert.That(colours.Count, Is.GreaterThanOrEqualTo(5));

        // the noise texture is not a few flat colours
        var (nx, ny, nw, nh) = TestCard.Regions["noise"];
        var distinct = new HashSet<(float, float, float)>();
        for (int y = ny; y < ny + nh; y++) for (int x = nx; x < nx + nw; x++) distinct.Add((card[0, y, x], card[1, y, x], card[2, y, x]));
        Assert.That(distinct.Count, Is.GreaterThan(2000));
    }
}

[NonParallelizable]
public class DemoTests
{
    static string SmallWeights => SharedData.Fixture("ctmsr_small.safetensors");

    static Image Panel(Image sheet, int index, int w, int h)
    {
        var (x0, y0) = DemoSheet.PanelOrigin(index, w);
        var d = new float[3 * w * h];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) d[(c * h + y) * w + x] = sheet[c, y0 + y, x0 + x];
        return new Image(w, h, 3, 8, d);
    }

    static float[] Quantised(Image img) => img.Data.Select(v => MathF.Round(Math.Clamp(v, 0f, 1f) * 255f) / 255f).ToArray();

    [Test]
    public void DemoOnTheFixtureWeightsWritesFourPanelsAndTheirScores()
    {
        string dir = Directory.CreateTempSubdirectory("ctmsr-demo-").FullName;
        try
        {
            string png = Path.Combine(dir, "sub", "demo.png");
            int rc = DemoVerb.Create().Parse(["-o", png, "--weights", SmallWeights, "--seed", "0"]).Invoke();
            Assert.That(rc, Is.Zero);
            var sheet = ImageCodec.Decode(png);
            int w = TestCard.Width, h = TestCard.Height;
            Assert.That(sheet.Width, Is.GreaterThanOrEqualTo(4 * w));
            Assert.That(sheet.Height, Is.GreaterThan(h));
            Assert.That(Directory.GetFiles(Path.GetDirectoryName(png)!), Has.Length.EqualTo(1), "no temporary file left beside the output");

            // recompute what the panels must show, independently of the sheet
            using var up = Upscaler.Load(SmallWeights, new CpuBackend(), new UpscaleOptions { Seed = 0 });
            var r = DemoRun.Run(up, 0);
            var hr = TestCard.Render();
            Assert.That(Panel(sheet, 3, w, h).Data, Is.EqualTo(hr.Data), "panel 4 is the HR card");
            var lrPanel = Panel(sheet, 0, w, h);
            int off = 0;
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                        if (lrPanel[c, y, x] != r.Lr[c, y / 4, x / 4]) off++;
            Assert.That(off, Is.Zero, "panel 1 is the LR image, each pixel a 4x4 block");
            var bic = Resize.Apply(r.Lr.Data, 3, h / 4, w / 4, h, w, ResizeMode.Bicubic);
            Assert.That(Panel(sheet, 1, w, h).Data, Is.EqualTo(Quantised(new Image(w, h, 3, 8, bic))), "panel 2 is bicubic x4 of the LR image");
            Assert.That(Panel(sheet, 2, w, h).Data, Is.EqualTo(Quantised(up.Upscale(r.Lr))), "panel 3 is the model's output for the LR image");
            Assert.That(Panel(sheet, 2, w, h).Data, Is.Not.EqualTo(Panel(sheet, 1, w, h).Data));

            // the LR image is a real degradation of the card, and the scores are those of the panels against HR
            Assert.That((r.Lr.Width, r.Lr.Height), Is.EqualTo((w / 4, h / 4)));
            Assert.That(r.BicubicScores.PsnrY, Is.EqualTo(Psnr.Y(Panel(sheet, 1, w, h), hr)).Within(1e-9));
            Assert.That(r.SrScores.PsnrY, Is.EqualTo(Psnr.Y(Panel(sheet, 2, w, h), hr)).Within(1e-9));
            Assert.That(r.SrScores.SsimY, Is.EqualTo(Ssim.Y(Panel(sheet, 2, w, h), hr)).Within(1e-9));
            Assert.That(r.BicubicScores.PsnrY, Is.InRange(10.0, 40.0));

            // the gutters between panels are plain background: four separate panels
            for (int i = 0; i < 3; i++)
            {
                int gx = DemoSheet.PanelOrigin(i, w).X + w + DemoSheet.Margin / 2, gy = DemoSheet.PanelOrigin(i, w).Y + h / 2;
                Assert.That(sheet[0, gy, gx], Is.EqualTo(sheet[0, gy, 2]).And.EqualTo(sheet[0, gy + 40, gx]), $"gutter after panel {i + 1}");
            }
            // text under the scored panels
            Assert.That(Enumerable.Range(DemoSheet.PanelOrigin(1, w).X, w).Any(x => sheet[0, DemoSheet.PanelOrigin(1, w).Y + h + 12, x] > 0.5f));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Test]
    public void WithoutWeightsTheDemoUsesTheRepositoryModel()
    {
        var repo = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (repo is not null && !File.Exists(Path.Combine(repo.FullName, "Ctmsr.sln"))) repo = repo.Parent;
        if (repo is null || !File.Exists(Path.Combine(repo.FullName, "models", DemoVerb.DefaultModel)))
            Assert.Ignore($"models/{DemoVerb.DefaultModel} is not in this checkout");
        string dir = Directory.CreateTempSubdirectory("ctmsr-demo-").FullName;
        try
        {
            string png = Path.Combine(dir, "demo.png");
            Assert.That(DemoVerb.Create().Parse(["-o", png]).Invoke(), Is.Zero);
            Assert.That(ImageCodec.Decode(png).Width, Is.GreaterThanOrEqualTo(4 * TestCard.Width));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Test]
    public void DemoUsageErrorsExitWithCode2()
    {
        string dir = Directory.CreateTempSubdirectory("ctmsr-demo-").FullName;
        try
        {
            Assert.That(DemoVerb.Create().Parse(["-o", Path.Combine(dir, "x.png"), "--weights", Path.Combine(dir, "none.safetensors")]).Invoke(), Is.EqualTo(2));
            Assert.That(DemoVerb.Create().Parse(["-o", Path.Combine(dir, "x.jpg"), "--weights", SmallWeights]).Invoke(), Is.EqualTo(2));
            Assert.That(Directory.GetFiles(dir), Is.Empty);
        }
        finally { Directory.Delete(dir, true); }
    }
}
