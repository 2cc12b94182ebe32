using Ctmsr.Kernels;

namespace Ctmsr.Tests.Ops;

/// <summary>
/// Sends every op to <see cref="ForwardingBackend.Inner"/> through one hook, <see cref="Op"/>, that sees the op's name, its
/// geometry, the buffers it reads and the buffers it writes (or accumulates into). Subclasses inject faults
/// (the selfcheck must be able to fail) or shadow each op on the float64 reference (per-op error hunting).
/// Buffers are the inner backend's own, so tensors and the buffer pool work unchanged.
/// </summary>
public class InterceptingBackend(Backend inner) : ForwardingBackend(inner)
{

    /// <summary>Runs one op: <paramref name="run"/> executes it on a backend with buffers mapped by the given function.</summary>
    protected virtual void Op(string name, string shape, DeviceBuffer?[] reads, DeviceBuffer[] writes, Action<Backend, Func<DeviceBuffer, DeviceBuffer>> run)
        => run(Inner, b => b);

    static DeviceBuffer? Opt(Func<DeviceBuffer, DeviceBuffer> f, DeviceBuffer? b) => b is null ? null : f(b);

    public override void Fill(DeviceBuffer dst, float value, long offset, long count) =>
        Op("Fill", $"{count}", [], [dst], (be, m) => be.Fill(m(dst), value, offset, count));

    public override void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, DeviceBuffer a, long offA, int lda, long strideA,
        DeviceBuffer b, long offB, int ldb, long strideB, float beta, DeviceBuffer c, long offC, int ldc, long strideC, int batch) =>
        Op("Gemm", $"{(transA ? "T" : "N")}{(transB ? "T" : "N")} {batch}x{m}x{n}x{k} beta={beta}", [a, b], [c],
            (be, f) => be.Gemm(transA, transB, m, n, k, alpha, f(a), offA, lda, strideA, f(b), offB, ldb, strideB, beta, f(c), offC, ldc, strideC, batch));

    public override void Conv2dForward(in ConvShape s, DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, DeviceBuffer y)
    {
        var sh = s;
        Op("Conv2dForward", sh.ToString(), [x, w, bias], [y], (be, f) => be.Conv2dForward(sh, f(x), f(w), Opt(f, bias), f(y)));
    }

    public override void Conv2dUpsample2xForward(in ConvShape s, DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, DeviceBuffer y)
    {
        var sh = s;
        Op("Conv2dUpsample2xForward", sh.ToString(), [x, w, bias], [y], (be, f) => be.Conv2dUpsample2xForward(sh, f(x), f(w), Opt(f, bias), f(y)));
    }

    public override void Conv2dBackwardData(in ConvShape s, DeviceBuffer dy, DeviceBuffer w, DeviceBuffer dx, bool accumulate)
    {
        var sh = s;
        Op("Conv2dBackwardData", sh.ToString(), [dy, w], [dx], (be, f) => be.Conv2dBackwardData(sh, f(dy), f(w), f(dx), accumulate));
    }

    public override void Conv2dBackwardWeight(in ConvShape s, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw, DeviceBuffer? db)
    {
        var sh = s;
        Op("Conv2dBackwardWeight", sh.ToString(), [x, dy], db is null ? [dw] : [dw, db], (be, f) => be.Conv2dBackwardWeight(sh, f(x), f(dy), f(dw), Opt(f, db)));
    }

    public override void GroupNormForward(int n, int c, int hw, int groups, float eps, DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta,
        DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd) =>
        Op("GroupNormForward", $"{n}x{c}x{hw} g{groups}", [x, gamma, beta], [y, mean, rstd],
            (be, f) => be.GroupNormForward(n, c, hw, groups, eps, f(x), f(gamma), f(beta), f(y), f(mean), f(rstd)));

    public override void GroupNormSiluForward(int n, int c, int hw, int groups, float eps, DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta,
        DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd) =>
        Op("GroupNormSiluForward", $"{n}x{c}x{hw} g{groups}", [x, gamma, beta], [y, mean, rstd],
            (be, f) => be.GroupNormSiluForward(n, c, hw, groups, eps, f(x), f(gamma), f(beta), f(y), f(mean), f(rstd)));

    public override void GroupNormBackward(int n, int c, int hw, int groups, DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer mean, DeviceBuffer rstd,
        DeviceBuffer dy, DeviceBuffer dx, bool accumulate, DeviceBuffer dgamma, DeviceBuffer dbeta) =>
        Op("GroupNormBackward", $"{n}x{c}x{hw} g{groups}", [x, gamma, mean, rstd, dy], [dx, dgamma, dbeta],
            (be, f) => be.GroupNormBackward(n, c, hw, groups, f(x), f(gamma), f(mean), f(rstd), f(dy), f(dx), accumulate, f(dgamma), f(dbeta)));

    public override void ActivationForward(Activation act, float slope, long count, DeviceBuffer x, DeviceBuffer y) =>
        Op("ActivationForward", $"{act} {count}", [x], [y], (be, f) => be.ActivationForward(act, slope, count, f(x), f(y)));

    public override void ActivationBackward(Activation act, float slope, long count, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, bool accumulate) =>
        Op("ActivationBackward", $"{act} {count}", [x, dy], [dx], (be, f) => be.ActivationBackward(act, slope, count, f(x), f(dy), f(dx), accumulate));

    public override void AddScaled(long count, float a, DeviceBuffer x, float b, DeviceBuffer z, DeviceBuffer y) =>
        Op("AddScaled", $"{count}", [x, z], [y], (be, f) => be.AddScaled(count, a, f(x), b, f(z), f(y)));

    public override void Mul(long count, DeviceBuffer x, DeviceBuffer z, DeviceBuffer y, bool accumulate) =>
        Op("Mul", $"{count}", [x, z], [y], (be, f) => be.Mul(count, f(x), f(z), f(y), accumulate));

    public override void ScaleOuter(int outer, long inner, DeviceBuffer s, DeviceBuffer x, DeviceBuffer y, bool accumulate) =>
        Op("ScaleOuter", $"{outer}x{inner}", [s, x], [y], (be, f) => be.ScaleOuter(outer, inner, f(s), f(x), f(y), accumulate));

    public override void AddOuter(int outer, long inner, DeviceBuffer v, DeviceBuffer y) =>
        Op("AddOuter", $"{outer}x{inner}", [v], [y], (be, f) => be.AddOuter(outer, inner, f(v), f(y)));

    public override void AddInner(int rows, int cols, DeviceBuffer v, DeviceBuffer y) =>
        Op("AddInner", $"{rows}x{cols}", [v], [y], (be, f) => be.AddInner(rows, cols, f(v), f(y)));

    public override void SumInner(int outer, long inner, DeviceBuffer x, DeviceBuffer y, bool accumulate) =>
        Op("SumInner", $"{outer}x{inner}", [x], [y], (be, f) => be.SumInner(outer, inner, f(x), f(y), accumulate));

    public override void SumRows(int rows, int cols, DeviceBuffer x, DeviceBuffer y, bool accumulate) =>
        Op("SumRows", $"{rows}x{cols}", [x], [y], (be, f) => be.SumRows(rows, cols, f(x), f(y), accumulate));

    public override void CharbonnierForward(long count, float eps, DeviceBuffer a, DeviceBuffer b, DeviceBuffer y) =>
        Op("CharbonnierForward", $"{count}", [a, b], [y], (be, f) => be.CharbonnierForward(count, eps, f(a), f(b), f(y)));

    public override void CharbonnierBackward(long count, float eps, DeviceBuffer a, DeviceBuffer b, DeviceBuffer dy, DeviceBuffer da, bool accumulate) =>
        Op("CharbonnierBackward", $"{count}", [a, b, dy], [da], (be, f) => be.CharbonnierBackward(count, eps, f(a), f(b), f(dy), f(da), accumulate));

    public override void CopyStrided(ReadOnlySpan<int> shape, DeviceBuffer src, long srcOffset, ReadOnlySpan<long> srcStrides,
        DeviceBuffer dst, long dstOffset, ReadOnlySpan<long> dstStrides, bool accumulate)
    {
        int[] sh = shape.ToArray(); long[] ss = srcStrides.ToArray(), ds = dstStrides.ToArray();
        Op("CopyStrided", string.Join("x", sh), [src], [dst], (be, f) => be.CopyStrided(sh, f(src), srcOffset, ss, f(dst), dstOffset, ds, accumulate));
    }

    public override void Resample2d(int planes, ResampleAxis rows, ResampleAxis cols, DeviceBuffer x, DeviceBuffer y) =>
        Op("Resample2d", $"{planes}x{rows.InSize}x{cols.InSize}", [x], [y], (be, f) => be.Resample2d(planes, rows, cols, f(x), f(y)));

    public override void Filter2dReflect(int batch, int channels, int h, int w, int k, DeviceBuffer kernels, DeviceBuffer x, DeviceBuffer y) =>
        Op("Filter2dReflect", $"{batch}x{channels}x{h}x{w} k{k}", [kernels, x], [y], (be, f) => be.Filter2dReflect(batch, channels, h, w, k, f(kernels), f(x), f(y)));

    public override void AvgPool2x2(int nc, int h, int w, DeviceBuffer x, DeviceBuffer y) =>
        Op("AvgPool2x2", $"{nc}x{h}x{w}", [x], [y], (be, f) => be.AvgPool2x2(nc, h, w, f(x), f(y)));

    public override void AvgPool2x2Backward(int nc, int h, int w, DeviceBuffer dy, DeviceBuffer dx, bool accumulate) =>
        Op("AvgPool2x2Backward", $"{nc}x{h}x{w}", [dy], [dx], (be, f) => be.AvgPool2x2Backward(nc, h, w, f(dy), f(dx), accumulate));

    public override void UpsampleNearest2x(int nc, int h, int w, DeviceBuffer x, DeviceBuffer y) =>
        Op("UpsampleNearest2x", $"{nc}x{h}x{w}", [x], [y], (be, f) => be.UpsampleNearest2x(nc, h, w, f(x), f(y)));

    public override void UpsampleNearest2xBackward(int nc, int h, int w, DeviceBuffer dy, DeviceBuffer dx, bool accumulate) =>
        Op("UpsampleNearest2xBackward", $"{nc}x{h}x{w}", [dy], [dx], (be, f) => be.UpsampleNearest2xBackward(nc, h, w, f(dy), f(dx), accumulate));

    public override void MaxPool2d(int nc, int h, int w, int k, int s, DeviceBuffer x, DeviceBuffer y) =>
        Op("MaxPool2d", $"{nc}x{h}x{w} k{k} s{s}", [x], [y], (be, f) => be.MaxPool2d(nc, h, w, k, s, f(x), f(y)));

    public override void MaxPool2dBackward(int nc, int h, int w, int k, int s, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, bool accumulate) =>
        Op("MaxPool2dBackward", $"{nc}x{h}x{w} k{k} s{s}", [x, dy], [dx], (be, f) => be.MaxPool2dBackward(nc, h, w, k, s, f(x), f(dy), f(dx), accumulate));

    public override void WindowAttentionForward(int windows, int ws, int heads, int d, float scale, DeviceBuffer qkv, DeviceBuffer table,
        DeviceBuffer probs, DeviceBuffer output) =>
        Op("WindowAttentionForward", $"{windows}w ws{ws} h{heads} d{d}", [qkv, table], [probs, output],
            (be, f) => be.WindowAttentionForward(windows, ws, heads, d, scale, f(qkv), f(table), f(probs), f(output)));

    public override void WindowAttentionBackward(int windows, int ws, int heads, int d, float scale, DeviceBuffer qkv, DeviceBuffer probs,
        DeviceBuffer dOutput, DeviceBuffer dqkv, bool accumulate, DeviceBuffer dScores) =>
        Op("WindowAttentionBackward", $"{windows}w ws{ws} h{heads} d{d}", [qkv, probs, dOutput], [dqkv, dScores],
            (be, f) => be.WindowAttentionBackward(windows, ws, heads, d, scale, f(qkv), f(probs), f(dOutput), f(dqkv), accumulate, f(dScores)));

    public override void RelativeBiasBackward(int ws, int heads, DeviceBuffer dBias, DeviceBuffer dTable) =>
        Op("RelativeBiasBackward", $"ws{ws} h{heads}", [dBias], [dTable], (be, f) => be.RelativeBiasBackward(ws, heads, f(dBias), f(dTable)));

    public override void AdamWStep(long count, DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v,
        float lr, float beta1, float beta2, float eps, float weightDecay, int step) =>
        Op("AdamWStep", $"{count}", [grad], [param, m, v], (be, f) => be.AdamWStep(count, f(param), f(grad), f(m), f(v), lr, beta1, beta2, eps, weightDecay, step));

    public override void FillUniform(long count, ulong seed, ulong offset, DeviceBuffer y) =>
        Op("FillUniform", $"{count}", [], [y], (be, f) => be.FillUniform(count, seed, offset, f(y)));

    public override void FillNormal(long count, ulong seed, ulong offset, DeviceBuffer y) =>
        Op("FillNormal", $"{count}", [], [y], (be, f) => be.FillNormal(count, seed, offset, f(y)));

    public override void Dropout(long count, float p, ulong seed, ulong offset, DeviceBuffer x, DeviceBuffer y) =>
        Op("Dropout", $"{count}", [x], [y], (be, f) => be.Dropout(count, p, seed, offset, f(x), f(y)));

    public override void DropoutBackward(long count, float p, ulong seed, ulong offset, DeviceBuffer dy, DeviceBuffer dx, bool accumulate) =>
        Op("DropoutBackward", $"{count}", [dy], [dx], (be, f) => be.DropoutBackward(count, p, seed, offset, f(dy), f(dx), accumulate));
}
