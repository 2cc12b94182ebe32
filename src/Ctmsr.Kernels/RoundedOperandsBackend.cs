namespace Ctmsr.Kernels;

/// <summary>
/// A numerical model of the tensor-core path on any backend: GEMM and the three convolution passes see their two
/// multiplied operands rounded to TF32 or bfloat16 (<see cref="Precision.RoundTf32"/> / <see cref="Precision.RoundBf16"/>,
/// the same rounding as the kernels' cvt) and then run in float32 on the inner backend. mma.sync with float32
/// accumulation multiplies exactly those rounded operands and adds the products in float32, so this reproduces its
/// numbers up to the order of the float32 additions. Everything else (bias, GroupNorm, attention, the bias gradient)
/// stays float32, as on the GPU. Slow (operands go through the host): for measuring accuracy, not for speed.
/// </summary>
public sealed class RoundedOperandsBackend(Backend inner, MatmulPrecision precision, bool ownsInner = true) : ForwardingBackend(inner, ownsInner)
{
    MatmulPrecision current = precision;
    int calls;

    /// <summary>GEMM and convolution calls made through this backend so far (the n of the accuracy bound's sqrt(n)).</summary>
    public int MatmulCalls => Volatile.Read(ref calls);

    public override string Name => $"{Inner.Name}+{Kernels.Precision.Name(current)}-emulated";
    public override string Description => $"{Inner.Description}; GEMM/convolution operands rounded to {Kernels.Precision.Name(current)} (tensor-core emulation)";
    public override MatmulPrecision Precision => current;
    public override string? PrecisionUnsupported(MatmulPrecision p) => null;
    public override void SetPrecision(MatmulPrecision p) => current = p;

    /// <summary>A copy of the whole of <paramref name="b"/>, rounded (the caller disposes it).</summary>
    DeviceBuffer Rounded(DeviceBuffer b)
    {
        var host = new float[b.Length];
        Inner.Download(b, host);
        Kernels.Precision.Round(current, host);
        var r = Inner.Allocate(b.Length);
        Inner.Upload(host, r);
        return r;
    }

    public override void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, DeviceBuffer a, long offA, int lda, long strideA,
        DeviceBuffer b, long offB, int ldb, long strideB, float beta, DeviceBuffer c, long offC, int ldc, long strideC, int batch)
    {
        Interlocked.Increment(ref calls);
        if (current == MatmulPrecision.Fp32) { base.Gemm(transA, transB, m, n, k, alpha, a, offA, lda, strideA, b, offB, ldb, strideB, beta, c, offC, ldc, strideC, batch); return; }
        using var ra = Rounded(a);
        using var rb = Rounded(b);
        base.Gemm(transA, transB, m, n, k, alpha, ra, offA, lda, strideA, rb, offB, ldb, strideB, beta, c, offC, ldc, strideC, batch);
    }

    public override void Conv2dForward(in ConvShape s, DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, DeviceBuffer y)
    {
        Interlocked.Increment(ref calls);
        if (current == MatmulPrecision.Fp32) { base.Conv2dForward(s, x, w, bias, y); return; }
        using var rx = Rounded(x);
        using var rw = Rounded(w);
        base.Conv2dForward(s, rx, rw, bias, y);
    }

    public override void Conv2dActForward(in ConvShape s, DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, DeviceBuffer y, Activation act, float slope)
    {
        if (current == MatmulPrecision.Fp32) { Interlocked.Increment(ref calls); base.Conv2dActForward(s, x, w, bias, y, act, slope); return; }
        Conv2dForward(s, x, w, bias, y); // rounds its operands
        if (act != Activation.Identity) ActivationForward(act, slope, s.OutputLength(), y, y);
    }

    public override void Conv2dUpsample2xForward(in ConvShape s, DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, DeviceBuffer y)
    {
        Interlocked.Increment(ref calls);
        if (current == MatmulPrecision.Fp32) { base.Conv2dUpsample2xForward(s, x, w, bias, y); return; }
        // rounding commutes with the upsampling (it copies elements)
        using var rx = Rounded(x);
        using var rw = Rounded(w);
        base.Conv2dUpsample2xForward(s, rx, rw, bias, y);
    }

    public override void Conv2dBackwardData(in ConvShape s, DeviceBuffer dy, DeviceBuffer w, DeviceBuffer dx, bool accumulate)
    {
        Interlocked.Increment(ref calls);
        if (current == MatmulPrecision.Fp32) { base.Conv2dBackwardData(s, dy, w, dx, accumulate); return; }
        using var rdy = Rounded(dy);
        using var rw = Rounded(w);
        base.Conv2dBackwardData(s, rdy, rw, dx, accumulate);
    }

    public override void Conv2dBackwardWeight(in ConvShape s, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw, DeviceBuffer? db)
    {
        Interlocked.Increment(ref calls);
        if (current == MatmulPrecision.Fp32) { base.Conv2dBackwardWeight(s, x, dy, dw, db); return; }
        using (var rx = Rounded(x))
        using (var rdy = Rounded(dy))
            base.Conv2dBackwardWeight(s, rx, rdy, dw, null);
        if (db is null) return;
        // the bias gradient is a plain float32 sum of dy (no multiplication): db[co] += sum over n and pixels
        long pixels = (long)s.OutH * s.OutW;
        using var perPlane = Inner.Allocate((long)s.N * s.Cout);
        Inner.SumInner(s.N * s.Cout, pixels, dy, perPlane, accumulate: false);
        Inner.SumRows(s.N, s.Cout, perPlane, db, accumulate: true);
    }
}
