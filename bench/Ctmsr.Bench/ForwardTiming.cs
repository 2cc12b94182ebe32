using System.Diagnostics;
using System.Globalization;
using Ctmsr.Benchmarking;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Model.Network;

namespace Ctmsr.Bench;

/// <summary>
/// `forward [x4|small|tiny] [--lr N] [--repeat N] [--onnx GRAPH [--rounds N]]`: the model forward alone on the CPU (ModelBench.Forward: eval mode, no
/// tape), each step's wall ms and the process's CPU ms a step over the timed steps. On a shared machine the CPU time
/// is the steadier A/B signal of two builds (it counts the work done, not the time spent waiting for a core).
/// </summary>
static class ForwardTiming
{
    public static int Run(string[] args)
    {
        var cfg = args.Contains("small") ? CtmsrConfig.Small : args.Contains("tiny") ? CtmsrConfig.Tiny : CtmsrConfig.X4;
        int Opt(string name, int dflt) { int i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : dflt; }
        int lr = Opt("--lr", 64), repeat = Opt("--repeat", 5);
        using var be = new CpuBackend();
        var proc = Process.GetCurrentProcess();
        ModelBench.Forward(be, cfg, 1, lr, 1, 1); // weights, JIT and pools warm
        proc.Refresh();
        var cpu0 = proc.TotalProcessorTime;
        var m = ModelBench.Forward(be, cfg, 1, lr, repeat, 0);
        proc.Refresh();
        double cpuMs = (proc.TotalProcessorTime - cpu0).TotalMilliseconds / repeat;
        var t = m.Times.Select(x => x * 1000).OrderBy(x => x).ToArray();
        Console.WriteLine(FormattableString.Invariant($"forward LR {lr}: wall median {t[t.Length / 2]:0} ms, min {t[0]:0} ms, cpu {cpuMs:0} ms a step (steps: {string.Join(" ", m.Times.Select(x => (x * 1000).ToString("0", CultureInfo.InvariantCulture)))}); load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}"));
        // --onnx GRAPH (the bench's export of the same config, ~/.cache/ctmsr/onnx): rounds of two of our steps then two of
        // ONNX Runtime's (2 intra-op threads, its own warm-up each round), the ratio per round
        int oi = Array.IndexOf(args, "--onnx");
        if (oi >= 0 && oi + 1 < args.Length)
        {
            var ratios = new List<double>();
            for (int r = 0; r < Opt("--rounds", 4); r++)
            {
                double ours = ModelBench.Forward(be, cfg, 1, lr, 2, 0).Times.Min();
                double ort = OnnxRuntimePeer.Forward(args[oi + 1], 1, lr, cfg.Scale, CpuThreads.Limit, 2, 1).Times.Min();
                ratios.Add(ours / ort);
                Console.WriteLine(FormattableString.Invariant($"round {r}: ours {ours * 1000:0} ms, ORT {ort * 1000:0} ms, ours / ORT {ours / ort:0.000}; load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}"));
            }
            ratios.Sort();
            Console.WriteLine(FormattableString.Invariant($"ours / ORT (best of two steps each, per round): median {ratios[ratios.Count / 2]:0.000}, range {ratios[0]:0.000}-{ratios[^1]:0.000}"));
        }
        return 0;
    }
}
