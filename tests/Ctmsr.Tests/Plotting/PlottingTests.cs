using System.Text.Json.Nodes;
using Ctmsr.Imaging;
using Ctmsr.Imaging.Plotting;
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

    static bool At(Canvas cv, int x, int y, Rgb c) => cv.Get(x, y) == c;

    [Test]
    public void LogChartDrawsAKnownSeriesWhereTheAxisMathPutsIt()
    {
        // a loss falling geometrically from 10^-1.2 to 10^-2.8 over 0..1000: a straight line on the log axis spanning
        // the decades [1e-3, 1e-1]; and a constant 1e-2, which must sit exactly halfway up that axis
        int n = 101;
        var x = Enumerable.Range(0, n).Select(i => 10.0 * i).ToArray();
        var y = Enumerable.Range(0, n).Select(i => Math.Pow(10, -1.2 - 1.6 * i / (n - 1))).ToArray();
        var flat = Enumerable.Repeat(0.01, n).ToArray();
        var chart = new LineChart { Width = 800, Height = 500, Title = "t", XLabel = "iteration", LogY = true };
        var cv = chart.Render([new ChartSeries("flat", x, flat, Red, InLegend: false), new ChartSeries("fall", x, y, Blue, InLegend: false)]);
        var (l, t, r, b) = chart.PlotArea;
        Assert.That((cv.Width, cv.Height), Is.EqualTo((800, 500)));

        // the frame: dark lines on all four sides of the plot area
        for (int yy = t; yy <= b; yy++) Assert.That(At(cv, l, yy, LineChart.Axis) && At(cv, r, yy, LineChart.Axis), $"frame at row {yy}");
        for (int xx = l; xx <= r; xx++) Assert.That(At(cv, xx, t, LineChart.Axis) && At(cv, xx, b, LineChart.Axis), $"frame at column {xx}");

        double Row(double v) => b - (Math.Log10(v) + 3) / 2 * (b - t);
        double Col(double v) => l + v / 1000 * (r - l);
        // every sample point is drawn, within a pixel of where the axes put it
        for (int i = 0; i < n; i++)
        {
            int px = (int)Math.Round(Col(x[i])), py = (int)Math.Round(Row(y[i]));
            bool hit = false;
            for (int dy = -1; dy <= 1; dy++) for (int dx = -1; dx <= 1; dx++) hit |= At(cv, px + dx, py + dy, Blue);
            Assert.That(hit, $"point {i} ({x[i]}, {y[i]:E3}) not drawn near ({px}, {py})");
        }
        // and blue appears nowhere else: each blue pixel lies within 2 pixels of the straight line between the end points
        int blue = 0;
        for (int yy = 0; yy < cv.Height; yy++)
            for (int xx = 0; xx < cv.Width; xx++)
                if (At(cv, xx, yy, Blue))
                {
                    blue++;
                    double want = Row(y[0]) + (xx - Col(0)) / (Col(1000) - Col(0)) * (Row(y[^1]) - Row(y[0]));
                    Assert.That(Math.Abs(yy - want), Is.LessThanOrEqualTo(2.0), $"stray blue pixel at ({xx}, {yy})");
                }
        Assert.That(blue, Is.GreaterThanOrEqualTo(r - l - 2), "the line is continuous across the plot");
        // the constant 1e-2 is a horizontal line halfway between the frame's top and bottom, across the whole plot
        int mid = (int)Math.Round((t + b) / 2.0);
        for (int xx = l + 1; xx < r; xx++)
            if (Math.Abs(xx - Col(500)) > 3) // where the falling line crosses it, blue is drawn on top
            Assert.That(Enumerable.Range(mid - 1, 3).Any(yy => At(cv, xx, yy, Red)), $"flat line missing at column {xx}");

        // tick labels: ink left of the frame at each decade's row, and under the frame at the x ticks
        bool Ink(int x0, int y0, int x1, int y1)
        {
            for (int yy = y0; yy <= y1; yy++) for (int xx = x0; xx <= x1; xx++) if (cv.Get(xx, yy) == LineChart.Axis) return true;
            return false;
        }
        foreach (var v in new[] { 1e-3, 1e-2, 1e-1 })
            Assert.That(Ink(0, (int)Row(v) - 6, l - 9, (int)Row(v) + 6), $"no tick label for {v}");
        Assert.That(Ink(0, (t + b) / 2 + 20, l - 9, b - 20), Is.False, "no label between decades");
        Assert.That(Ink(l - 10, b + 8, r + 10, b + 24), "x tick labels under the frame");
    }

    [Test]
    public void AOneDecadeAxisAlsoLabelsTwoAndFive()
    {
        var chart = new LineChart { Width = 600, Height = 400 };
        var cv = chart.Render([new ChartSeries("s", [0, 1, 2], [0.15, 0.3, 0.35], Blue)]);
        var (l, t, _, b) = chart.PlotArea;
        // the axis spans [0.1, 1]: 0.2 and 0.5 lie log10(2) and log10(5) of the way up
        foreach (var m in new[] { 2, 5 })
        {
            int row = (int)Math.Round(b - Math.Log10(m) * (b - t));
            bool ink = false;
            for (int y = row - 6; y <= row + 6; y++) for (int x = 0; x < l - 9; x++) ink |= cv.Get(x, y) == LineChart.Axis;
            Assert.That(ink, $"label for {m}e-1");
        }
        int r3 = (int)Math.Round(b - Math.Log10(3) * (b - t));
        bool none = true;
        for (int y = r3 - 3; y <= r3 + 3; y++) for (int x = 0; x < l - 9; x++) none &= cv.Get(x, y) != LineChart.Axis;
        Assert.That(none, "no label at 0.3");
    }

    [Test]
    public void NiceTicksAreRoundNumbersInsideTheRange()
    {
        Assert.That(LineChart.NiceTicks(0, 1000, 5), Is.EqualTo(new double[] { 0, 200, 400, 600, 800, 1000 }));
        Assert.That(LineChart.NiceTicks(3, 97, 4), Is.EqualTo(new double[] { 20, 40, 60, 80 }));
        Assert.That(LineChart.NiceTicks(0.013, 0.061, 5), Has.All.InRange(0.013, 0.061));
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
        // the smoothed CT line reaches both ends of the plot area
        var chart = new LineChart();
        var (l, _, r, _) = chart.PlotArea;
        bool Column(int x) { for (int y = 0; y < img.Height; y++) { int i = y * img.Width + x; if (img.Data[i] == LossCurve.CtColor.R && img.Data[img.PlaneSize + i] == LossCurve.CtColor.G && img.Data[2 * img.PlaneSize + i] == LossCurve.CtColor.B) return true; } return false; }
        Assert.That(Column(l + 3) && Column(r - 3));
    }
}
