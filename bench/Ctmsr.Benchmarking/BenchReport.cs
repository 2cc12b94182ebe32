using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ctmsr.Benchmarking;

/// <summary>Renders a <see cref="BenchResult"/> as Markdown tables (stdout) or JSON (--json).</summary>
public static class BenchReport
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    static string N(double v, string fmt) => double.IsFinite(v) ? v.ToString(fmt, Inv) : "-";
    static string N(double? v, string fmt) => v is { } x ? N(x, fmt) : "-";
    static string Ms(double? s) => s is { } x ? N(x * 1e3, x < 0.01 ? "F3" : x < 1 ? "F2" : "F0") : "-";
    static string Pct(double v) => double.IsFinite(v) ? N(100 * v, "F0") + "%" : "-";
    static string Ratio(double? v) => v is { } x ? N(x, "F2") + "x" : "-";
    static string Mib(long? b) => b is { } x ? N(x / 1048576.0, "F0") + " MiB" : "-";

    public static string Markdown(BenchResult r)
    {
        var o = r.Options;
        var sb = new StringBuilder();
        sb.AppendLine($"# ctmsr bench ({r.Started:yyyy-MM-dd HH:mm})");
        sb.AppendLine();
        sb.AppendLine($"Machine: {r.Machine}; load average {r.LoadBefore} before, {r.LoadAfter} after.");
        sb.AppendLine($"Config {o.ConfigName} ({o.Config}); GEMM/convolution precision {Ctmsr.Kernels.Precision.Name(o.Precision)}; kernels at batch {o.Batches[0]}, LR {o.LrSize}x{o.LrSize}; " +
                      $"median of {o.Repeat} {(o.Repeat == 1 ? "round" : "rounds")} (kernels: per-call time of rounds sharing a {N(o.KernelBudget, "0.##")} s budget; model: single steps after {o.Warmup} untimed {(o.Warmup == 1 ? "step" : "steps")}).");
        sb.AppendLine(r.TorchVersion is null ? "PyTorch: not measured." : $"PyTorch {r.TorchVersion} twin (bench/twin), {Ctmsr.Kernels.Cpu.CpuThreads.Limit} threads, timed in the same run (kernel rounds alternate with ours; model cases right after ours); \"vs torch\" = torch time / our time (above 1: we are faster).");
        if (r.OnnxVersion is not null)
            sb.AppendLine($"ONNX Runtime {r.OnnxVersion} (CPU provider, the twin's graph exported with opset 16 and fixed shapes), {Ctmsr.Kernels.Cpu.CpuThreads.Limit} intra-op threads, forward right after ours; \"vs ORT\" = ORT time / our time.");
        foreach (var n in r.Notes) sb.AppendLine($"Note: {n}");
        foreach (var d in r.Devices)
        {
            sb.AppendLine();
            sb.AppendLine($"## {d.Spec}: {d.Description}");
            sb.AppendLine();
            sb.AppendLine($"Measured peak: {N(d.Peak.Gflops, "F0")} GFLOP/s ({d.Peak.GflopsMethod}); {N(d.Peak.GBs, "F1")} GB/s ({d.Peak.GBsMethod}).");
            if (d.TorchDevice is not null) sb.AppendLine($"Twin on torch device '{d.TorchDevice}'.");
            foreach (var n in d.Notes) sb.AppendLine($"Note: {n}");
            var kernels = d.Rows.Where(x => x.Section == "kernels").ToList();
            if (kernels.Count > 0)
            {
                sb.AppendLine();
                sb.AppendLine("| op | shape | pass | ms | GFLOP/s | GB/s | of peak | torch ms | torch GFLOP/s | vs torch |");
                sb.AppendLine("|---|---|---|---:|---:|---:|---:|---:|---:|---:|");
                foreach (var x in kernels)
                {
                    double? tg = x.TorchSeconds is { } ts && !x.MemoryBound ? x.Flops / ts / 1e9 : null;
                    sb.AppendLine($"| {x.Op} | {x.Shape} | {x.Pass} | {Ms(x.Seconds)} | {(x.MemoryBound ? "-" : N(x.Gflops, "F1"))} | {(x.MemoryBound ? N(x.GBs, "F1") : "-")} | " +
                                  $"{Pct(x.FractionOfPeak(d.Peak))} | {Ms(x.TorchSeconds)} | {N(tg, "F1")} | {Ratio(x.SpeedVsTorch)} |");
                }
                sb.AppendLine();
                sb.AppendLine("FLOPs count matrix products only (2 per multiply-add); GroupNorm is memory-bound: GB/s of its minimum traffic (x read, y written; backward x and dy read, dx written), \"of peak\" against the measured bandwidth.");
            }
            foreach (var p in d.Profiles) Profile(sb, p);
            var model = d.Rows.Where(x => x.Section == "model").ToList();
            if (model.Count > 0)
            {
                sb.AppendLine();
                sb.AppendLine("| case | shape | GFLOP | ms | GFLOP/s | of peak | torch ms | vs torch | ORT ms | vs ORT | peak RSS ours | peak RSS torch | peak RSS ORT | pool peak (ours) |");
                sb.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
                foreach (var x in model)
                    sb.AppendLine($"| {x.Op} | {x.Shape} | {N(x.Flops / 1e9, "F0")} | {Ms(x.Seconds)} | {N(x.Gflops, "F1")} | {Pct(x.FractionOfPeak(d.Peak))} | {Ms(x.TorchSeconds)} | {Ratio(x.SpeedVsTorch)} | {Ms(x.OnnxSeconds)} | {Ratio(x.SpeedVsOnnx)} | {Mib(x.PeakBytes)} | {Mib(x.TorchPeakBytes)} | {Mib(x.OnnxPeakBytes)} | {Mib(x.PoolPeakBytes)} |");
                sb.AppendLine();
                sb.AppendLine("Model GFLOP: convs, linears and attention products counted from the config (ModelCost); a train step = target forward + forward + backward (2x forward). " +
                              "Train step: the CT step with the Charbonnier loss only (no LPIPS) and AdamW, dropout on, in both engines. " +
                              $"Peak RSS (every engine): {RssWatch.Method}, weights and optimiser state included" +
                              (model.Select(x => x.TorchMemory).FirstOrDefault(m => m is not null) is { } tm ? $" (torch: {tm})" : "") + ". " +
                              "Pool peak (ours): the buffer pool's high-water mark of bytes in use (CPU conv scratch outside the pool not included).");
            }
        }
        return sb.ToString();
    }

    /// <summary>One profiled case: per step, each op's calls, milliseconds and share of the step's wall time, with the
    /// host time outside the ops as its own line; GFLOP/s where the op counts FLOPs, GB/s of its minimum traffic otherwise.</summary>
    static void Profile(StringBuilder sb, ProfileRow row)
    {
        var p = row.Profile;
        double step = p.StepSeconds;
        sb.AppendLine();
        sb.AppendLine($"### profile: {row.Case}, {row.Shape}");
        sb.AppendLine();
        sb.AppendLine($"Per step, mean of {p.Steps} profiled {(p.Steps == 1 ? "step" : "steps")}: {Ms(step)} ms wall, {Ms(p.OpSeconds)} ms inside ops ({Pct(p.OpSeconds / step)}); " +
                      (p.Synchronized ? "each op bracketed by device synchronisation (GPU: execution times)." : "ops not synchronised (GPU: enqueue times)."));
        sb.AppendLine();
        sb.AppendLine("| op | calls | total ms | share | GFLOP/s | GB/s |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var o in p.Ops)
            sb.AppendLine($"| {o.Op} | {N(o.Calls / (double)p.Steps, "0.#")} | {N(o.Seconds / p.Steps * 1e3, "F2")} | {N(100 * o.Seconds / p.Steps / step, "F1")}% | " +
                          $"{(o.Flops > 0 ? N(o.Gflops, "F1") : "-")} | {(o.Flops == 0 && o.Bytes > 0 ? N(o.GBs, "F1") : "-")} |");
        double host = step - p.OpSeconds;
        sb.AppendLine($"| (host, outside ops) | - | {N(host * 1e3, "F2")} | {N(100 * host / step, "F1")}% | - | - |");
    }

    static JsonObject ProfileJson(ProfileRow row)
    {
        var p = row.Profile;
        return new JsonObject
        {
            ["case"] = row.Case,
            ["shape"] = row.Shape,
            ["steps"] = p.Steps,
            ["step_seconds"] = Finite(p.StepSeconds),
            ["op_seconds"] = Finite(p.OpSeconds),
            ["synchronized"] = p.Synchronized,
            ["times"] = new JsonArray(p.Times.Select(t => (JsonNode)t).ToArray()),
            ["ops"] = new JsonArray(p.Ops.Select(o => (JsonNode)new JsonObject
            {
                ["op"] = o.Op,
                ["calls_per_step"] = o.Calls / (double)p.Steps,
                ["seconds_per_step"] = Finite(o.Seconds / p.Steps),
                ["share"] = Finite(o.Seconds / p.Steps / p.StepSeconds),
                ["flops_per_step"] = o.Flops / p.Steps,
                ["bytes_per_step"] = o.Bytes / p.Steps,
                ["gflops"] = o.Flops > 0 ? Finite(o.Gflops) : null,
                ["gbs"] = o.Flops == 0 && o.Bytes > 0 ? Finite(o.GBs) : null,
            }).ToArray()),
        };
    }

    public static string Json(BenchResult r)
    {
        var o = r.Options;
        var root = new JsonObject
        {
            ["started"] = r.Started.ToString("o", Inv),
            ["machine"] = r.Machine,
            ["load_before"] = r.LoadBefore,
            ["load_after"] = r.LoadAfter,
            ["config"] = o.ConfigName,
            ["lr"] = o.LrSize,
            ["batches"] = new JsonArray(o.Batches.Select(b => (JsonNode)b).ToArray()),
            ["repeat"] = o.Repeat,
            ["warmup"] = o.Warmup,
            ["torch"] = r.TorchVersion,
            ["onnxruntime"] = r.OnnxVersion,
            ["notes"] = new JsonArray(r.Notes.Select(n => (JsonNode)n).ToArray()),
            ["devices"] = new JsonArray(r.Devices.Select(d => (JsonNode)new JsonObject
            {
                ["device"] = d.Spec,
                ["description"] = d.Description,
                ["peak_gflops"] = Finite(d.Peak.Gflops),
                ["peak_method"] = d.Peak.GflopsMethod,
                ["peak_gbs"] = Finite(d.Peak.GBs),
                ["bandwidth_method"] = d.Peak.GBsMethod,
                ["torch_device"] = d.TorchDevice,
                ["notes"] = new JsonArray(d.Notes.Select(n => (JsonNode)n).ToArray()),
                ["profiles"] = new JsonArray(d.Profiles.Select(p => (JsonNode)ProfileJson(p)).ToArray()),
                ["rows"] = new JsonArray(d.Rows.Select(x => (JsonNode)new JsonObject
                {
                    ["section"] = x.Section,
                    ["op"] = x.Op,
                    ["shape"] = x.Shape,
                    ["pass"] = x.Pass,
                    ["flops"] = x.Flops,
                    ["bytes"] = x.Bytes,
                    ["seconds"] = Finite(x.Seconds),
                    ["times"] = new JsonArray(x.Times.Select(t => (JsonNode)t).ToArray()),
                    ["gflops"] = x.MemoryBound ? null : Finite(x.Gflops),
                    ["gbs"] = x.MemoryBound ? Finite(x.GBs) : null,
                    ["fraction_of_peak"] = Finite(x.FractionOfPeak(d.Peak)),
                    ["torch_seconds"] = x.TorchSeconds,
                    ["torch_times"] = x.TorchTimes is null ? null : new JsonArray(x.TorchTimes.Select(t => (JsonNode)t).ToArray()),
                    ["speed_vs_torch"] = x.SpeedVsTorch,
                    ["peak_bytes"] = x.PeakBytes,
                    ["pool_peak_bytes"] = x.PoolPeakBytes,
                    ["pool_bytes"] = x.PoolBytes,
                    ["onnx_seconds"] = x.OnnxSeconds,
                    ["onnx_times"] = x.OnnxTimes is null ? null : new JsonArray(x.OnnxTimes.Select(t => (JsonNode)t).ToArray()),
                    ["speed_vs_onnx"] = x.SpeedVsOnnx,
                    ["onnx_peak_bytes"] = x.OnnxPeakBytes,
                    ["torch_peak_bytes"] = x.TorchPeakBytes,
                    ["torch_memory"] = x.TorchMemory,
                }).ToArray()),
            }).ToArray()),
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    static double? Finite(double v) => double.IsFinite(v) ? v : null;
}
