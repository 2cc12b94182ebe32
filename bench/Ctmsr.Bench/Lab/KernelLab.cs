using System.Diagnostics;
using System.Globalization;

namespace Ctmsr.Bench.Lab;

/// <summary>
/// `lab [kernel] [variant]`: numbered variants of a kernel side by side, each validated against the float64 reference
/// and then timed (median of several runs) at the model's shapes. Without arguments it lists the kernels and variants.
/// </summary>
public static class KernelLab
{
    public static readonly IReadOnlyList<LabKernel> Kernels = [new GroupNormBackwardLab(), new GroupNormSiluLab(), new GeluLab(), new AttentionLab(), new ConvSmallLab(), new WinogradLab(), new WinogradWeightGradLab(), new WinogradSmallLab(), new StridedConvLab()];

    public static int Run(string[] args)
    {
        int ti = Array.IndexOf(args, "--threads");
        if (ti >= 0)
        {
            if (ti + 1 >= args.Length || !int.TryParse(args[ti + 1], out int threads) || threads < 1)
            {
                Console.Error.WriteLine("lab: --threads needs a count of at least 1 (e.g. --threads 1)");
                return 2;
            }
            Ctmsr.Kernels.Cpu.CpuThreads.Limit = threads; // on a shared machine one thread's timings are the steadier
            args = [.. args[..ti], .. args[(ti + 2)..]];
        }
        if (args.Length == 0 || args[0] is "-h" or "--help" or "list")
        {
            Console.WriteLine("usage: lab <kernel> [variant|all] [shape index] [--threads N]   (validate against the float64 reference, then time)");
            foreach (var k in Kernels)
            {
                Console.WriteLine($"{k.Name}: {k.Math}");
                foreach (var v in k.Variants) Console.WriteLine($"  {v.Number}  {v.Name}: {v.Description}");
            }
            return args.Length == 0 ? 2 : 0;
        }
        var kernel = Kernels.FirstOrDefault(k => k.Name == args[0]);
        if (kernel is null)
        {
            Console.Error.WriteLine($"unknown lab kernel '{args[0]}': use one of {string.Join(", ", Kernels.Select(k => k.Name))}");
            return 2;
        }
        IEnumerable<LabVariant> variants = kernel.Variants;
        int? onlyShape = null;
        if (args.Length > 2)
        {
            if (!int.TryParse(args[2], out int si) || si < 0 || si >= kernel.Shapes.Count)
            {
                Console.Error.WriteLine($"{kernel.Name} has shapes 0..{kernel.Shapes.Count - 1}, not '{args[2]}'");
                return 2;
            }
            onlyShape = si;
        }
        if (args.Length > 1 && args[1] != "all")
        {
            if (!int.TryParse(args[1], out int n) || kernel.Variants.All(v => v.Number != n))
            {
                Console.Error.WriteLine($"{kernel.Name} has variants {string.Join(", ", kernel.Variants.Select(v => v.Number))}, not '{args[1]}'");
                return 2;
            }
            variants = kernel.Variants.Where(v => v.Number == n);
        }
        Console.WriteLine($"## lab {kernel.Name}: {kernel.Math}");
        Console.WriteLine($"{Environment.ProcessorCount} threads; error bound {kernel.Tolerance:0e0} relative L2 against the float64 reference; median of the timed runs");
        Console.WriteLine();
        string rate = kernel.CountsFlops ? "GFLOP/s" : "GB/s";
        Console.WriteLine($"| shape | variant | rel L2 | ms | cpu ms | {rate} | vs 1 |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|");
        bool allValid = true;
        for (int s = 0; s < kernel.Shapes.Count; s++)
        {
            if (onlyShape is { } only && s != only) continue;
            var c = kernel.Prepare(s);
            double? baseline = null;
            foreach (var v in variants)
            {
                double err = c.Check(v.Number);
                if (!(err < kernel.Tolerance))
                {
                    allValid = false;
                    Console.WriteLine($"| {kernel.Shapes[s]} | {v.Number} {v.Name} | {err:E1} FAIL | - | - | - | - |");
                    continue;
                }
                var (ms, cpuMs) = TimeMs(() => c.Run(v.Number));
                if (v.Number == 1) baseline = ms;
                string vs = baseline is { } b ? (b / ms).ToString("0.00", CultureInfo.InvariantCulture) + "x" : "-";
                Console.WriteLine($"| {kernel.Shapes[s]} | {v.Number} {v.Name} | {err:E1} | {ms:F3} | {cpuMs:F3} | {(kernel.CountsFlops ? c.Flops : c.Bytes) / ms / 1e6:F1} | {vs} |");
            }
        }
        return allValid ? 0 : 1;
    }

    /// <summary>Median milliseconds of at least 5 runs and about 0.5 s, after 0.2 s (at least 3 runs) of warm-up so the
    /// JIT's tiered compilation has promoted the variant's loops; and the median process CPU time of a run (all threads),
    /// which on a shared, loaded machine varies less than the wall time.</summary>
    static (double Ms, double CpuMs) TimeMs(Action run)
    {
        var process = Process.GetCurrentProcess();
        var warm = Stopwatch.StartNew();
        for (int i = 0; i < 3 || warm.Elapsed.TotalSeconds < 0.2; i++) run();
        var times = new List<double>();
        var cpu = new List<double>();
        var total = Stopwatch.StartNew();
        while (times.Count < 5 || (total.Elapsed.TotalSeconds < 0.5 && times.Count < 200))
        {
            process.Refresh();
            var c0 = process.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            run();
            times.Add(sw.Elapsed.TotalMilliseconds);
            process.Refresh();
            cpu.Add((process.TotalProcessorTime - c0).TotalMilliseconds);
        }
        times.Sort();
        cpu.Sort();
        return (times[times.Count / 2], cpu[cpu.Count / 2]);
    }
}
