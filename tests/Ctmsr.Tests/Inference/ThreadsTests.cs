using System.Text.RegularExpressions;
using Ctmsr.Imaging;
using Ctmsr.Inference;
using Ctmsr.Kernels.Cpu;
using static Ctmsr.Tests.Inference.InferenceKit;

namespace Ctmsr.Tests.Inference;

/// <summary>`--threads N`: validated, applied to the CPU kernels and ImageSharp, and without effect on results.</summary>
[NonParallelizable]
public sealed class ThreadsTests
{
    [TearDown]
    public void Restore()
    {
        CpuThreads.Limit = Environment.ProcessorCount;
        ImageCodec.Threads = Environment.ProcessorCount;
    }

    [TestCase("upscale", "0")]
    [TestCase("upscale", "-3")]
    [TestCase("upscale", "two")]
    [TestCase("eval", "0")]
    [TestCase("train ct", "0")]
    [TestCase("bench", "x")]
    public void BadThreadCountIsAUsageError(string verb, string value)
    {
        var (code, _, stderr) = CliRunner.Run([.. verb.Split(' '), "--threads", value]);
        Assert.That(code, Is.EqualTo(2), stderr);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), stderr);
        Assert.That(lines[0], Does.Contain($"--threads {value}").And.Contain(">= 1"));
    }

    [Test]
    public void UpscaleThreadsSetsTheKernelAndCodecCaps()
    {
        var dir = Path.Combine(Path.GetTempPath(), "ctmsr-threads-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllBytes(Path.Combine(dir, "in.png"), ImageCodec.EncodePng(Card(16, 16, 3)));
            var (code, _, stderr) = CliRunner.Run("upscale", Path.Combine(dir, "in.png"), "-o", Path.Combine(dir, "out.png"), "--weights", WeightsPath, "--threads", "1");
            Assert.That(code, Is.EqualTo(0), stderr);
            Assert.That(CpuThreads.Limit, Is.EqualTo(1));
            Assert.That(CpuThreads.Options.MaxDegreeOfParallelism, Is.EqualTo(1));
            Assert.That(ImageCodec.Threads, Is.EqualTo(1));
            Assert.That(SixLabors.ImageSharp.Configuration.Default.MaxDegreeOfParallelism, Is.EqualTo(1), "the encoders' configuration");
            Assert.That(new CpuBackend().Description, Does.StartWith("1 of "));
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>Every Parallel.For of the CPU backend takes the cap (the FMA probe, which sets its own count to measure
    /// the peak, aside): a new kernel that forgot it would ignore --threads.</summary>
    [Test]
    public void EveryCpuKernelLoopTakesTheCap()
    {
        string? repo = null;
        for (var d = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); d is not null && repo is null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Ctmsr.sln"))) repo = d.FullName;
        if (repo is null) Assert.Ignore("Ctmsr.sln is not above the test binary (run the tests from a checkout)");
        var bad = new List<string>();
        int seen = 0;
        foreach (var f in Directory.EnumerateFiles(Path.Combine(repo!, "src", "Ctmsr.Kernels", "Cpu"), "*.cs"))
        {
            if (Path.GetFileName(f) == "CpuFmaProbe.cs") continue;
            var lines = File.ReadAllLines(f);
            for (int i = 0; i < lines.Length; i++)
                if (Regex.IsMatch(lines[i], @"\bParallel\.For(Each)?\s*\(") && !lines[i].TrimStart().StartsWith("//") && !lines[i].TrimStart().StartsWith("///"))
                {
                    seen++;
                    if (!lines[i].Contains("CpuThreads.") && !(lines[i].Contains(", opts,") && lines.Any(l => l.Contains("var opts = CpuThreads.Cap("))))
                        bad.Add($"{Path.GetFileName(f)}:{i + 1}: {lines[i].Trim()}");
                }
        }
        Assert.That(seen, Is.GreaterThan(10), "the scan found the kernels' loops");
        Assert.That(bad, Is.Empty);
    }

    /// <summary>The kernels split work the same way for any thread count (independent pieces, fixed reduction order), so
    /// an upscale on 1 thread and on 2 is bit for bit the same.</summary>
    [Test]
    public void ResultsAreIdenticalForOneAndTwoThreads()
    {
        var card = Card(96, 64, 3);
        float[] Run(int threads)
        {
            CpuThreads.Limit = threads;
            using var up = new Upscaler(new CpuBackend(), State, new UpscaleOptions { Seed = 5, Tile = 64 });
            return up.Upscale(card).Data;
        }
        var one = Run(1);
        var two = Run(2);
        Assert.That(two, Is.EqualTo(one));
        Assert.That(one.Distinct().Count(), Is.GreaterThan(1000), "a real image came out");
    }
}
