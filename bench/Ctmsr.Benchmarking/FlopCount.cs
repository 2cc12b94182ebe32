using Ctmsr.Kernels;

namespace Ctmsr.Benchmarking;

/// <summary>
/// Analytic operation counts for the benchmarked kernels. A multiply-add is 2 FLOPs; only the
/// matrix products are counted (the softmax, bias adds and normalisation arithmetic are O(1) per
/// element and left out), so GFLOP/s is comparable with a GEMM's. Memory-bound kernels are measured in
/// bytes: the minimum traffic (every input read once, every output written once, float32).
/// </summary>
public static class FlopCount
{
    /// <summary>C[m,n] = op(A)[m,k] op(B)[k,n]: 2 m n k.</summary>
    public static double Gemm(long m, long n, long k) => 2.0 * m * n * k;

    /// <summary>Forward, backward-data and backward-weight each: 2 N Cout OH OW Cin K K.</summary>
    public static double Conv(in ConvShape s) => 2.0 * s.N * s.Cout * s.OutH * s.OutW * s.Cin * s.K * s.K;

    /// <summary>Window attention forward: per window and head, S = q k^T (2 T^2 d) and O = P v (2 T^2 d).</summary>
    public static double AttentionForward(long windows, int ws, int heads, int d)
    {
        long t = (long)ws * ws;
        return 4.0 * windows * heads * t * t * d;
    }

    /// <summary>Backward: dV = P^T dO, dP = dO v^T, dq = dS k, dk = dS^T q: four products of 2 T^2 d.</summary>
    public static double AttentionBackward(long windows, int ws, int heads, int d) => 2 * AttentionForward(windows, ws, heads, d);

    /// <summary>GroupNorm forward traffic: read x, write y (gamma/beta negligible).</summary>
    public static double GroupNormForwardBytes(long count) => 8.0 * count;

    /// <summary>GroupNorm backward traffic: read x and dy, write dx.</summary>
    public static double GroupNormBackwardBytes(long count) => 12.0 * count;

    /// <summary>y = a x + b z: read two, write one.</summary>
    public static double AxpbyBytes(long count) => 12.0 * count;
}
