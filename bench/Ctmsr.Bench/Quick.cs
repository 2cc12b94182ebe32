using System.Diagnostics;
using System.Globalization;
using Ctmsr.Kernels;
using Ctmsr.Kernels.Cpu;

namespace Ctmsr.Bench;

/// <summary>
/// Non-BenchmarkDotNet timing: best-of-repeats GFLOP/s for our SGEMM and conv against OpenBLAS (same process,
/// same thread count) and, when /usr/bin/python3 can import torch, PyTorch's CPU conv (bench/torch_conv.py).
/// Usage: quick [gemm|conv] [--repeat N]; the table keeps each row's best over N passes (shared machines).
/// </summary>
static class Quick
{
    public static readonly int[] GemmSizes = [256, 512, 1024, 2048];
    static int[] GemmSizesUsed = GemmSizes;

    /// <summary>CTMSR-relevant conv shapes (batch 1), the 64->64 128x128 reference shape, and two LPIPS AlexNet layers.</summary>
    public static readonly ConvShape[] ConvShapes =
    [
        new(1, 64, 128, 128, 64, 3, 1, 1),
        new(1, 192, 64, 64, 192, 3, 1, 1),
        new(1, 192, 32, 32, 192, 3, 1, 1),
        new(1, 384, 16, 16, 384, 3, 1, 1),
        new(1, 384, 8, 8, 384, 3, 1, 1),
        new(1, 192, 64, 64, 768, 1, 1, 0),
        new(1, 768, 64, 64, 192, 1, 1, 0),
        new(1, 3, 224, 224, 64, 11, 4, 2),
        new(1, 64, 27, 27, 192, 5, 1, 2),
    ];

    static float[] Rand(long n, int seed)
    {
        var r = new Random(seed); var x = new float[n];
        for (long i = 0; i < n; i++) x[i] = (float)(r.NextDouble() * 2 - 1);
        return x;
    }

    /// <summary>Best seconds per call over `rounds` rounds of enough calls to fill ~budget seconds.</summary>
    static double s_budget = 0.4;
    static int s_rounds = 8;

    public static double Time(Action f) => Time(f, s_budget, s_rounds);

    public static double Time(Action f, double budget, int rounds)
    {
        f();
        var sw = Stopwatch.StartNew(); f(); double one = Math.Max(sw.Elapsed.TotalSeconds, 1e-6);
        int reps = Math.Max(1, (int)(budget / rounds / one));
        double best = double.MaxValue;
        for (int r = 0; r < rounds; r++)
        {
            sw.Restart();
            for (int i = 0; i < reps; i++) f();
            best = Math.Min(best, sw.Elapsed.TotalSeconds / reps);
        }
        return best;
    }

    static void Best(Dictionary<string, double> d, string key, double v)
    {
        if (double.IsNaN(v)) return;
        d[key] = d.TryGetValue(key, out var old) ? Math.Max(old, v) : v;
    }

    public static int Run(string[] args)
    {
        int threads = Environment.ProcessorCount;
        bool blas = OpenBlas.Available;
        if (blas) OpenBlas.SetThreads(threads);
        bool gemm = !args.Contains("conv"), conv = !args.Contains("gemm");
        int repeat = 1;
        int ri = Array.IndexOf(args, "--repeat");
        if (ri >= 0 && ri + 1 < args.Length) repeat = int.Parse(args[ri + 1], CultureInfo.InvariantCulture);
        int rr = Array.IndexOf(args, "--rounds"); // many short rounds find the quiet moments of a shared machine
        if (rr >= 0 && rr + 1 < args.Length) { s_rounds = int.Parse(args[rr + 1], CultureInfo.InvariantCulture); s_budget = 0.05 * s_rounds; }
        int oi = Array.IndexOf(args, "--only"); // conv shape indices, e.g. --only 0,4
        var only = oi >= 0 && oi + 1 < args.Length ? args[oi + 1].Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToHashSet() : null;
        bool torchOn = !args.Contains("--no-torch");
        int si = Array.IndexOf(args, "--sizes");
        if (si >= 0 && si + 1 < args.Length) GemmSizesUsed = args[si + 1].Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();

        var gemmCases = new List<(string name, bool ta, bool tb, int n)>();
        foreach (int n in GemmSizesUsed) gemmCases.Add(($"sgemm NN {n}", false, false, n));
        gemmCases.Add(("sgemm TN 1024", true, false, 1024));
        gemmCases.Add(("sgemm NT 1024", false, true, 1024));
        gemmCases.Add(("sgemm TT 1024", true, true, 1024));
        var best = new Dictionary<string, double>();
        double peak = 0;
        for (int rep = 0; rep < repeat; rep++)
        {
            if (gemm || blas)
                foreach (var (name, ta, tb, n) in gemmCases)
                {
                    if (!gemm && n != 2048) continue; // conv-only runs still measure the peak
                    var a = Rand((long)n * n, 1); var b = Rand((long)n * n, 2); var c = new float[(long)n * n];
                    double flops = 2.0 * n * n * n;
                    if (gemm) Best(best, "ours " + name, flops / Time(() => CpuGemm.Sgemm(ta, tb, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n)) / 1e9);
                    if (blas)
                    {
                        double g = flops / Time(() => OpenBlas.Sgemm(ta, tb, n, n, n, 1f, a, n, b, n, 0f, c, n)) / 1e9;
                        Best(best, "blas " + name, g);
                        if (n >= 1024) peak = Math.Max(peak, g);
                    }
                }
            if (conv)
            {
                var torch = torchOn ? TorchConv.Measure(ConvShapes) : null;
                for (int i = 0; i < ConvShapes.Length; i++)
                {
                    var s = ConvShapes[i];
                    if (only is not null && !only.Contains(i)) continue;
                    var x = Rand((long)s.N * s.Cin * s.H * s.W, 1);
                    var w = Rand((long)s.Cout * s.Cin * s.K * s.K, 2);
                    var bias = Rand(s.Cout, 3);
                    var y = new float[(long)s.N * s.Cout * s.OutH * s.OutW];
                    var dw = new float[w.Length]; var db = new float[s.Cout]; var dx = new float[x.Length];
                    double f = s.Flops;
                    Best(best, $"fwd {i}", f / Time(() => CpuConv.Forward(s, x, w, bias, y)) / 1e9);
                    Best(best, $"bd {i}", f / Time(() => CpuConv.BackwardData(s, y, w, dx, false)) / 1e9);
                    Best(best, $"bw {i}", f / Time(() => CpuConv.BackwardWeight(s, x, y, dw, db)) / 1e9);
                    if (torch is not null)
                    {
                        Best(best, $"tfwd {i}", torch[i].fwd); Best(best, $"tbd {i}", torch[i].bwdData); Best(best, $"tbw {i}", torch[i].bwdWeight);
                    }
                }
            }
        }
        if (peak == 0) peak = double.NaN;
        double G(string key) => best.TryGetValue(key, out var v) ? v : double.NaN;
        static string F(double v) => double.IsNaN(v) ? "-" : v.ToString("F1", CultureInfo.InvariantCulture);
        static string R(double v) => double.IsNaN(v) ? "-" : v.ToString("F2", CultureInfo.InvariantCulture);

        Console.WriteLine($"# Quick kernels benchmark ({threads} threads, Vector512 {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}, OpenBLAS {(blas ? "yes" : "absent")}, best of {repeat} pass(es))");
        Console.WriteLine();
        Console.WriteLine($"Peak = best OpenBLAS SGEMM (n >= 1024) this run: {F(peak)} GFLOP/s");
        if (gemm)
        {
            Console.WriteLine();
            Console.WriteLine("| op | ours GFLOP/s | OpenBLAS GFLOP/s | ours / OpenBLAS | ours / peak |");
            Console.WriteLine("|---|---:|---:|---:|---:|");
            foreach (var (name, _, _, _) in gemmCases)
                Console.WriteLine($"| {name} | {F(G("ours " + name))} | {F(G("blas " + name))} | {R(G("ours " + name) / G("blas " + name))} | {R(G("ours " + name) / peak)} |");
        }
        if (conv)
        {
            Console.WriteLine();
            Console.WriteLine("| conv N,Cin,H,W -> Cout, K/s/p | fwd | bwd-data | bwd-weight | torch fwd | torch bwd-data | torch bwd-weight | fwd / torch | fwd / peak |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            for (int i = 0; i < ConvShapes.Length; i++)
            {
                var s = ConvShapes[i];
                Console.WriteLine($"| {s.N},{s.Cin},{s.H},{s.W} -> {s.Cout}, {s.K}/{s.Stride}/{s.Pad} | {F(G($"fwd {i}"))} | {F(G($"bd {i}"))} | {F(G($"bw {i}"))} | {F(G($"tfwd {i}"))} | {F(G($"tbd {i}"))} | {F(G($"tbw {i}"))} | {R(G($"fwd {i}") / G($"tfwd {i}"))} | {R(G($"fwd {i}") / peak)} |");
            }
            Console.WriteLine();
            Console.WriteLine("(conv columns in GFLOP/s, 2 N Cout OH OW Cin K K flops per pass)");
        }
        return 0;
    }
}
