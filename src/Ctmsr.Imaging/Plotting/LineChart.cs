using System.Globalization;
using ScottPlot;

namespace Ctmsr.Imaging.Plotting;

/// <summary>One line of a chart: points (X[i], Y[i]) joined in order; non-finite points (and, on a log axis,
/// values &lt;= 0) break the line.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y, Rgb Color, int Thickness = 1, bool InLegend = true);

/// <summary>
/// A line chart drawn by ScottPlot (PNG through SkiaSharp): title, axis labels, grid, legend. A logarithmic y axis
/// plots log10 of the values over the whole decades that enclose them, ticks labelled in decades and minor grid lines
/// at 2..9 x 10^k.
/// </summary>
public sealed class LineChart
{
    public int Width { get; init; } = 960;
    public int Height { get; init; } = 540;
    public string Title { get; init; } = "";
    public string XLabel { get; init; } = "";
    public string YLabel { get; init; } = "";
    public bool LogY { get; init; } = true;

    /// <summary>The ScottPlot plot of <paramref name="series"/>; a log axis holds log10 of the values.</summary>
    public Plot Build(IReadOnlyList<ChartSeries> series)
    {
        var plt = new Plot();
        plt.Title(Title);
        plt.XLabel(XLabel);
        plt.YLabel(YLabel);
        bool any = false;
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        foreach (var s in series)
        {
            bool labelled = false;
            foreach (var (xs, ys) in Runs(s))
            {
                any = true;
                lo = Math.Min(lo, ys.Min()); hi = Math.Max(hi, ys.Max());
                var line = plt.Add.Scatter(xs, ys, ChartColor.Of(s.Color));
                line.LineWidth = s.Thickness;
                line.MarkerSize = xs.Length == 1 ? 3 * s.Thickness + 2 : 0;
                line.LineStyle.AntiAlias = false; // whole pixels in the series colour: tests can find them
                if (s.InLegend && !labelled) { line.LegendText = s.Name; labelled = true; }
            }
        }
        if (!any) plt.Add.Annotation("no data yet");
        if (series.Any(s => s.InLegend) && any) plt.ShowLegend(Alignment.UpperRight);
        if (LogY)
        {
            var ticks = new ScottPlot.TickGenerators.NumericAutomatic
            {
                MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                IntegerTicksOnly = true,
                LabelFormatter = Decade,
            };
            plt.Axes.Left.TickGenerator = ticks;
            // whole decades around the data (a point within 1% of a decade of the edge widens it), so at least two are labelled
            if (any) plt.Axes.SetLimitsY(Math.Floor(lo - 0.01), Math.Max(Math.Ceiling(hi + 0.01), Math.Floor(lo - 0.01) + 1));
            plt.Grid.MajorLineColor = Colors.Black.WithAlpha(.15);
            plt.Grid.MinorLineColor = Colors.Black.WithAlpha(.05);
            plt.Grid.MinorLineWidth = 1;
        }
        return plt;
    }

    /// <summary>The chart as PNG bytes.</summary>
    public byte[] RenderPng(IReadOnlyList<ChartSeries> series) => Build(series).GetImageBytes(Width, Height, ImageFormat.Png);

    /// <summary>The chart as an RGB image.</summary>
    public Image Render(IReadOnlyList<ChartSeries> series) => ImageCodec.Decode(RenderPng(series), "chart.png").WithoutAlpha();

    /// <summary>Runs of consecutive valid points (finite, and positive on a log axis), log10 applied on a log axis.</summary>
    IEnumerable<(double[] X, double[] Y)> Runs(ChartSeries s)
    {
        var xs = new List<double>(); var ys = new List<double>();
        int n = Math.Min(s.X.Count, s.Y.Count);
        for (int i = 0; i <= n; i++)
        {
            bool ok = i < n && double.IsFinite(s.X[i]) && double.IsFinite(s.Y[i]) && (!LogY || s.Y[i] > 0);
            if (ok) { xs.Add(s.X[i]); ys.Add(LogY ? Math.Log10(s.Y[i]) : s.Y[i]); continue; }
            if (xs.Count > 0) yield return (xs.ToArray(), ys.ToArray());
            xs.Clear(); ys.Clear();
        }
    }

    /// <summary>The label of log10 value <paramref name="k"/>: 1000, 0.01, 1e-5.</summary>
    public static string Decade(double k)
    {
        if (Math.Abs(k - Math.Round(k)) > 1e-9) return "";
        int e = (int)Math.Round(k);
        return e switch
        {
            >= 0 and <= 4 => Math.Pow(10, e).ToString("0", CultureInfo.InvariantCulture),
            >= -3 and < 0 => Math.Pow(10, e).ToString("0.###", CultureInfo.InvariantCulture),
            _ => $"1e{e}",
        };
    }
}

static class ChartColor
{
    public static Color Of(Rgb c) => new((byte)Math.Round(c.R * 255), (byte)Math.Round(c.G * 255), (byte)Math.Round(c.B * 255));
}
