using Ctmsr.Imaging.Plotting;

namespace Ctmsr.Benchmarking;

/// <summary>
/// The picture of a `ctmsr bench` run (`--chart FILE.png`): one bar per measured case and device, the PyTorch twin's
/// time over ours (right of the dashed 1.0 we are faster). A run without the twin draws the fraction of the
/// measured peak instead.
/// </summary>
public static class BenchChart
{
    /// <summary>The bars: "device op pass shape" and the ratio (or the fraction of the peak when no case has a twin time).</summary>
    public static (IReadOnlyList<Bar> Bars, bool VsTorch) Bars(BenchResult r)
    {
        var rows = r.Devices.SelectMany(d => d.Rows.Select(x => (d, x))).ToList();
        bool vsTorch = rows.Any(t => t.x.SpeedVsTorch is not null);
        var bars = rows
            .Select(t => new Bar($"{t.d.Spec} {t.x.Op} {t.x.Pass} {t.x.Shape}", vsTorch ? t.x.SpeedVsTorch ?? double.NaN : t.x.FractionOfPeak(t.d.Peak)))
            .Where(b => double.IsFinite(b.Value)).ToList();
        return (bars, vsTorch);
    }

    public static byte[] RenderPng(BenchResult r)
    {
        var (bars, vsTorch) = Bars(r);
        var chart = new BarChart
        {
            Title = vsTorch ? $"ctmsr bench ({r.Options.ConfigName}): speed against PyTorch {r.TorchVersion}".TrimEnd()
                            : $"ctmsr bench ({r.Options.ConfigName}): fraction of the measured peak",
            ValueLabel = vsTorch ? "PyTorch time / our time (right of 1: we are faster)" : "fraction of the peak",
            Reference = vsTorch ? 1.0 : null,
        };
        return chart.RenderPng(bars);
    }
}
