using Ctmsr.Benchmarking;
using Ctmsr.Imaging;
using Ctmsr.Imaging.Plotting;

namespace Ctmsr.Tests.Bench;

/// <summary>`ctmsr bench --chart`: the bars are PyTorch time over ours per case (hand-computed here), the fraction of the
/// peak without the twin, and the verb writes a PNG.</summary>
public sealed class BenchChartTests
{
    static BenchResult Result(bool withTorch)
    {
        var r = new BenchResult { Options = new BenchOptions { ConfigName = "small" }, Machine = "test", TorchVersion = withTorch ? "1.13" : null };
        var d = new DeviceReport { Spec = "cpu", Description = "test", Peak = new DevicePeak(100, "hand", 10, "hand") };
        d.Rows.Add(new BenchRow { Section = "kernels", Op = "gemm NN", Shape = "64^3", Pass = "fwd", Flops = 2e9, Times = [0.1, 0.2, 0.4], TorchTimes = withTorch ? [0.3, 0.3, 0.3] : null });
        d.Rows.Add(new BenchRow { Section = "kernels", Op = "group norm", Shape = "1x32x64x64", Pass = "bwd", Bytes = 1e8, Times = [0.05], TorchTimes = withTorch ? [0.025] : null });
        r.Devices.Add(d);
        return r;
    }

    [Test]
    public void BarsAreTheTwinsTimeOverOursPerCase()
    {
        var (bars, vsTorch) = BenchChart.Bars(Result(withTorch: true));
        Assert.That(vsTorch);
        // medians: ours 0.2 s and 0.05 s, torch 0.3 s and 0.025 s
        Assert.That(bars.Select(b => b.Label), Is.EqualTo(new[] { "cpu gemm NN fwd 64^3", "cpu group norm bwd 1x32x64x64" }));
        Assert.That(bars.Select(b => b.Value), Is.EqualTo(new[] { 1.5, 0.5 }).Within(1e-12));
    }

    [Test]
    public void WithoutTheTwinTheBarsAreTheFractionOfThePeak()
    {
        var (bars, vsTorch) = BenchChart.Bars(Result(withTorch: false));
        Assert.That(vsTorch, Is.False);
        // 2e9 FLOP in 0.2 s = 10 GFLOP/s of a 100 GFLOP/s peak; 1e8 bytes in 0.05 s = 2 GB/s of 10 GB/s
        Assert.That(bars.Select(b => b.Value), Is.EqualTo(new[] { 0.1, 0.2 }).Within(1e-12));
    }

    [Test]
    public void TheBarChartPutsTheFirstBarOnTopAndColoursTheSlowOnes()
    {
        var chart = new BarChart { Width = 600, Reference = 1.0 };
        var plt = chart.Build([new Bar("fast", 1.5), new Bar("slow", 0.5), new Bar("skipped", double.NaN)]);
        var bars = plt.GetPlottables().OfType<ScottPlot.Plottables.BarPlot>().SelectMany(p => p.Bars).ToList();
        Assert.That(bars.Select(b => (b.Position, b.Value)), Is.EqualTo(new[] { (1.0, 1.5), (0.0, 0.5) }));
        Assert.That(bars[0].FillColor, Is.Not.EqualTo(bars[1].FillColor));
        var png = chart.RenderPng([new Bar("fast", 1.5), new Bar("slow", 0.5)]);
        var img = ImageCodec.Decode(png, "bars.png");
        Assert.That((img.Width, img.Height), Is.EqualTo((600, chart.HeightFor(2))));
    }

    [Test]
    public void TheVerbWritesTheChart()
    {
        var dll = Path.Combine(TestContext.CurrentContext.TestDirectory, "ctmsr.dll");
        if (!File.Exists(dll)) Assert.Ignore($"{dll} is absent");
        var dir = Directory.CreateTempSubdirectory("ctmsr-chart-").FullName;
        try
        {
            var png = Path.Combine(dir, "bench.png");
            var (code, _, stderr) = TwinTests.Run("dotnet", [dll, "bench", "--device", "cpu", "--what", "kernels", "--config", "small", "--gemm", "32",
                "--repeat", "1", "--budget", "0.001", "--no-torch", "--chart", png]);
            Assert.That(code, Is.Zero, stderr);
            var img = ImageCodec.Decode(png);
            Assert.That(img.Width, Is.EqualTo(960));
            Assert.That(Directory.GetFiles(dir), Has.Length.EqualTo(1), "written atomically: no temporary file left");
            var (bad, _, err) = TwinTests.Run("dotnet", [dll, "bench", "--device", "cpu", "--chart", Path.Combine(dir, "x.svg")]);
            Assert.That(bad, Is.EqualTo(2));
            Assert.That(err, Does.Contain(".png"));
        }
        finally { Directory.Delete(dir, true); }
    }
}
