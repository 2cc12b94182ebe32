using System.Text.Json;
using Ctmsr.Imaging;

namespace Ctmsr.Tests.Inference;

/// <summary>The memory model of an upscale (Upscaler.PredictMemoryGrowth: the tile's pool buffers and host arrays per
/// LR pixel measured on one unit tile, the convolutions' scratch, the image-wide arrays) against the process's
/// resident-set high-water mark, measured by the kernel (VmHWM, reset after the model is loaded): the CLI runs in a
/// child process, so nothing of the test host is counted, and reports both in its --json summary.</summary>
[NonParallelizable]
public sealed class UpscaleMemoryTests
{
    static string Repo()
    {
        for (var d = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Ctmsr.sln"))) return d.FullName;
        Assert.Ignore("Ctmsr.sln is not above the test binary (run the tests from a checkout)");
        return "";
    }

    /// <summary>The released x4 architecture with random weights (memory does not depend on their values), written as
    /// safetensors for the child process.</summary>
    static string RandomX4(string dir)
    {
        using var ctx = new Ctmsr.Autograd.Context(new Ctmsr.Kernels.Cpu.CpuBackend());
        var net = new Ctmsr.Model.Network.CtmsrNet(ctx, Ctmsr.Model.Network.CtmsrConfig.X4);
        net.InitializeRandom(1);
        string path = Path.Combine(dir, "x4-random.safetensors");
        Ctmsr.Model.Checkpoints.SafetensorsFile.Write(path, Ctmsr.Model.Checkpoints.ModelWeights.Export(net));
        return path;
    }

    /// <summary>A photo-like RGB image: smooth gradients with texture, so PNG does not compress it to nothing.</summary>
    static Image Photo(int w, int h)
    {
        var img = new Image(w, h, 3);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    img.Plane(c)[y * w + x] = (float)Math.Clamp(0.5 + 0.35 * Math.Sin(0.05 * x + 0.03 * y + c) + 0.1 * Math.Sin(1.7 * x * y % 7.0), 0, 1);
        return img;
    }

    // tiny (the shipped model, unit 16): one 256 tile, and nine 128 tiles (blending, per-tile garbage);
    // small (the fixture, unit 64): one 128 tile and one 192 tile; x4 (random weights, 171M parameters): one 64 tile.
    // bounded: the one-tile runs are also held to issue 14's bound, peak growth plus the weights at most 1.5x the two
    // largest live activations of the tile (two x4-stage maps, C channels at 4x the tile) plus the weights; the nine-tile
    // run is not (its image-wide arrays, outside that bound, are as large as a 128 tile's activations), nor small at 128
    // (1.41-1.46x measured: the convolution's two 16 MiB band copies are half a 128 tile's x4 map; too close to test)
    [TestCase("models/ctmsr-tiny.safetensors", 256, "256", true)]
    [TestCase("models/ctmsr-tiny.safetensors", 256, "128", false)]
    [TestCase("fixtures/ctmsr_small.safetensors", 128, "128", false)]
    [TestCase("fixtures/ctmsr_small.safetensors", 192, "192", true)]
    [TestCase("x4-random", 64, "64", true)]
    public void PredictedPeakIsWithin25PercentOfTheMeasured(string weights, int size, string tile, bool bounded)
    {
        if (!File.Exists("/proc/self/clear_refs")) Assert.Ignore("needs Linux /proc to measure the resident set");
        var dir = Path.Combine(Path.GetTempPath(), "ctmsr-mem-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string w = weights switch
            {
                "x4-random" => RandomX4(dir),
                _ when weights.StartsWith("models/") => Path.Combine(Repo(), weights),
                _ => SharedData.Fixture(Path.GetFileName(weights)),
            };
            File.WriteAllBytes(Path.Combine(dir, "in.png"), ImageCodec.EncodePng(Photo(size, size)));
            var exe = Path.Combine(TestContext.CurrentContext.TestDirectory, "ctmsr.dll");
            var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in new[] { exe, "upscale", Path.Combine(dir, "in.png"), "-o", Path.Combine(dir, "out.png"), "--weights", w, "--tile", tile, "--json" })
                psi.ArgumentList.Add(a);
            using var p = System.Diagnostics.Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            string stdout = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            Assert.That(p.ExitCode, Is.EqualTo(0), err.Result);
            var summary = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)
                .Single(e => e.GetProperty("event").GetString() == "summary");
            double measured = summary.GetProperty("rssPeakGrowth").GetInt64(), predicted = summary.GetProperty("rssPredictedGrowth").GetInt64();
            TestContext.Out.WriteLine($"{Path.GetFileName(w)} {size}x{size} tile {tile}: measured {measured / 1048576:0} MiB, predicted {predicted / 1048576:0} MiB ({predicted / measured:0.00}x)");
            Assert.That(measured, Is.GreaterThan(64 << 20), "a run large enough that the tile dominates");
            Assert.That(predicted / measured, Is.InRange(0.75, 1.25));
            if (bounded)
            {
                var state = Ctmsr.Model.Checkpoints.CheckpointFiles.LoadStateDict(w, "params_ema");
                var cfg = Ctmsr.Inference.ConfigInference.FromStateDict(state);
                double weightBytes = state.Values.Sum(t => 4.0 * t.Count);
                double hr = cfg.Scale * double.Parse(tile, System.Globalization.CultureInfo.InvariantCulture);
                double bound = 2 * 4.0 * cfg.ModelChannels * hr * hr + weightBytes;
                double ratio = (measured + weightBytes) / bound;
                TestContext.Out.WriteLine($"  measured + weights {(measured + weightBytes) / 1048576:0} MiB over two x4-stage activations + weights {bound / 1048576:0} MiB: {ratio:0.00}x");
                Assert.That(ratio, Is.LessThanOrEqualTo(1.5), "issue 14's inference memory bound");
            }
        }
        finally { Directory.Delete(dir, true); }
    }
}
