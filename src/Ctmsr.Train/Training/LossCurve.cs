using System.Text.Json.Nodes;
using Ctmsr.Imaging;
using Ctmsr.Kernels;
using Ctmsr.Imaging.Plotting;

namespace Ctmsr.Train.Training;

/// <summary>
/// The loss history of a run and its picture, loss.png: log-scale loss against iteration. A CT run draws the CT
/// loss; a DTM run draws the total, its CT term and its DTM term. Each series is drawn raw (light) and smoothed
/// (an exponential moving average of log10 loss, debiased, as TensorBoard smooths). Long histories are averaged
/// in log space over runs of consecutive iterations, so a redraw costs O(iterations) with a small constant and
/// draws at most ~2 points per pixel column.
/// </summary>
public sealed class LossCurve
{
    readonly List<int> _iter = new();
    readonly List<double> _loss = new(), _ct = new(), _dtm = new();
    bool _hasDtm;

    public string Title { get; init; } = "training loss";
    /// <summary>The legend of the single curve drawn when there is no DTM term.</summary>
    public string SingleName { get; init; } = "CT loss";
    public int Count => _iter.Count;

    public void Add(int iteration, double loss, double ct, double? dtm)
    {
        _iter.Add(iteration); _loss.Add(loss); _ct.Add(ct); _dtm.Add(dtm ?? double.NaN);
        _hasDtm |= dtm.HasValue;
    }

    /// <summary>The history in a run's log.jsonl entries (lines without a "loss", e.g. validation, are skipped).</summary>
    public static LossCurve FromLog(IEnumerable<JsonObject> entries, string title = "training loss", string singleName = "CT loss")
    {
        var c = new LossCurve { Title = title, SingleName = singleName };
        foreach (var e in entries)
        {
            if (e["iter"] is not JsonValue it || e["loss"] is not JsonValue l) continue;
            double loss = l.GetValue<double>();
            double ct = e["loss_ct"] is JsonValue v ? v.GetValue<double>() : loss;
            double? dtm = e["loss_dtm"] is JsonValue d ? d.GetValue<double>() : null;
            c.Add(it.GetValue<int>(), loss, ct, dtm);
        }
        return c;
    }

    public static readonly Rgb TotalColor = Rgb.Of(20, 20, 20), CtColor = Rgb.Of(31, 119, 180), DtmColor = Rgb.Of(214, 39, 40);

    /// <summary>The chart and its series: raw (light, under) and smoothed lines, at most ~2 points per pixel column.</summary>
    (LineChart Chart, List<ChartSeries> Series) Chart(int width, int height)
    {
        var chart = new LineChart { Width = width, Height = height, Title = Title, XLabel = "iteration", YLabel = "loss (log scale)", LogY = true };
        int bins = Math.Max(1, 2 * width);
        var series = new List<ChartSeries>();
        void AddPair(string name, List<double> y, Rgb color)
        {
            var (x, yb) = Bin(y, bins);
            series.Add(new ChartSeries(name + " (raw)", x, yb, color.Mix(Rgb.White, 0.7f), 1, InLegend: false));
            series.Add(new ChartSeries(name, x, Smooth(yb, 0.9), color, 2));
        }
        if (_hasDtm)
        {
            AddPair("total", _loss, TotalColor);
            AddPair("CT", _ct, CtColor);
            AddPair("DTM", _dtm, DtmColor);
        }
        else AddPair(SingleName, _ct, CtColor);
        // raw lines under the smoothed ones
        return (chart, series.Where(s => !s.InLegend).Concat(series.Where(s => s.InLegend)).ToList());
    }

    public Image Render(int width = 960, int height = 540)
    {
        var (chart, series) = Chart(width, height);
        return chart.Render(series);
    }

    /// <summary>Writes the picture as PNG atomically (temporary file and rename).</summary>
    public void Save(string path)
    {
        var (chart, series) = Chart(960, 540);
        AtomicFile.WriteAllBytes(path, chart.RenderPng(series));
    }

    /// <summary>Averages runs of consecutive points (log10 mean, so a decade-spanning run is not dominated by its largest value).</summary>
    (List<double> x, List<double> y) Bin(List<double> y, int bins)
    {
        int n = _iter.Count, per = Math.Max(1, (n + bins - 1) / bins);
        var xs = new List<double>(); var ys = new List<double>();
        for (int i = 0; i < n; i += per)
        {
            double sx = 0, sl = 0; int k = 0, m = 0;
            for (int j = i; j < Math.Min(n, i + per); j++)
            {
                sx += _iter[j]; m++;
                if (double.IsFinite(y[j]) && y[j] > 0) { sl += Math.Log10(y[j]); k++; }
            }
            xs.Add(sx / m);
            ys.Add(k > 0 ? Math.Pow(10, sl / k) : double.NaN);
        }
        return (xs, ys);
    }

    /// <summary>Debiased exponential moving average of log10 y; invalid points stay invalid and do not update it.</summary>
    static List<double> Smooth(List<double> y, double weight)
    {
        var r = new List<double>(y.Count);
        double acc = 0, norm = 0;
        foreach (var v in y)
        {
            if (!(double.IsFinite(v) && v > 0)) { r.Add(double.NaN); continue; }
            acc = weight * acc + (1 - weight) * Math.Log10(v);
            norm = weight * norm + (1 - weight);
            r.Add(Math.Pow(10, acc / norm));
        }
        return r;
    }
}
