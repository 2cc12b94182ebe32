using System.Diagnostics;

namespace Ctmsr.Kernels;

/// <summary>Calls and wall time of one op (name plus the detail that changes its kernel, e.g. "Conv2dForward 3x3"),
/// with the FLOPs it computed and the bytes it must move at least (each operand read or written once, 4 bytes a float;
/// 0 where the op is compute-bound or has no such count).</summary>
public sealed record OpTiming(string Op, long Calls, double Seconds, double Flops, double Bytes)
{
    public double Gflops => Flops > 0 && Seconds > 0 ? Flops / Seconds / 1e9 : 0;
    public double GBs => Bytes > 0 && Seconds > 0 ? Bytes / Seconds / 1e9 : 0;
}

/// <summary>
/// A decorator that times every op of the catalogue (Stopwatch around the inner call) and counts calls, FLOPs and
/// minimum bytes per op name, for `ctmsr bench --profile`. Results are the inner backend's, unchanged. With
/// <see cref="Synchronizing"/> (the default) it synchronises the device before and after each op, so on a GPU an op's
/// time is its execution, not its enqueue (and the whole run is serialised: shares, not the unprofiled total).
/// Memory management (Allocate) is not timed; Upload, Download and Fill are.
/// </summary>
public sealed class ProfilingBackend(Backend inner, bool ownsInner = false, bool synchronizing = true) : ForwardingBackend(inner, ownsInner)
{
    readonly Dictionary<string, (long Calls, long Ticks, double Flops, double Bytes)> _stats = new();
    readonly Lock _gate = new();

    /// <summary>Whether each op is bracketed by <see cref="Backend.Synchronize"/> (GPU times are execution times).</summary>
    public bool Synchronizing { get; } = synchronizing;

    /// <summary>Per-op totals since the start or the last <see cref="Reset"/>, longest first.</summary>
    public IReadOnlyList<OpTiming> Timings()
    {
        lock (_gate)
            return _stats.Select(kv => new OpTiming(kv.Key, kv.Value.Calls, kv.Value.Ticks / (double)Stopwatch.Frequency, kv.Value.Flops, kv.Value.Bytes))
                .OrderByDescending(t => t.Seconds).ThenBy(t => t.Op, StringComparer.Ordinal).ToList();
    }

    public void Reset() { lock (_gate) _stats.Clear(); }

    void Time(string op, double flops, double bytes, Action run)
    {
        if (Synchronizing) Inner.Synchronize();
        long t0 = Stopwatch.GetTimestamp();
        run();
        if (Synchronizing) Inner.Synchronize();
        long dt = Stopwatch.GetTimestamp() - t0;
        lock (_gate)
        {
            var s = _stats.GetValueOrDefault(op);
            _stats[op] = (s.Calls + 1, s.Ticks + dt, s.Flops + flops, s.Bytes + bytes);
        }
    }

    const double F4 = sizeof(float);
    static double Acc(bool accumulate, double count) => accumulate ? F4 * count : 0;
    static string Kernel(in ConvShape s) => s.Stride == 1 ? $"{s.K}x{s.K}" : $"{s.K}x{s.K}/{s.Stride}";

    public override void Upload(ReadOnlySpan<float> src, DeviceBuffer dst, long dstOffset = 0)
    {
        // a span cannot enter a lambda: timed inline
        if (Synchronizing) Inner.Synchronize();
        long t0 = Stopwatch.GetTimestamp();
        Inner.Upload(src, dst, dstOffset);
        if (Synchronizing) Inner.Synchronize();
        Record("Upload", Stopwatch.GetTimestamp() - t0, F4 * src.Length);
    }

    public override void Download(DeviceBuffer src, Span<float> dst, long srcOffset = 0)
    {
        if (Synchronizing) Inner.Synchronize();
        long t0 = Stopwatch.GetTimestamp();
        Inner.Download(src, dst, srcOffset);
        Record("Download", Stopwatch.GetTimestamp() - t0, F4 * dst.Length);
    }

    void Record(string op, long dt, double bytes)
    {
        lock (_gate)
        {
            var s = _stats.GetValueOrDefault(op);
            _stats[op] = (s.Calls + 1, s.Ticks + dt, s.Flops, s.Bytes + bytes);
        }
    }

    public override void Fill(DeviceBuffer dst, float value, long offset, long count) =>
        Time("Fill", 0, F4 * count, () => Inner.Fill(dst, value, offset, count));

    public override void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, DeviceBuffer a, long offA, int lda, long strideA, DeviceBuffer b, long offB, int ldb, long strideB, float beta, DeviceBuffer c, long offC, int ldc, long strideC, int batch) =>
        Time("Gemm", 2.0 * m * n * k * batch, 0, () => Inner.Gemm(transA, transB, m, n, k, alpha, a, offA, lda, strideA, b, offB, ldb, strideB, beta, c, offC, ldc, strideC, batch));

    public override void Conv2dForward(in ConvShape s, DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, DeviceBuffer y)
    {
        var sh = s;
        Time("Conv2dForward " + Kernel(sh), sh.Flops, 0, () => Inner.Conv2dForward(sh, x, w, bias, y));
    }

    public override void Conv2dActForward(in ConvShape s, DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, DeviceBuffer y, Activation act, float slope)
    {
        var sh = s;
        Time($"Conv2dActForward {Kernel(sh)} {act}", sh.Flops, 0, () => Inner.Conv2dActForward(sh, x, w, bias, y, act, slope));
    }

    public override void Conv2dUpsample2xForward(in ConvShape s, DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, DeviceBuffer y)
    {
        var sh = s;
        Time("Conv2dUpsample2xForward " + Kernel(sh), sh.Flops, 0, () => Inner.Conv2dUpsample2xForward(sh, x, w, bias, y));
    }

    public override void Conv2dBackwardData(in ConvShape s, DeviceBuffer dy, DeviceBuffer w, DeviceBuffer dx, bool accumulate)
    {
        var sh = s;
        Time("Conv2dBackwardData " + Kernel(sh), sh.Flops, 0, () => Inner.Conv2dBackwardData(sh, dy, w, dx, accumulate));
    }

    public override void Conv2dBackwardWeight(in ConvShape s, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw, DeviceBuffer? db)
    {
        var sh = s;
        Time("Conv2dBackwardWeight " + Kernel(sh), sh.Flops, 0, () => Inner.Conv2dBackwardWeight(sh, x, dy, dw, db));
    }

    public override void GroupNormForward(int n, int c, int hw, int groups, float eps, DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta, DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd) =>
        Time("GroupNormForward", 0, 2 * F4 * n * c * hw, () => Inner.GroupNormForward(n, c, hw, groups, eps, x, gamma, beta, y, mean, rstd));

    public override void GroupNormSiluForward(int n, int c, int hw, int groups, float eps, DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta, DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd) =>
        Time("GroupNormSiluForward", 0, 2 * F4 * n * c * hw, () => Inner.GroupNormSiluForward(n, c, hw, groups, eps, x, gamma, beta, y, mean, rstd));

    public override void GroupNormBackward(int n, int c, int hw, int groups, DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer mean, DeviceBuffer rstd, DeviceBuffer dy, DeviceBuffer dx, bool accumulate, DeviceBuffer dgamma, DeviceBuffer dbeta) =>
        Time("GroupNormBackward", 0, 3 * F4 * n * c * hw + Acc(accumulate, (double)n * c * hw), () => Inner.GroupNormBackward(n, c, hw, groups, x, gamma, mean, rstd, dy, dx, accumulate, dgamma, dbeta));

    public override void ActivationForward(Activation act, float slope, long count, DeviceBuffer x, DeviceBuffer y) =>
        Time($"ActivationForward {act}", 0, 2 * F4 * count, () => Inner.ActivationForward(act, slope, count, x, y));

    public override void ActivationBackward(Activation act, float slope, long count, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, bool accumulate) =>
        Time($"ActivationBackward {act}", 0, 3 * F4 * count + Acc(accumulate, count), () => Inner.ActivationBackward(act, slope, count, x, dy, dx, accumulate));

    public override void AddScaled(long count, float a, DeviceBuffer x, float b, DeviceBuffer z, DeviceBuffer y) =>
        Time("AddScaled", 0, 3 * F4 * count, () => Inner.AddScaled(count, a, x, b, z, y));

    public override void Mul(long count, DeviceBuffer x, DeviceBuffer z, DeviceBuffer y, bool accumulate) =>
        Time("Mul", 0, 3 * F4 * count + Acc(accumulate, count), () => Inner.Mul(count, x, z, y, accumulate));

    public override void ScaleOuter(int outer, long inner, DeviceBuffer s, DeviceBuffer x, DeviceBuffer y, bool accumulate) =>
        Time("ScaleOuter", 0, 2 * F4 * outer * inner + Acc(accumulate, (double)outer * inner), () => Inner.ScaleOuter(outer, inner, s, x, y, accumulate));

    public override void AddOuter(int outer, long inner, DeviceBuffer v, DeviceBuffer y) =>
        Time("AddOuter", 0, 2 * F4 * outer * inner, () => Inner.AddOuter(outer, inner, v, y));

    public override void AddInner(int rows, int cols, DeviceBuffer v, DeviceBuffer y) =>
        Time("AddInner", 0, 2 * F4 * rows * cols, () => Inner.AddInner(rows, cols, v, y));

    public override void SumInner(int outer, long inner, DeviceBuffer x, DeviceBuffer y, bool accumulate) =>
        Time("SumInner", 0, F4 * outer * inner, () => Inner.SumInner(outer, inner, x, y, accumulate));

    public override void SumRows(int rows, int cols, DeviceBuffer x, DeviceBuffer y, bool accumulate) =>
        Time("SumRows", 0, F4 * rows * cols, () => Inner.SumRows(rows, cols, x, y, accumulate));

    public override void CharbonnierForward(long count, float eps, DeviceBuffer a, DeviceBuffer b, DeviceBuffer y) =>
        Time("CharbonnierForward", 0, 3 * F4 * count, () => Inner.CharbonnierForward(count, eps, a, b, y));

    public override void CharbonnierBackward(long count, float eps, DeviceBuffer a, DeviceBuffer b, DeviceBuffer dy, DeviceBuffer da, bool accumulate) =>
        Time("CharbonnierBackward", 0, 4 * F4 * count + Acc(accumulate, count), () => Inner.CharbonnierBackward(count, eps, a, b, dy, da, accumulate));

    public override void CopyStrided(ReadOnlySpan<int> shape, DeviceBuffer src, long srcOffset, ReadOnlySpan<long> srcStrides, DeviceBuffer dst, long dstOffset, ReadOnlySpan<long> dstStrides, bool accumulate)
    {
        double count = 1;
        foreach (int d in shape) count *= d;
        int[] sh = shape.ToArray();
        long[] ss = srcStrides.ToArray(), ds = dstStrides.ToArray();
        Time("CopyStrided", 0, 2 * F4 * count + Acc(accumulate, count), () => Inner.CopyStrided(sh, src, srcOffset, ss, dst, dstOffset, ds, accumulate));
    }

    public override void Resample2d(int planes, ResampleAxis rows, ResampleAxis cols, DeviceBuffer x, DeviceBuffer y) =>
        Time("Resample2d", 0, F4 * planes * ((double)rows.InSize * cols.InSize + (double)rows.OutSize * cols.OutSize), () => Inner.Resample2d(planes, rows, cols, x, y));

    public override void Filter2dReflect(int batch, int channels, int h, int w, int k, DeviceBuffer kernels, DeviceBuffer x, DeviceBuffer y) =>
        Time("Filter2dReflect", 2.0 * batch * channels * h * w * k * k, 0, () => Inner.Filter2dReflect(batch, channels, h, w, k, kernels, x, y));

    public override void AvgPool2x2(int nc, int h, int w, DeviceBuffer x, DeviceBuffer y) =>
        Time("AvgPool2x2", 0, 1.25 * F4 * nc * h * w, () => Inner.AvgPool2x2(nc, h, w, x, y));

    public override void AvgPool2x2Backward(int nc, int h, int w, DeviceBuffer dy, DeviceBuffer dx, bool accumulate) =>
        Time("AvgPool2x2Backward", 0, 1.25 * F4 * nc * h * w + Acc(accumulate, (double)nc * h * w), () => Inner.AvgPool2x2Backward(nc, h, w, dy, dx, accumulate));

    public override void UpsampleNearest2x(int nc, int h, int w, DeviceBuffer x, DeviceBuffer y) =>
        Time("UpsampleNearest2x", 0, 5 * F4 * nc * h * w, () => Inner.UpsampleNearest2x(nc, h, w, x, y));

    public override void UpsampleNearest2xBackward(int nc, int h, int w, DeviceBuffer dy, DeviceBuffer dx, bool accumulate) =>
        Time("UpsampleNearest2xBackward", 0, 5 * F4 * nc * h * w + Acc(accumulate, (double)nc * h * w), () => Inner.UpsampleNearest2xBackward(nc, h, w, dy, dx, accumulate));

    public override void MaxPool2d(int nc, int h, int w, int k, int s, DeviceBuffer x, DeviceBuffer y) =>
        Time("MaxPool2d", 0, F4 * nc * h * w, () => Inner.MaxPool2d(nc, h, w, k, s, x, y));

    public override void MaxPool2dBackward(int nc, int h, int w, int k, int s, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, bool accumulate) =>
        Time("MaxPool2dBackward", 0, 2 * F4 * nc * h * w, () => Inner.MaxPool2dBackward(nc, h, w, k, s, x, dy, dx, accumulate));

    // scores q k^T and output p v: 2 GEMMs of T x T x d per (window, head) forward, 4 backward
    public override void WindowAttentionForward(int windows, int ws, int heads, int d, float scale, DeviceBuffer qkv, DeviceBuffer table, DeviceBuffer probs, DeviceBuffer output) =>
        Time("WindowAttentionForward", 4.0 * windows * heads * Math.Pow(ws, 4) * d, 0, () => Inner.WindowAttentionForward(windows, ws, heads, d, scale, qkv, table, probs, output));

    public override void WindowAttentionBackward(int windows, int ws, int heads, int d, float scale, DeviceBuffer qkv, DeviceBuffer probs, DeviceBuffer dOutput, DeviceBuffer dqkv, bool accumulate, DeviceBuffer dScores) =>
        Time("WindowAttentionBackward", 8.0 * windows * heads * Math.Pow(ws, 4) * d, 0, () => Inner.WindowAttentionBackward(windows, ws, heads, d, scale, qkv, probs, dOutput, dqkv, accumulate, dScores));

    public override void RelativeBiasBackward(int ws, int heads, DeviceBuffer dBias, DeviceBuffer dTable) =>
        Time("RelativeBiasBackward", 0, F4 * heads * Math.Pow(ws, 4), () => Inner.RelativeBiasBackward(ws, heads, dBias, dTable));

    public override void AdamWStep(long count, DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v, float lr, float beta1, float beta2, float eps, float weightDecay, int step) =>
        Time("AdamWStep", 0, 7 * F4 * count, () => Inner.AdamWStep(count, param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step));

    public override void FillUniform(long count, ulong seed, ulong offset, DeviceBuffer y) =>
        Time("FillUniform", 0, F4 * count, () => Inner.FillUniform(count, seed, offset, y));

    public override void FillNormal(long count, ulong seed, ulong offset, DeviceBuffer y) =>
        Time("FillNormal", 0, F4 * count, () => Inner.FillNormal(count, seed, offset, y));

    public override void Dropout(long count, float p, ulong seed, ulong offset, DeviceBuffer x, DeviceBuffer y) =>
        Time("Dropout", 0, 2 * F4 * count, () => Inner.Dropout(count, p, seed, offset, x, y));

    public override void DropoutBackward(long count, float p, ulong seed, ulong offset, DeviceBuffer dy, DeviceBuffer dx, bool accumulate) =>
        Time("DropoutBackward", 0, 2 * F4 * count + Acc(accumulate, count), () => Inner.DropoutBackward(count, p, seed, offset, dy, dx, accumulate));
}
