using ScottPlot;

namespace Ctmsr.Imaging.Plotting;

/// <summary>One bar: its label on the category axis and its value.</summary>
public sealed record Bar(string Label, double Value);

/// <summary>
/// Horizontal bars drawn by ScottPlot (PNG through SkiaSharp), one per label top to bottom, with an optional dashed
/// reference line (e.g. 1.0 for ratios: right of it we are faster). Non-finite values are left out.
/// </summary>
public sealed class BarChart
{
    public int Width { get; init; } = 960;
    /// <summary>Height of the picture; 0 sizes it to the bars (28 pixels each plus margins).</summary>
    public int Height { get; init; }
    public string Title { get; init; } = "";
    public string ValueLabel { get; init; } = "";
    public double? Reference { get; init; }
    public Rgb Color { get; init; } = Rgb.Of(31, 119, 180);
    /// <summary>Bars below <see cref="Reference"/> are drawn in this colour.</summary>
    public Rgb BelowColor { get; init; } = Rgb.Of(214, 39, 40);

    public Plot Build(IReadOnlyList<Bar> bars)
    {
        var valid = bars.Where(b => double.IsFinite(b.Value)).ToList();
        var plt = new Plot();
        plt.Title(Title);
        plt.XLabel(ValueLabel);
        var ticks = new List<Tick>();
        for (int i = 0; i < valid.Count; i++)
        {
            double pos = valid.Count - 1 - i; // first bar on top
            var below = Reference is { } r && valid[i].Value < r;
            plt.Add.Bar(new ScottPlot.Bar
            {
                Position = pos, Value = valid[i].Value, Orientation = Orientation.Horizontal,
                FillColor = ChartColor.Of(below ? BelowColor : Color), Size = 0.7,
            });
            ticks.Add(Tick.Major(pos, valid[i].Label));
        }
        plt.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. ticks]);
        plt.Axes.Left.MajorTickStyle.Length = 0;
        plt.Grid.YAxisStyle.IsVisible = false;
        if (Reference is { } re)
        {
            var line = plt.Add.VerticalLine(re);
            line.LinePattern = LinePattern.Dashed;
            line.Color = Colors.Black;
        }
        if (valid.Count == 0) plt.Add.Annotation("no values");
        plt.Axes.Margins(left: 0, right: 0.1);
        return plt;
    }

    public int HeightFor(int bars) => Height > 0 ? Height : 120 + 28 * Math.Max(1, bars);

    public byte[] RenderPng(IReadOnlyList<Bar> bars) => Build(bars).GetImageBytes(Width, HeightFor(bars.Count(b => double.IsFinite(b.Value))), ImageFormat.Png);
}
