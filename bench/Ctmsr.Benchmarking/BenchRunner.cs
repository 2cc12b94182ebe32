using System.Text.Json.Nodes;
using Ctmsr.Kernels;
using Ctmsr.Model.Network;
using Microsoft.ML.OnnxRuntime;

namespace Ctmsr.Benchmarking;

/// <summary>
/// Runs `ctmsr bench`: per device, the measured peaks, the kernel cases and the whole-model cases, each
/// compared with the same case in the PyTorch twin (a subprocess). Kernels: one `serve.py --lines` session
/// whose rounds alternate with ours. Model cases: one process per case, run after ours (both models would not
/// fit in memory together, and the process's RSS high-water mark is then the case's own). Ours and the
/// twin's never run at the same time.
/// </summary>
public static class BenchRunner
{
    static readonly TimeSpan ModelTimeout = TimeSpan.FromMinutes(60);

    public static BenchResult Run(BenchOptions o)
    {
        o.Validate();
        var result = new BenchResult
        {
            Options = o,
            Machine = $"{Environment.ProcessorCount} logical CPUs (threads used: {Ctmsr.Kernels.Cpu.CpuThreads.Limit}), {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}, {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}",
            LoadBefore = LoadAverage(),
            Started = DateTime.Now,
        };
        TorchTwin? twin = null;
        if (o.Profile) result.Notes.Add("per-op profile of the model cases (--profile); kernels, the PyTorch twin and ONNX Runtime not run");
        else if (o.Torch)
        {
            twin = TorchTwin.Find(o.Python, out var note);
            if (twin is null) result.Notes.Add(note);
            else result.TorchVersion = twin.Version;
        }
        else result.Notes.Add("PyTorch comparison off (--no-torch)");

        foreach (var spec in o.Devices)
        {
            Backend be;
            try { be = Devices.Create(spec, o.Precision); }
            catch (Exception e) when (o.Devices.Count > 1 && e is DeviceUnavailableException or ArgumentException)
            {
                result.Notes.Add($"{spec} skipped: {e.Message}");
                continue;
            }
            using (be)
                result.Devices.Add(RunDevice(be, spec, o, twin));
        }
        result.LoadAfter = LoadAverage();
        if (result.Devices.Any(d => d.Rows.Any(x => x.OnnxTimes is not null))) result.OnnxVersion = OnnxRuntimePeer.Version;
        return result;
    }

    /// <summary>Idle milliseconds before each kernel round while the twin alternates with us: each engine's worker threads
    /// spin for a while after its last call (PyTorch's OpenMP team, .NET's thread pool), and on a machine with as many
    /// cores as threads they took the next round's cores from the other engine. Measured on the 2-core machine, GroupNorm
    /// backward at 1x192x64^2: ours 0.216 ms alternating with no gap, 0.138 ms without the twin, 0.136 ms with the twin
    /// told not to spin (OMP_WAIT_POLICY=PASSIVE, which made PyTorch's own 0.159 ms 0.411 ms: not a fair setting); with
    /// this gap 0.170 ms (0.165 PyTorch), with 300 ms 0.151 (0.166). At most one round long (short test runs).</summary>
    const int RoundGapMs = 100;

    static DeviceReport RunDevice(Backend be, string spec, BenchOptions o, TorchTwin? twin)
    {
        o.Log?.Invoke($"{spec}: measuring the peak ({be.Description})");
        var report = new DeviceReport { Spec = spec, Description = be.Description, Peak = DevicePeak.Measure(be, o.Repeat) };
        string torchDevice = spec.StartsWith("cuda", StringComparison.OrdinalIgnoreCase) ? "cuda" : "cpu";
        if (twin is not null) report.TorchDevice = torchDevice;
        JsonObject Request(IEnumerable<JsonObject> cases) => new()
        {
            ["threads"] = Ctmsr.Kernels.Cpu.CpuThreads.Limit, ["repeat"] = o.Repeat, ["warmup"] = o.Warmup, ["min_seconds"] = o.KernelBudget, ["device"] = torchDevice,
            ["cases"] = new JsonArray(cases.Select(c => (JsonNode)c.DeepClone()).ToArray()),
        };

        if (o.Profile)
        {
            foreach (var train in new[] { false, true })
                foreach (int batch in o.Batches)
                {
                    string what = train ? "train step" : "forward";
                    o.Log?.Invoke($"{spec}: profiling the {what}, {o.ConfigName} batch {batch} LR {o.LrSize}");
                    var p = ModelBench.Profile(be, o.Config, batch, o.LrSize, o.Repeat, o.Warmup, train);
                    int hr = o.LrSize * o.Config.Scale;
                    report.Profiles.Add(new ProfileRow(what, $"{o.ConfigName}, batch {batch}, LR {o.LrSize}x{o.LrSize} -> {hr}x{hr}", p));
                }
            return report;
        }

        if (o.Kernels)
        {
            // our rounds and the twin's alternate (ours, torch, ours, ...), so a load swing on a shared machine hits both
            TwinSession? session = null;
            if (twin is not null)
            {
                try { session = twin.OpenSession(Ctmsr.Kernels.Cpu.CpuThreads.Limit, torchDevice); report.TorchDevice = session.Device; }
                catch (TorchTwinException e) { report.Notes.Add($"PyTorch kernels skipped: {e.Message}"); }
            }
            try
            {
                foreach (var c in KernelCases.For(o.Config, o.Batches[0], o.LrSize, o.GemmSizes))
                {
                    o.Log?.Invoke($"{spec}: {c.Op} {c.Shape} {c.Pass}");
                    var owned = new List<DeviceBuffer>();
                    try
                    {
                        double roundSeconds = o.KernelBudget / o.Repeat;
                        var ours = new RoundTimer(c.Setup(be, owned), be.Synchronize, roundSeconds);
                        var times = new double[o.Repeat];
                        double[]? torchTimes = null;
                        try
                        {
                            session?.Setup(c.Torch, roundSeconds);
                            if (session is not null) torchTimes = new double[o.Repeat];
                            int gap = (int)Math.Min(RoundGapMs, roundSeconds * 1000);
                            for (int r = 0; r < o.Repeat; r++)
                            {
                                if (torchTimes is not null) Thread.Sleep(gap);
                                times[r] = ours.Round();
                                if (torchTimes is null) continue;
                                Thread.Sleep(gap);
                                torchTimes[r] = session!.Round();
                            }
                        }
                        catch (TorchTwinException e)
                        {
                            report.Notes.Add($"PyTorch stopped at {c.Op} {c.Shape} {c.Pass}: {e.Message}");
                            session!.Dispose(); session = null; torchTimes = null;
                            for (int r = 0; r < o.Repeat; r++) times[r] = ours.Round();
                        }
                        report.Rows.Add(new BenchRow
                        {
                            Section = "kernels", Op = c.Op, Shape = c.Shape, Pass = c.Pass, Flops = c.Flops, Bytes = c.Bytes, Times = times, TorchTimes = torchTimes,
                        });
                    }
                    finally { foreach (var b in owned) b.Dispose(); }
                }
            }
            finally { session?.Dispose(); }
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
                        Flops = train ? cost.TrainStep : cost.Forward, Times = m.Times, PeakBytes = m.RssPeakBytes, PoolPeakBytes = m.PeakBytesInUse, PoolBytes = m.PoolBytesHeld,
                    };
                    report.Rows.Add(row);
                    if (!train && o.Onnx && spec.StartsWith("cpu", StringComparison.OrdinalIgnoreCase)) RunOnnx(row, twin, o, batch, report);
                    if (twin is null) continue;
                    o.Log?.Invoke($"{spec}: the same {what} in PyTorch");
                    var c = new JsonObject
                    {
                        ["kind"] = train ? "train" : "forward", ["batch"] = batch, ["lr"] = o.LrSize,
                        ["config"] = TwinConfig(o.Config),
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

    /// <summary>The twin's Config fields (bench/twin/ctmsr_twin.py) for our configuration.</summary>
    static JsonObject TwinConfig(CtmsrConfig c) => new()
    {
        ["model_channels"] = c.ModelChannels, ["channel_mult"] = new JsonArray(c.ChannelMult.Select(v => (JsonNode)v).ToArray()),
        ["num_blocks"] = c.NumBlocks, ["embed_dim"] = c.EmbedDim, ["num_heads"] = c.NumHeads,
        ["window_size"] = c.WindowSize, ["mlp_ratio"] = c.MlpRatio, ["dropout"] = c.Dropout, ["scale"] = c.Scale,
    };

    /// <summary>The same forward on ONNX Runtime, right after ours, on the same number of threads.</summary>
    static void RunOnnx(BenchRow row, TorchTwin? twin, BenchOptions o, int batch, DeviceReport report)
    {
        if (twin is null) { report.Notes.Add("ONNX Runtime skipped: its graph is exported by the PyTorch twin, which is not available"); return; }
        try
        {
            o.Log?.Invoke($"ONNX Runtime {OnnxRuntimePeer.Version}: the same forward (exporting the graph once per shape)");
            string onnx = OnnxRuntimePeer.Export(twin, TwinConfig(o.Config), batch, o.LrSize, ModelTimeout);
            var (times, peak) = OnnxRuntimePeer.Forward(onnx, batch, o.LrSize, o.Config.Scale, Ctmsr.Kernels.Cpu.CpuThreads.Limit, o.Repeat, o.Warmup);
            row.OnnxTimes = times;
            row.OnnxPeakBytes = peak;
        }
        catch (Exception e) when (e is TorchTwinException or OnnxRuntimeException)
        {
            report.Notes.Add($"ONNX Runtime forward batch {batch} failed: {e.Message}");
        }
        finally { GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true); }
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
