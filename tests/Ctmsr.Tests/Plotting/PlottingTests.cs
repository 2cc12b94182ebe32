using System.Text.Json.Nodes;
using Ctmsr.Imaging;
using Ctmsr.Imaging.Plotting;
using Ctmsr.Cli.Demo;
using Ctmsr.Train.Training;

namespace Ctmsr.Tests.Plotting;

public class PlottingTests
{
    [Test]
    public void EveryPrintableCharacterHasItsOwnGlyph()
    {
        var chars = Enumerable.Range(32, 95).Select(i => (char)i).ToList();
        Assert.That(BitmapFont.Characters, Is.EquivalentTo(chars));
        var seen = new Dictionary<string, char>();
        foreach (var c in chars)
        {
            var bits = string.Concat(Enumerable.Range(0, 35).Select(i => BitmapFont.IsSet(c, i % 5, i / 5) ? '#' : '.'));
            Assert.That(seen.TryAdd(bits, c), $"'{c}' draws the same glyph as '{(seen.TryGetValue(bits, out var o) ? o : ' ')}'");
            if (c != ' ') Assert.That(bits, Does.Contain("#"), $"'{c}' is blank");
        }
        // an unknown character draws as '?'
        var q = new List<(int, int)>(); var u = new List<(int, int)>();
        BitmapFont.Rasterise("?", 0, 0, 1, (x, y) => q.Add((x, y)));
        BitmapFont.Rasterise("\u00e9", 0, 0, 1, (x, y) => u.Add((x, y)));
        Assert.That(u, Is.EqualTo(q));
    }

    [Test]
    public void TextScalesByWholePixelsAndAdvancesOneCellPerCharacter()
    {
        var one = new HashSet<(int, int)>(); var two = new HashSet<(int, int)>();
        BitmapFont.Rasterise("Ab1", 10, 5, 1, (x, y) => one.Add((x, y)));
        BitmapFont.Rasterise("Ab1", 10, 5, 2, (x, y) => two.Add((x, y)));
        Assert.That(two, Has.Count.EqualTo(4 * one.Count));
        foreach (var (x, y) in one)
            for (int d = 0; d < 4; d++)
                Assert.That(two, Does.Contain((10 + 2 * (x - 10) + d % 2, 5 + 2 * (y - 5) + d / 2)));
        // 'A' occupies columns 10..14, 'b' 16..20, '1' 22..26; nothing in the spacing columns 15 and 21
        Assert.That(one.Select(p => p.Item1).Distinct().Order(), Is.SubsetOf(Enumerable.Range(10, 17).Except([15, 21])));
        Assert.That(one.Min(p => p.Item1), Is.EqualTo(10));
        Assert.That(BitmapFont.Measure("Ab1", 2), Is.EqualTo((34, 14)));
    }

    static readonly Rgb Blue = Rgb.Of(0, 0, 255), Red = Rgb.Of(255, 0, 0);

    static bool At(Image img, int x, int y, Rgb c) =>
        x >= 0 && y >= 0 && x < img.Width && y < img.Height && img[0, y, x] == c.R && img[1, y, x] == c.G && img[2, y, x] == c.B;

    [Test]
    public void LogChartDrawsAKnownSeriesWhereTheAxisPutsIt()
    {
        // a loss falling geometrically from 10^-1.2 to 10^-2.8 over 0..1000, and a constant 1e-2
        int n = 101;
        var x = Enumerable.Range(0, n).Select(i => 10.0 * i).ToArray();
        var y = Enumerable.Range(0, n).Select(i => Math.Pow(10, -1.2 - 1.6 * i / (n - 1))).ToArray();
        var flat = Enumerable.Repeat(0.01, n).ToArray();
        var chart = new LineChart { Width = 800, Height = 500, Title = "t", XLabel = "iteration", LogY = true };
        ChartSeries[] series = [new("flat", x, flat, Red, 2, InLegend: false), new("fall", x, y, Blue, 2, InLegend: false)];
        var plt = chart.Build(series);
        var img = ImageCodec.Decode(plt.GetImageBytes(800, 500, ScottPlot.ImageFormat.Png), "chart.png");
        Assert.That((img.Width, img.Height), Is.EqualTo((800, 500)));
        // every sample point is drawn within 2 pixels of where the axes put log10 of it
        for (int i = 0; i < n; i++)
        {
            var p = plt.GetPixel(new ScottPlot.Coordinates(x[i], Math.Log10(y[i])));
            bool hit = false;
            for (int dy = -2; dy <= 2; dy++) for (int dx = -2; dx <= 2; dx++) hit |= At(img, (int)Math.Round(p.X) + dx, (int)Math.Round(p.Y) + dy, Blue);
            Assert.That(hit, $"point {i} ({x[i]}, {y[i]:E3}) not drawn near ({p.X:F0}, {p.Y:F0})");
        }
        // the constant is a horizontal line at the row of log10(1e-2) = -2, halfway between the rows of 1e-3 and 1e-1
        float row = plt.GetPixel(new ScottPlot.Coordinates(500, -2)).Y;
        Assert.That(row, Is.EqualTo((plt.GetPixel(new ScottPlot.Coordinates(0, -3)).Y + plt.GetPixel(new ScottPlot.Coordinates(0, -1)).Y) / 2).Within(0.5));
        int left = (int)Math.Ceiling(plt.GetPixel(new ScottPlot.Coordinates(0, -2)).X), right = (int)plt.GetPixel(new ScottPlot.Coordinates(1000, -2)).X;
        int redColumns = Enumerable.Range(left, right - left + 1).Count(c => Enumerable.Range((int)row - 2, 5).Any(r => At(img, c, r, Red)));
        Assert.That(redColumns, Is.GreaterThan(0.95 * (right - left)), "the flat line spans the plot");
        // y ticks are whole decades labelled as numbers
        var labels = plt.Axes.Left.TickGenerator.Ticks.Where(t => t.IsMajor).Select(t => t.Label).ToList();
        Assert.That(labels, Is.SupersetOf(new[] { "0.01", "0.1" }));
        Assert.That(labels.Where(l => l.Length > 0), Is.SubsetOf(new[] { "0.0001", "0.001", "0.01", "0.1", "1" }));
    }

    [Test]
    public void DecadeLabels()
    {
        Assert.That(new[] { -5.0, -3, -1, 0, 2, 4, 5 }.Select(LineChart.Decade), Is.EqualTo(new[] { "1e-5", "0.001", "0.1", "1", "100", "10000", "1e5" }));
        Assert.That(LineChart.Decade(-1.5), Is.Empty, "no label between decades");
    }

    [Test]
    public void InvalidPointsBreakTheLine()
    {
        var chart = new LineChart { LogY = true };
        var plt = chart.Build([new ChartSeries("s", [0, 1, 2, 3, 4, 5], [1, 0.5, double.NaN, 0.3, -1, 0.2], Blue)]);
        var lines = plt.GetPlottables().OfType<ScottPlot.Plottables.Scatter>().ToList();
        Assert.That(lines.Select(l => l.Data.GetScatterPoints().Count), Is.EqualTo(new[] { 2, 1, 1 }), "runs [0,1], [3], [5]");
        Assert.That(lines.Count(l => l.LegendText == "s"), Is.EqualTo(1), "one legend entry per series");
        Assert.That(lines[0].Data.GetScatterPoints()[1].Y, Is.EqualTo(Math.Log10(0.5)).Within(1e-12));
    }

    static JsonObject Entry(int it, double loss, double? dtm = null) =>
        new() { ["iter"] = it, ["loss"] = loss + (dtm ?? 0), ["loss_ct"] = loss, ["loss_dtm"] = dtm };

    static int Count(Image img, Rgb c)
    {
        int n = 0, p = img.PlaneSize;
        for (int i = 0; i < p; i++)
            if (img.Data[i] == c.R && img.Data[p + i] == c.G && img.Data[2 * p + i] == c.B) n++;
        return n;
    }

    [Test]
    public void LossCurveDrawsCtAloneOrTheDtmTermsAndSkipsValidationLines()
    {
        var ct = Enumerable.Range(1, 50).Select(i => Entry(i, 0.5 / i)).ToList();
        ct.Insert(20, new JsonObject { ["iter"] = 20, ["val_psnr_y"] = 21.5 });
        var c1 = LossCurve.FromLog(ct);
        Assert.That(c1.Count, Is.EqualTo(50));
        var img = c1.Render();
        Assert.That(Count(img, LossCurve.CtColor), Is.GreaterThan(300));
        Assert.That(Count(img, LossCurve.DtmColor), Is.Zero);

        var dtm = Enumerable.Range(1, 50).Select(i => Entry(i, 0.2, 0.05 + 0.01 * (i % 3))).ToList();
        var img2 = LossCurve.FromLog(dtm).Render();
        Assert.That(Count(img2, LossCurve.DtmColor), Is.GreaterThan(300));
        Assert.That(Count(img2, LossCurve.TotalColor), Is.GreaterThan(300));
    }

    [Test]
    public void LongHistoriesAreBinnedAndStillSpanTheWholeAxis()
    {
        var curve = new LossCurve();
        for (int i = 1; i <= 200_000; i++) curve.Add(i, 1.0 / Math.Sqrt(i), 1.0 / Math.Sqrt(i), null);
        var img = curve.Render();
        // the smoothed CT line runs unbroken across the plot area (most of the picture's width)
        var cols = Enumerable.Range(0, img.Width).Where(x => Enumerable.Range(0, img.Height).Any(y => At(img, x, y, LossCurve.CtColor))).ToList();
        Assert.That(cols.Max() - cols.Min(), Is.GreaterThan(0.75 * img.Width));
        Assert.That(cols.Count, Is.EqualTo(cols.Max() - cols.Min() + 1), "no gap");
    }
}
