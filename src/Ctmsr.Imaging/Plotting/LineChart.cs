using System.Globalization;

namespace Ctmsr.Imaging.Plotting;

/// <summary>One line of a chart: points (X[i], Y[i]) joined in order; non-finite points (and, on a log axis,
/// values &lt;= 0) break the line.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y, Rgb Color, int Thickness = 1, bool InLegend = true);

/// <summary>
/// A line chart drawn with <see cref="Canvas"/>: a framed plot area, light grid lines, tick labels in
/// <see cref="BitmapFont"/>, a legend and a title. The x axis spans the data exactly; a logarithmic y axis spans
/// the whole decades that enclose the data with a margin of 0.01 decade (a linear one the data, padded by 5%), so a value v lands at
/// row Bottom - (log10 v - lo) / (hi - lo) * (Bottom - Top), rounded.
/// </summary>
public sealed class LineChart
{
    public int Width { get; init; } = 960;
    public int Height { get; init; } = 540;
    public string Title { get; init; } = "";
    public string XLabel { get; init; } = "";
    public string YLabel { get; init; } = "";
    public bool LogY { get; init; } = true;

    public static readonly Rgb Background = Rgb.White, Axis = Rgb.Of(40, 40, 40), Grid = Rgb.Of(225, 225, 225), MinorGrid = Rgb.Of(242, 242, 242);
    const int Left = 96, Right = 24, Top = 48, Bottom = 60, TextScale = 2;

    /// <summary>The plot frame in pixels, inclusive: the frame lines are at these rows and columns.</summary>
    public (int Left, int Top, int Right, int Bottom) PlotArea => (Left, Top, Width - Right - 1, Height - Bottom - 1);

    public Canvas Render(IReadOnlyList<ChartSeries> series)
    {
        if (Width < Left + Right + 64 || Height < Top + Bottom + 64)
            throw new ArgumentOutOfRangeException(nameof(Width), $"chart {Width}x{Height} is too small; it needs at least {Left + Right + 64}x{Top + Bottom + 64}");
        var cv = new Canvas(Width, Height, Background);
        var (l, t, r, b) = PlotArea;
        cv.TextCentred(Width / 2, 10, Title, Rgb.Black, TextScale);
        cv.Text(l, t - 14, YLabel, Axis, 1);
        cv.TextCentred((l + r) / 2, Height - 20, XLabel, Axis, TextScale);

        var pts = series.Select(s => Valid(s).ToList()).ToList();
        var all = pts.SelectMany(p => p).ToList();
        if (all.Count == 0)
        {
            cv.StrokeRect(l, t, r - l + 1, b - t + 1, Axis);
            cv.TextCentred((l + r) / 2, (t + b) / 2, "no data yet", Axis, TextScale);
            return cv;
        }
        double x0 = all.Min(p => p.x), x1 = all.Max(p => p.x);
        if (x1 == x0) { x0 -= 0.5; x1 += 0.5; }
        double y0 = all.Min(p => p.y), y1 = all.Max(p => p.y);
        if (LogY)
        {
            // a value within 1% of a decade of the boundary widens the range, so no point hides under the frame
            y0 = Math.Floor(y0 - 0.01); y1 = Math.Ceiling(y1 + 0.01);
            if (y1 == y0) y1 = y0 + 1;
        }
        else
        {
            double pad = y1 > y0 ? 0.05 * (y1 - y0) : Math.Max(Math.Abs(y0) * 0.05, 0.5);
            y0 -= pad; y1 += pad;
        }
        int Px(double x) => (int)Math.Round(l + (x - x0) / (x1 - x0) * (r - l));
        int Py(double y) => (int)Math.Round(b - (y - y0) / (y1 - y0) * (b - t));

        // grid and y ticks
        if (LogY)
        {
            int decades = (int)(y1 - y0), every = Math.Max(1, (decades + 7) / 8);
            for (int k = (int)y0; k <= (int)y1; k++)
            {
                if (k < (int)y1 && decades <= 8)
                    for (int m = 2; m <= 9; m++)
                    {
                        cv.FillRect(l, Py(k + Math.Log10(m)), r - l + 1, 1, MinorGrid);
                        // a one-decade axis also labels 2 and 5 x 10^k, else it would carry only two numbers
                        if (decades == 1 && m is 2 or 5)
                        {
                            cv.FillRect(l - 3, Py(k + Math.Log10(m)), 3, 1, Axis);
                            RightAligned(cv, l - 10, Py(k + Math.Log10(m)) - 7, Minor(m, k));
                        }
                    }
                cv.FillRect(l, Py(k), r - l + 1, 1, Grid);
                cv.FillRect(l - 6, Py(k), 6, 1, Axis);
                if ((k - (int)y0) % every == 0) RightAligned(cv, l - 10, Py(k) - 7, Decade(k));
            }
        }
        else
            foreach (var v in NiceTicks(y0, y1, 6))
            {
                cv.FillRect(l, Py(v), r - l + 1, 1, Grid);
                cv.FillRect(l - 6, Py(v), 6, 1, Axis);
                RightAligned(cv, l - 10, Py(v) - 7, Number(v, y1 - y0));
            }
        var xt = NiceTicks(x0, x1, Math.Max(2, (r - l) / 140));
        bool thousands = x1 >= 10000 && xt.All(v => v % 1000 == 0);
        foreach (var v in xt)
        {
            cv.FillRect(Px(v), t, 1, b - t + 1, Grid);
            cv.FillRect(Px(v), b, 1, 6, Axis);
            cv.TextCentred(Px(v), b + 10, thousands ? $"{v / 1000:0}k" : Number(v, x1 - x0), Axis, TextScale);
        }
        cv.StrokeRect(l, t, r - l + 1, b - t + 1, Axis);

        // series, clipped to the inside of the frame
        cv.Clip = (l + 1, t + 1, r - l - 1, b - t - 1);
        for (int i = 0; i < series.Count; i++)
        {
            var s = series[i];
            (int x, int y)? prev = null;
            int idx = -1;
            foreach (var (x, y, index) in pts[i])
            {
                var p = (Px(x), Py(y));
                if (prev is { } q && index == idx + 1) cv.Line(q.x, q.y, p.Item1, p.Item2, s.Color, s.Thickness);
                else cv.Line(p.Item1, p.Item2, p.Item1, p.Item2, s.Color, Math.Max(s.Thickness, 3));
                prev = p; idx = index;
            }
        }
        cv.Clip = null;

        // legend, top right inside the frame
        var legend = series.Where(s => s.InLegend).ToList();
        if (legend.Count > 0)
        {
            int w = legend.Max(s => BitmapFont.Measure(s.Name, TextScale).Width) + 40, h = legend.Count * 20 + 8;
            int lx = r - w - 8, ly = t + 8;
            cv.FillRect(lx, ly, w, h, Background);
            cv.StrokeRect(lx, ly, w, h, Grid);
            for (int i = 0; i < legend.Count; i++)
            {
                int yy = ly + 6 + i * 20;
                cv.FillRect(lx + 6, yy + 6, 20, 3, legend[i].Color);
                cv.Text(lx + 32, yy, legend[i].Name, Rgb.Black, TextScale);
            }
        }
        return cv;
    }

    IEnumerable<(double x, double y, int index)> Valid(ChartSeries s)
    {
        int n = Math.Min(s.X.Count, s.Y.Count);
        for (int i = 0; i < n; i++)
        {
            double x = s.X[i], y = s.Y[i];
            if (!double.IsFinite(x) || !double.IsFinite(y) || (LogY && y <= 0)) continue;
            yield return (x, LogY ? Math.Log10(y) : y, i);
        }
    }

    static void RightAligned(Canvas cv, int right, int y, string text) =>
        cv.Text(right - BitmapFont.Measure(text, TextScale).Width, y, text, Axis, TextScale);

    static string Decade(int k) => k switch
    {
        >= 0 and <= 4 => Math.Pow(10, k).ToString("0", CultureInfo.InvariantCulture),
        >= -3 and < 0 => Math.Pow(10, k).ToString("0.###", CultureInfo.InvariantCulture),
        _ => $"1e{k}",
    };

    static string Minor(int m, int k) => k is >= -3 and <= 3
        ? (m * Math.Pow(10, k)).ToString("0.###", CultureInfo.InvariantCulture)
        : $"{m}e{k}";

    static string Number(double v, double span)
    {
        int decimals = Math.Clamp(2 - (int)Math.Floor(Math.Log10(Math.Max(span, 1e-12))), 0, 6);
        return Math.Round(v, decimals).ToString("0." + new string('#', decimals), CultureInfo.InvariantCulture);
    }

    /// <summary>Multiples of 1, 2 or 5 x 10^k inside [lo, hi], about <paramref name="count"/> of them.</summary>
    public static List<double> NiceTicks(double lo, double hi, int count)
    {
        double raw = (hi - lo) / Math.Max(1, count), mag = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
        var r = new List<double>();
        for (double v = Math.Ceiling(lo / step) * step; v <= hi + step * 1e-9; v += step) r.Add(Math.Abs(v) < step * 1e-9 ? 0 : v);
        return r;
    }
}
