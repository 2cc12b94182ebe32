using System.Diagnostics;
using Ctmsr.Kernels;
using Ctmsr.Kernels.Cpu;

namespace Ctmsr.Bench;

/// <summary>
/// Non-BenchmarkDotNet timing: best-of-repeats GFLOP/s for our SGEMM and conv against OpenBLAS (same process,
/// same threads) and, when /usr/bin/python3 can import torch, PyTorch's CPU conv (bench/torch_conv.py).
/// </summary>
static class Quick
{
    public static readonly int[] GemmSizes = [256, 512, 1024, 2048];

    /// <summary>CTMSR-relevant conv shapes (batch 1) plus the 64->64 128x128 reference shape.</summary>
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
    public static double Time(Action f, double budget = 0.3, int rounds = 5)
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

    public static int Run(string[] args)
    {
        int threads = Environment.ProcessorCount;
        bool blas = OpenBlas.Available;
        if (blas) OpenBlas.SetThreads(threads);
        bool gemmOnly = args.Contains("gemm"), convOnly = args.Contains("conv");
        Console.WriteLine($"# Quick kernels benchmark ({threads} threads, Vector512 {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}, OpenBLAS {(blas ? "yes" : "absent")})");
        Console.WriteLine();
        double peak = 0;
        var rows = new List<(string name, double ours, double theirs)>();
        if (!convOnly)
        {
            foreach (bool ta in new[] { false, true })
                foreach (int n in GemmSizes)
                {
                    if (ta && n < 1024) continue;
                    var a = Rand((long)n * n, 1); var b = Rand((long)n * n, 2); var c = new float[(long)n * n];
                    double flops = 2.0 * n * n * n;
                    double ours = flops / Time(() => CpuGemm.Sgemm(ta, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n)) / 1e9;
                    double theirs = blas ? flops / Time(() => OpenBlas.Sgemm(ta, false, n, n, n, 1f, a, n, b, n, 0f, c, n)) / 1e9 : double.NaN;
                    if (!double.IsNaN(theirs)) peak = Math.Max(peak, theirs);
                    rows.Add(($"sgemm {(ta ? "TN" : "NN")} {n}", ours, theirs));
                }
            foreach (bool tb in new[] { true })
            {
                int n = 1024;
                var a = Rand((long)n * n, 1); var b = Rand((long)n * n, 2); var c = new float[(long)n * n];
                double flops = 2.0 * n * n * n;
                double ours = flops / Time(() => CpuGemm.Sgemm(false, tb, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n)) / 1e9;
                double theirs = blas ? flops / Time(() => OpenBlas.Sgemm(false, tb, n, n, n, 1f, a, n, b, n, 0f, c, n)) / 1e9 : double.NaN;
                rows.Add(($"sgemm NT {n}", ours, theirs));
            }
        }
        if (peak == 0 && blas)
        {
            int n = 2048;
            var a = Rand((long)n * n, 1); var b = Rand((long)n * n, 2); var c = new float[(long)n * n];
            peak = 2.0 * n * n * n / Time(() => OpenBlas.Sgemm(false, false, n, n, n, 1f, a, n, b, n, 0f, c, n)) / 1e9;
        }
        if (peak == 0) peak = double.NaN;
        Console.WriteLine("| op | ours GFLOP/s | OpenBLAS GFLOP/s | ratio | ours / peak |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var (name, ours, theirs) in rows)
            Console.WriteLine($"| {name} | {ours:F1} | {theirs:F1} | {ours / theirs:F2} | {ours / peak:F2} |");
        Console.WriteLine();
        Console.WriteLine($"peak (best OpenBLAS SGEMM this run): {peak:F1} GFLOP/s");
        if (!gemmOnly) ConvTable(peak);
        return 0;
    }

    static void ConvTable(double peak)
    {
        var torch = TorchConv.Measure(ConvShapes);
        Console.WriteLine();
        Console.WriteLine("| conv (N,Cin,H,W -> Cout, K/s/p) | fwd GFLOP/s | bwd-data GFLOP/s | bwd-weight GFLOP/s | torch fwd | torch bwd-data | torch bwd-weight | fwd ratio | fwd / peak |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (int i = 0; i < ConvShapes.Length; i++)
        {
            var s = ConvShapes[i];
            var x = Rand((long)s.N * s.Cin * s.H * s.W, 1);
            var w = Rand((long)s.Cout * s.Cin * s.K * s.K, 2);
            var bias = Rand(s.Cout, 3);
            var y = new float[(long)s.N * s.Cout * s.OutH * s.OutW];
            var dw = new float[w.Length]; var db = new float[s.Cout]; var dx = new float[x.Length];
            double f = s.Flops;
            double fwd = f / Time(() => CpuConv.Forward(s, x, w, bias, y)) / 1e9;
            double bd = f / Time(() => CpuConv.BackwardData(s, y, w, dx, false)) / 1e9;
            double bw = f / Time(() => CpuConv.BackwardWeight(s, x, y, dw, db)) / 1e9;
            var t = torch?[i];
            string T(double v) => double.IsNaN(v) ? "-" : v.ToString("F1");
            Console.WriteLine($"| {s.N},{s.Cin},{s.H},{s.W} -> {s.Cout}, {s.K}/{s.Stride}/{s.Pad} | {fwd:F1} | {bd:F1} | {bw:F1} | {T(t?.fwd ?? double.NaN)} | {T(t?.bwdData ?? double.NaN)} | {T(t?.bwdWeight ?? double.NaN)} | {T(fwd / (t?.fwd ?? double.NaN))} | {fwd / peak:F2} |");
        }
    }
}
