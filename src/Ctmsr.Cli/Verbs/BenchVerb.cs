using System.CommandLine;
using Ctmsr.Kernels;
using Ctmsr.Model.Network;
using Ctmsr.Benchmarking;

namespace Ctmsr.Cli.Verbs;

/// <summary>
/// `ctmsr bench [--device D|all] [--what kernels|model|all] [--config x4|small] [--batch N] [--lr N]
/// [--torch|--no-torch] [--json] [--repeat R] [--chart FILE.png] [--profile]`: times kernels and the whole model on each backend against the
/// measured peak and the PyTorch twin (bench/twin). Markdown on stdout (JSON with --json), progress on stderr.
/// </summary>
static class BenchVerb
{
    public static Command Create()
    {
        var device = new Option<string?>("--device") { Description = $"auto, {DeviceRegistry.SpecForms()}, several separated by commas (e.g. opencl,opencl-c: ILGPU next to the C dialect), or all (every device `ctmsr devices` lists but the float64 reference); default: $CTMSR_DEVICE, else cpu" };
        var precision = PrecisionOption.Create();
        var what = new Option<string>("--what") { Description = "kernels, model or all", DefaultValueFactory = _ => "all" };
        var config = new Option<string>("--config") { Description = "x4 (the released model), small (the fixture's) or tiny (the shipped model's)", DefaultValueFactory = _ => "x4" };
        var batch = new Option<int?>("--batch") { Description = "batch size (default: kernels at 1, model cases at 1 and 4)" };
        var lr = new Option<int>("--lr") { Description = "LR side in pixels, a multiple of 64 (HR = 4x)", DefaultValueFactory = _ => 64 };
        var torch = new Option<bool>("--torch") { Description = "compare with the PyTorch twin when python3 can import torch (the default)" };
        var noTorch = new Option<bool>("--no-torch") { Description = "do not run the PyTorch twin" };
        var noOnnx = new Option<bool>("--no-onnx") { Description = "do not run the model forward on ONNX Runtime (on by default on the CPU; its graph is exported through the twin, so it needs python3-torch)" };
        var json = new Option<bool>("--json") { Description = "print JSON instead of Markdown tables" };
        var repeat = new Option<int>("--repeat") { Description = "timed rounds per kernel and timed steps per model case; the median is reported", DefaultValueFactory = _ => 5 };
        var warmup = new Option<int>("--warmup") { Description = "untimed steps before each model case's timed ones (0 saves a step on slow machines)", DefaultValueFactory = _ => 1 };
        var gemm = new Option<string>("--gemm") { Description = "square GEMM sizes, comma-separated", DefaultValueFactory = _ => "512,1024,2048" };
        var budget = new Option<double>("--budget") { Description = "seconds spent timing each kernel over all its rounds", DefaultValueFactory = _ => 1.0 };
        var chart = new Option<string?>("--chart") { Description = "also draw the results as a PNG bar chart to this file: PyTorch time over ours per case (or the fraction of the peak without the twin)" };
        var threads = ThreadsOption.Create(); // also the PyTorch twin's and ONNX Runtime's thread count, so the engines compare
        var profile = new Option<bool>("--profile") { Description = "instead of timing against the peers, profile the model forward and train step per op: calls, ms, share of the step, GFLOP/s or GB/s (batch 1 unless --batch)" };
        var cmd = new Command("bench", "time kernels and the CTMSR model on each backend: GFLOP/s, fraction of the measured peak, peak resident memory, and the PyTorch twin and ONNX Runtime on the same shapes")
        {
            device, precision, what, config, batch, lr, torch, noTorch, noOnnx, json, repeat, warmup, gemm, budget, chart, threads, profile,
        };
        cmd.SetGuardedAction(r =>
        {
            ThreadsOption.Apply(r, threads);
            string w = r.GetValue(what)!.Trim().ToLowerInvariant();
            if (w is not ("kernels" or "model" or "all")) throw new ArgumentException($"--what {w}: use kernels, model or all");
            string cfgName = r.GetValue(config)!.Trim().ToLowerInvariant();
            var cfg = cfgName switch
            {
                "x4" => CtmsrConfig.X4,
                "small" => CtmsrConfig.Small,
                "tiny" => CtmsrConfig.Tiny,
                _ => throw new ArgumentException($"--config {cfgName}: use x4, small or tiny"),
            };
            if (r.GetValue(torch) && r.GetValue(noTorch)) throw new ArgumentException("--torch and --no-torch together; pass one");
            var chartPath = r.GetValue(chart);
            if (chartPath is not null && !chartPath.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"--chart {chartPath}: the chart is a PNG; give a file name ending in .png");
            int[] sizes;
            try { sizes = r.GetValue(gemm)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray(); }
            catch (FormatException) { throw new ArgumentException($"--gemm '{r.GetValue(gemm)}': give sizes as integers separated by commas, e.g. 512,1024"); }
            var spec = r.GetValue(device);
            var prec = Precision.Parse(r.GetValue(precision));
            IReadOnlyList<string> devices;
            if (string.Equals(spec?.Trim(), "all", StringComparison.OrdinalIgnoreCase)) devices = DeviceRegistry.Enumerate().Where(e => !e.Provider.Oracle).SelectMany(e => e.Found.Devices).Select(d => d.Spec).ToList();
            else
            {
                if (string.IsNullOrWhiteSpace(spec)) spec = Environment.GetEnvironmentVariable(Devices.EnvVar);
                if (string.IsNullOrWhiteSpace(spec)) spec = "cpu";
                devices = spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                // open each once here so a bad --device (or, for one device, a precision it cannot run) fails with the usual
                // one-line message before any timing; in a list, a device that refuses the precision is skipped with a note
                foreach (var d in devices) using (DeviceOption.Open(d, devices.Count == 1 ? r.GetValue(precision) : null)) { }
            }
            var b = r.GetValue(batch);
            bool prof = r.GetValue(profile);
            if (prof && chartPath is not null) throw new ArgumentException("--chart draws the timed cases, which --profile does not run; pass one of them");
            var options = new BenchOptions
            {
                Devices = devices,
                Precision = prec,
                Kernels = w is "kernels" or "all",
                Model = w is "model" or "all",
                ConfigName = cfgName,
                Config = cfg,
                Batches = b is { } n ? [n] : prof ? [1] : [1, 4],
                Profile = prof,
                LrSize = r.GetValue(lr),
                Repeat = r.GetValue(repeat),
                Warmup = r.GetValue(warmup),
                KernelBudget = r.GetValue(budget),
                GemmSizes = sizes,
                Torch = !r.GetValue(noTorch),
                Onnx = !r.GetValue(noOnnx),
                Log = m => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {m}"),
            };
            var result = BenchRunner.Run(options);
            Console.Out.Write(r.GetValue(json) ? BenchReport.Json(result) + Environment.NewLine : BenchReport.Markdown(result));
            if (chartPath is not null) AtomicFile.WriteAllBytes(chartPath, BenchChart.RenderPng(result));
            return 0;
        });
        return cmd;
    }
}
