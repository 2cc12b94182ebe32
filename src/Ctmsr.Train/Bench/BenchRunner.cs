using System.Text.Json.Nodes;
using Ctmsr.Kernels;

namespace Ctmsr.Train.Bench;

/// <summary>
/// Runs `ctmsr bench`: per device, the measured peaks, the kernel cases and the whole-model cases, each
/// followed by the same case in the PyTorch twin (a subprocess: all kernels in one, one process per model
/// case so its ru_maxrss growth is its own). Ours and the twin's never run at the same time.
/// </summary>
public static class BenchRunner
{
    static readonly TimeSpan KernelTimeout = TimeSpan.FromMinutes(20), ModelTimeout = TimeSpan.FromMinutes(60);

    public static BenchResult Run(BenchOptions o)
    {
        o.Validate();
        var result = new BenchResult
        {
            Options = o,
            Machine = $"{Environment.ProcessorCount} logical CPUs, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}, {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}",
            LoadBefore = LoadAverage(),
            Started = DateTime.Now,
        };
        TorchTwin? twin = null;
        if (o.Torch)
        {
            twin = TorchTwin.Find(o.Python, out var note);
            if (twin is null) result.Notes.Add(note);
            else result.TorchVersion = twin.Version;
        }
        else result.Notes.Add("PyTorch comparison off (--no-torch)");

        foreach (var spec in o.Devices)
        {
            Backend be;
            try { be = Devices.Create(spec); }
            catch (DeviceUnavailableException e) when (o.Devices.Count > 1)
            {
                result.Notes.Add($"{spec} skipped: {e.Message}");
                continue;
            }
            using (be)
                result.Devices.Add(RunDevice(be, spec, o, twin));
        }
        result.LoadAfter = LoadAverage();
        return result;
    }

    static DeviceReport RunDevice(Backend be, string spec, BenchOptions o, TorchTwin? twin)
    {
        o.Log?.Invoke($"{spec}: measuring the peak ({be.Description})");
        var report = new DeviceReport { Spec = spec, Description = be.Description, Peak = DevicePeak.Measure(be, o.Repeat) };
        string torchDevice = spec.StartsWith("cuda", StringComparison.OrdinalIgnoreCase) ? "cuda" : "cpu";
        if (twin is not null) report.TorchDevice = torchDevice;
        JsonObject Request(IEnumerable<JsonObject> cases) => new()
        {
            ["threads"] = Environment.ProcessorCount, ["repeat"] = o.Repeat, ["warmup"] = o.Warmup, ["min_seconds"] = o.KernelBudget, ["device"] = torchDevice,
            ["cases"] = new JsonArray(cases.Select(c => (JsonNode)c.DeepClone()).ToArray()),
        };

        if (o.Kernels)
        {
            var cases = KernelCases.For(o.Config, o.Batches[0], o.LrSize, o.GemmSizes);
            foreach (var c in cases)
            {
                o.Log?.Invoke($"{spec}: {c.Op} {c.Shape} {c.Pass}");
                var owned = new List<DeviceBuffer>();
                try
                {
                    var run = c.Setup(be, owned);
                    var times = BenchTimer.Rounds(run, be.Synchronize, o.Repeat, o.KernelBudget);
                    report.Rows.Add(new BenchRow { Section = "kernels", Op = c.Op, Shape = c.Shape, Pass = c.Pass, Flops = c.Flops, Bytes = c.Bytes, Times = times });
                }
                finally { foreach (var b in owned) b.Dispose(); }
            }
            if (twin is not null)
            {
                o.Log?.Invoke($"{spec}: the same kernels in PyTorch {twin.Version} ({torchDevice})");
                var rows = report.Rows.Where(r => r.Section == "kernels").ToList();
                try
                {
                    var answer = twin.Run(Request(cases.Select(c => c.Torch)), KernelTimeout);
                    var results = answer["results"]!.AsArray();
                    for (int i = 0; i < rows.Count && i < results.Count; i++) rows[i].TorchTimes = Times(results[i]!);
                    if (answer["device"]?.GetValue<string>() is { } d) report.TorchDevice = d;
                }
                catch (TorchTwinException e) { report.Notes.Add($"PyTorch kernels failed: {e.Message}"); }
            }
        }

        if (o.Model)
        {
            foreach (var train in new[] { false, true })
                foreach (int batch in o.Batches)
                {
                    string what = train ? "train step" : "forward";
                    var cost = ModelCost.Of(o.Config, batch, o.LrSize, o.LrSize);
                    o.Log?.Invoke($"{spec}: {what} {o.ConfigName} batch {batch} LR {o.LrSize} ({(train ? cost.TrainStep : cost.Forward) / 1e9:F0} GFLOP)");
                    var m = train ? ModelBench.TrainStep(be, o.Config, batch, o.LrSize, o.Repeat, o.Warmup) : ModelBench.Forward(be, o.Config, batch, o.LrSize, o.Repeat, o.Warmup);
                    int hr = o.LrSize * o.Config.Scale;
                    var row = new BenchRow
                    {
                        Section = "model", Op = what, Pass = train ? "fwd+bwd+AdamW" : "fwd",
                        Shape = $"{o.ConfigName}, batch {batch}, LR {o.LrSize}x{o.LrSize} -> {hr}x{hr}",
                        Flops = train ? cost.TrainStep : cost.Forward, Times = m.Times, PeakBytes = m.PeakBytesInUse, PoolBytes = m.PoolBytesHeld,
                    };
                    report.Rows.Add(row);
                    if (twin is null) continue;
                    o.Log?.Invoke($"{spec}: the same {what} in PyTorch");
                    var c = new JsonObject
                    {
                        ["kind"] = train ? "train" : "forward", ["batch"] = batch, ["lr"] = o.LrSize,
                        ["config"] = new JsonObject
                        {
                            ["model_channels"] = o.Config.ModelChannels, ["channel_mult"] = new JsonArray(o.Config.ChannelMult.Select(v => (JsonNode)v).ToArray()),
                            ["num_blocks"] = o.Config.NumBlocks, ["embed_dim"] = o.Config.EmbedDim, ["num_heads"] = o.Config.NumHeads,
                            ["window_size"] = o.Config.WindowSize, ["mlp_ratio"] = o.Config.MlpRatio, ["dropout"] = o.Config.Dropout, ["scale"] = o.Config.Scale,
                        },
                    };
                    try
                    {
                        var r = twin.Run(Request([c]), ModelTimeout)["results"]!.AsArray()[0]!;
                        row.TorchTimes = Times(r);
                        row.TorchPeakBytes = r["peak_bytes"]?.GetValue<long>();
                        row.TorchMemory = r["memory"]?.GetValue<string>();
                    }
                    catch (TorchTwinException e) { report.Notes.Add($"PyTorch {what} batch {batch} failed: {e.Message}"); }
                }
        }
        return report;
    }

    static double[] Times(JsonNode r) => r["times"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();

    /// <summary>/proc/loadavg's first three fields (how busy the shared machine was), or "" elsewhere.</summary>
    public static string LoadAverage()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return ""; }
        catch (UnauthorizedAccessException) { return ""; }
    }
}
