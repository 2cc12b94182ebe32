using System.CommandLine;
using System.Diagnostics;
using Ctmsr.Cli.Demo;
using Ctmsr.Imaging;
using Ctmsr.Inference;

namespace Ctmsr.Cli.Verbs;

/// <summary>
/// `ctmsr demo [-o demo.png] [--weights W] [--device D] [--seed S]`: the first command on a fresh machine. Draws the
/// built-in test card, degrades it (Real-ESRGAN, fixed seed), upscales it with bicubic and the model, and writes one
/// PNG with LR | bicubic | CTMSR | HR and the PSNR-Y/SSIM-Y of both upscalers, which it also prints.
/// </summary>
static class DemoVerb
{
    public const string DefaultModel = "ctmsr-tiny.safetensors";

    public static Command Create()
    {
        var output = new Option<string>("-o", "--output") { Description = "the PNG to write", DefaultValueFactory = _ => "demo.png" };
        var weights = new Option<FileInfo?>("--weights")
        {
            Description = $"model weights (default: models/{DefaultModel}, a small CTMSR trained for this demo, found beside the tool). " +
                          "The released model: download CTMSR.pth yourself and pass it here (params_ema is used), or convert it once with " +
                          "`ctmsr convert CTMSR.pth ctmsr_x4.safetensors` and pass that (loads faster)",
        };
        var seed = new Option<ulong>("--seed") { Description = "degradation and noise seed", DefaultValueFactory = _ => DemoRun.DefaultSeed };
        var device = DeviceOption.Create();
        var cmd = new Command("demo", "super-resolve a built-in synthetic test card and write a side-by-side comparison PNG (no download needed)")
            { output, weights, seed, device };
        cmd.SetGuardedAction(r =>
        {
            string outPath = r.GetValue(output)!;
            if (!outPath.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"-o {outPath}: the demo writes a PNG; give a name ending in .png");
            string w = r.GetValue(weights)?.FullName ?? FindDefaultModel()
                ?? throw new FileNotFoundException($"the demo model models/{DefaultModel} is not beside the tool or in the working directory; pass --weights W (a .safetensors, or the released CTMSR.pth)");
            if (!File.Exists(w)) throw new FileNotFoundException($"{w}: no such weights file; pass a .safetensors or the released CTMSR.pth to --weights");
            ulong s = r.GetValue(seed);
            var sw = Stopwatch.StartNew();
            using var up = Upscaler.Load(w, DeviceOption.Open(r.GetValue(device)), new UpscaleOptions { Seed = s });
            Console.Error.WriteLine($"model {Path.GetFileName(w)} ({up.Config}) on {up.DeviceName}, loaded in {sw.Elapsed.TotalSeconds:0.0} s");
            sw.Restart();
            Console.Error.WriteLine($"degrading the {TestCard.Width}x{TestCard.Height} test card (seed {s}) and upscaling it x{up.Config.Scale} ...");
            var result = DemoRun.Run(up, s, Path.GetFileName(w));
            ImageCodec.Save(result.Sheet, outPath, 8);
            Console.WriteLine($"test card {result.Hr.Width}x{result.Hr.Height}, LR {result.Lr.Width}x{result.Lr.Height} (Real-ESRGAN degradation, seed {s})");
            Console.WriteLine($"bicubic: {result.BicubicScores}");
            Console.WriteLine($"CTMSR:   {result.SrScores}");
            Console.WriteLine($"wrote {Path.GetFullPath(outPath)} ({result.Sheet.Width}x{result.Sheet.Height}: LR | bicubic | CTMSR | HR) in {sw.Elapsed.TotalSeconds:0.0} s");
            return 0;
        });
        return cmd;
    }

    /// <summary>models/ctmsr-tiny.safetensors under the working directory, the tool's folder, or one of their parents (the repository root).</summary>
    static string? FindDefaultModel()
    {
        foreach (var root in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var d = new DirectoryInfo(root); d is not null; d = d.Parent)
            {
                var cand = Path.Combine(d.FullName, "models", DefaultModel);
                if (File.Exists(cand)) return cand;
            }
        return null;
    }
}
