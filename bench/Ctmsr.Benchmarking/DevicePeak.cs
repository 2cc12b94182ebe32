using Ctmsr.Kernels;
using Ctmsr.Kernels.Cpu;

namespace Ctmsr.Benchmarking;

/// <summary>
/// The device's measured limits in this run, the denominators of "of peak": compute (GFLOP/s) and
/// memory bandwidth (GB/s). Each is the best of its rounds (a peak is a maximum).
/// </summary>
public sealed record DevicePeak(double Gflops, string GflopsMethod, double GBs, string GBsMethod)
{
    /// <summary>
    /// CPU: the FMA-throughput microkernel on every core. Other backends: their own GEMM at 2048^3 (so the
    /// GEMM rows read ~100% by construction). Bandwidth everywhere: y = a x + b z over 64 MiB vectors
    /// (12 bytes per element).
    /// </summary>
    public static DevicePeak Measure(Backend be, int rounds)
    {
        rounds = Math.Max(1, rounds);
        double gf;
        string how;
        if (be is CpuBackend)
        {
            int threads = Ctmsr.Kernels.Cpu.CpuThreads.Limit;
            gf = Enumerable.Range(0, rounds).Max(_ => CpuFmaProbe.Gflops(threads, 0.1));
            how = $"{CpuFmaProbe.VectorBits}-bit FMA microkernel, {threads} threads, best of {rounds}";
        }
        else
        {
            const int n = 2048;
            var owned = new List<DeviceBuffer>();
            try
            {
                var gemm = KernelCases.Gemm("peak", false, false, n, n, n);
                var run = gemm.Setup(be, owned);
                var t = BenchTimer.Rounds(run, be.Synchronize, rounds, 0.5);
                gf = gemm.Flops / t.Min() / 1e9;
            }
            finally { foreach (var b in owned) b.Dispose(); }
            how = $"the backend's own SGEMM {n}^3, best of {rounds}";
        }
        const long count = 1L << 24;
        double gbs;
        using (var x = be.Allocate(count))
        using (var z = be.Allocate(count))
        using (var y = be.Allocate(count))
        {
            be.FillUniform(count, 1, 0, x); be.FillUniform(count, 2, 0, z);
            var t = BenchTimer.Rounds(() => be.AddScaled(count, 0.5f, x, 0.25f, z, y), be.Synchronize, rounds, 0.3);
            gbs = FlopCount.AxpbyBytes(count) / t.Min() / 1e9;
        }
        return new DevicePeak(gf, how, gbs, $"y = a x + b z over 3 x {count * 4 >> 20} MiB, best of {rounds}");
    }
}
