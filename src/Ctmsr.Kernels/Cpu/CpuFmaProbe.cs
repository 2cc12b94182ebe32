using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// Measures the processor's float32 FMA throughput: every thread runs 16 independent chains
/// acc_i = acc_i * b + c over the widest accelerated vector (512 or 256 bits), so the FMA pipes stay full
/// whatever their latency (4 cycles x 2 pipes needs 8 chains; 16 leaves room). Per iteration:
/// 16 FMAs x lanes x 2 FLOPs. This is the "peak" that `ctmsr bench` divides by on the CPU.
/// </summary>
public static class CpuFmaProbe
{
    const int Chains = 16;

    /// <summary>Vector width used, in bits.</summary>
    public static int VectorBits => Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : 128;

    /// <summary>GFLOP/s of <paramref name="threads"/> threads running the FMA loop together for about <paramref name="seconds"/>.</summary>
    public static double Gflops(int threads, double seconds)
    {
        threads = Math.Max(1, threads);
        long iters = 1 << 16;
        Run(threads, iters); // warm-up and JIT
        var sw = Stopwatch.StartNew();
        Run(threads, iters);
        double one = Math.Max(sw.Elapsed.TotalSeconds, 1e-6);
        iters = Math.Max(iters, (long)(iters * seconds / one));
        sw.Restart();
        Run(threads, iters);
        double t = sw.Elapsed.TotalSeconds;
        double flops = (double)threads * iters * Chains * (VectorBits / 32) * 2;
        return flops / t / 1e9;
    }

    static void Run(int threads, long iters)
    {
        if (threads == 1) { Sink(Loop(iters)); return; }
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ => Sink(Loop(iters)));
    }

    static float _sink;
    static void Sink(float v) => _sink += v * 0f;

    static float Loop(long iters) =>
        Vector512.IsHardwareAccelerated ? Loop512(iters) : Vector256.IsHardwareAccelerated ? Loop256(iters) : Loop128(iters);

    [MethodImpl(MethodImplOptions.NoInlining)]
    static float Loop512(long iters)
    {
        var b = Vector512.Create(0.9999999f); var c = Vector512.Create(1e-7f);
        Vector512<float> a0 = Vector512.Create(1f), a1 = a0 + c, a2 = a1 + c, a3 = a2 + c, a4 = a3 + c, a5 = a4 + c, a6 = a5 + c, a7 = a6 + c,
            a8 = a7 + c, a9 = a8 + c, a10 = a9 + c, a11 = a10 + c, a12 = a11 + c, a13 = a12 + c, a14 = a13 + c, a15 = a14 + c;
        for (long i = 0; i < iters; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, b, c); a1 = Vector512.FusedMultiplyAdd(a1, b, c);
            a2 = Vector512.FusedMultiplyAdd(a2, b, c); a3 = Vector512.FusedMultiplyAdd(a3, b, c);
            a4 = Vector512.FusedMultiplyAdd(a4, b, c); a5 = Vector512.FusedMultiplyAdd(a5, b, c);
            a6 = Vector512.FusedMultiplyAdd(a6, b, c); a7 = Vector512.FusedMultiplyAdd(a7, b, c);
            a8 = Vector512.FusedMultiplyAdd(a8, b, c); a9 = Vector512.FusedMultiplyAdd(a9, b, c);
            a10 = Vector512.FusedMultiplyAdd(a10, b, c); a11 = Vector512.FusedMultiplyAdd(a11, b, c);
            a12 = Vector512.FusedMultiplyAdd(a12, b, c); a13 = Vector512.FusedMultiplyAdd(a13, b, c);
            a14 = Vector512.FusedMultiplyAdd(a14, b, c); a15 = Vector512.FusedMultiplyAdd(a15, b, c);
        }
        var s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15;
        return Vector512.Sum(s);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static float Loop256(long iters)
    {
        var b = Vector256.Create(0.9999999f); var c = Vector256.Create(1e-7f);
        Vector256<float> a0 = Vector256.Create(1f), a1 = a0 + c, a2 = a1 + c, a3 = a2 + c, a4 = a3 + c, a5 = a4 + c, a6 = a5 + c, a7 = a6 + c,
            a8 = a7 + c, a9 = a8 + c, a10 = a9 + c, a11 = a10 + c, a12 = a11 + c, a13 = a12 + c, a14 = a13 + c, a15 = a14 + c;
        for (long i = 0; i < iters; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, b, c); a1 = Vector256.FusedMultiplyAdd(a1, b, c);
            a2 = Vector256.FusedMultiplyAdd(a2, b, c); a3 = Vector256.FusedMultiplyAdd(a3, b, c);
            a4 = Vector256.FusedMultiplyAdd(a4, b, c); a5 = Vector256.FusedMultiplyAdd(a5, b, c);
            a6 = Vector256.FusedMultiplyAdd(a6, b, c); a7 = Vector256.FusedMultiplyAdd(a7, b, c);
            a8 = Vector256.FusedMultiplyAdd(a8, b, c); a9 = Vector256.FusedMultiplyAdd(a9, b, c);
            a10 = Vector256.FusedMultiplyAdd(a10, b, c); a11 = Vector256.FusedMultiplyAdd(a11, b, c);
            a12 = Vector256.FusedMultiplyAdd(a12, b, c); a13 = Vector256.FusedMultiplyAdd(a13, b, c);
            a14 = Vector256.FusedMultiplyAdd(a14, b, c); a15 = Vector256.FusedMultiplyAdd(a15, b, c);
        }
        var s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15;
        return Vector256.Sum(s);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static float Loop128(long iters)
    {
        var b = Vector128.Create(0.9999999f); var c = Vector128.Create(1e-7f);
        Vector128<float> a0 = Vector128.Create(1f), a1 = a0 + c, a2 = a1 + c, a3 = a2 + c, a4 = a3 + c, a5 = a4 + c, a6 = a5 + c, a7 = a6 + c,
            a8 = a7 + c, a9 = a8 + c, a10 = a9 + c, a11 = a10 + c, a12 = a11 + c, a13 = a12 + c, a14 = a13 + c, a15 = a14 + c;
        for (long i = 0; i < iters; i++)
        {
            a0 = Vector128.FusedMultiplyAdd(a0, b, c); a1 = Vector128.FusedMultiplyAdd(a1, b, c);
            a2 = Vector128.FusedMultiplyAdd(a2, b, c); a3 = Vector128.FusedMultiplyAdd(a3, b, c);
            a4 = Vector128.FusedMultiplyAdd(a4, b, c); a5 = Vector128.FusedMultiplyAdd(a5, b, c);
            a6 = Vector128.FusedMultiplyAdd(a6, b, c); a7 = Vector128.FusedMultiplyAdd(a7, b, c);
            a8 = Vector128.FusedMultiplyAdd(a8, b, c); a9 = Vector128.FusedMultiplyAdd(a9, b, c);
            a10 = Vector128.FusedMultiplyAdd(a10, b, c); a11 = Vector128.FusedMultiplyAdd(a11, b, c);
            a12 = Vector128.FusedMultiplyAdd(a12, b, c); a13 = Vector128.FusedMultiplyAdd(a13, b, c);
            a14 = Vector128.FusedMultiplyAdd(a14, b, c); a15 = Vector128.FusedMultiplyAdd(a15, b, c);
        }
        var s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15;
        return Vector128.Sum(s);
    }
}
