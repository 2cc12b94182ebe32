namespace Ctmsr.Kernels;

/// <summary>
/// A backend that hands every member to <see cref="Inner"/>: the base of decorators (fault injection, allocation
/// limits, op tracing, per-op shadowing), which override only what they change. Buffers are the inner backend's own.
/// Not abstract, so the compiler rejects it until every op of the catalogue is forwarded here.
/// </summary>
public class ForwardingBackend(Backend inner, bool ownsInner = true) : Backend
{
    public Backend Inner { get; } = inner;
    public override string Name => Inner.Name;
    public override string Description => Inner.Description;
    public override DeviceMemoryInfo Memory => Inner.Memory;
    public override MatmulPrecision Precision => Inner.Precision;
    public override string? PrecisionUnsupported(MatmulPrecision p) => Inner.PrecisionUnsupported(p);
    public override void SetPrecision(MatmulPrecision p) => Inner.SetPrecision(p);
    public override DeviceBuffer Allocate(long count) => Inner.Allocate(count);
    public override void Upload(ReadOnlySpan<float> src, DeviceBuffer dst, long dstOffset = 0) => Inner.Upload(src, dst, dstOffset);
    public override void Download(DeviceBuffer src, Span<float> dst, long srcOffset = 0) => Inner.Download(src, dst, srcOffset);
    public override void Fill(DeviceBuffer dst, float value, long offset, long count) => Inner.Fill(dst, value, offset, count);
    public override void Synchronize() => Inner.Synchronize();
    public override void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, DeviceBuffer a, long offA, int lda, long strideA, DeviceBuffer b, long offB, int ldb, long strideB, float beta, DeviceBuffer c, long offC, int ldc, long strideC, int batch) => Inner.Gemm(transA, transB, m, n, k, alpha, a, offA, lda, strideA, b, offB, ldb, strideB, beta, c, offC, ldc, strideC, batch);
    public override void Conv2dForward(in ConvShape s, DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, DeviceBuffer y) => Inner.Conv2dForward(in s, x, w, bias, y);
    public override void Conv2dUpsample2xForward(in ConvShape s, DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, DeviceBuffer y) => Inner.Conv2dUpsample2xForward(in s, x, w, bias, y);
    public override void Conv2dActForward(in ConvShape s, DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, DeviceBuffer y, Activation act, float slope) => Inner.Conv2dActForward(in s, x, w, bias, y, act, slope);
    public override long Conv2dForwardScratchBytes(in ConvShape s) => Inner.Conv2dForwardScratchBytes(in s);
    public override void Conv2dBackwardData(in ConvShape s, DeviceBuffer dy, DeviceBuffer w, DeviceBuffer dx, bool accumulate) => Inner.Conv2dBackwardData(in s, dy, w, dx, accumulate);
    public override void Conv2dBackwardWeight(in ConvShape s, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw, DeviceBuffer? db) => Inner.Conv2dBackwardWeight(in s, x, dy, dw, db);
    public override void GroupNormForward(int n, int c, int hw, int groups, float eps, DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta, DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd) => Inner.GroupNormForward(n, c, hw, groups, eps, x, gamma, beta, y, mean, rstd);
    public override void GroupNormSiluForward(int n, int c, int hw, int groups, float eps, DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta, DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd) => Inner.GroupNormSiluForward(n, c, hw, groups, eps, x, gamma, beta, y, mean, rstd);
    public override void GroupNormBackward(int n, int c, int hw, int groups, DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer mean, DeviceBuffer rstd, DeviceBuffer dy, DeviceBuffer dx, bool accumulate, DeviceBuffer dgamma, DeviceBuffer dbeta) => Inner.GroupNormBackward(n, c, hw, groups, x, gamma, mean, rstd, dy, dx, accumulate, dgamma, dbeta);
    public override void ActivationForward(Activation act, float slope, long count, DeviceBuffer x, DeviceBuffer y) => Inner.ActivationForward(act, slope, count, x, y);
    public override void ActivationBackward(Activation act, float slope, long count, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, bool accumulate) => Inner.ActivationBackward(act, slope, count, x, dy, dx, accumulate);
    public override void AddScaled(long count, float a, DeviceBuffer x, float b, DeviceBuffer z, DeviceBuffer y) => Inner.AddScaled(count, a, x, b, z, y);
    public override void Mul(long count, DeviceBuffer x, DeviceBuffer z, DeviceBuffer y, bool accumulate) => Inner.Mul(count, x, z, y, accumulate);
    public override void ScaleOuter(int outer, long inner, DeviceBuffer s, DeviceBuffer x, DeviceBuffer y, bool accumulate) => Inner.ScaleOuter(outer, inner, s, x, y, accumulate);
    public override void AddOuter(int outer, long inner, DeviceBuffer v, DeviceBuffer y) => Inner.AddOuter(outer, inner, v, y);
    public override void AddInner(int rows, int cols, DeviceBuffer v, DeviceBuffer y) => Inner.AddInner(rows, cols, v, y);
    public override void SumInner(int outer, long inner, DeviceBuffer x, DeviceBuffer y, bool accumulate) => Inner.SumInner(outer, inner, x, y, accumulate);
    public override void SumRows(int rows, int cols, DeviceBuffer x, DeviceBuffer y, bool accumulate) => Inner.SumRows(rows, cols, x, y, accumulate);
    public override void CharbonnierForward(long count, float eps, DeviceBuffer a, DeviceBuffer b, DeviceBuffer y) => Inner.CharbonnierForward(count, eps, a, b, y);
    public override void CharbonnierBackward(long count, float eps, DeviceBuffer a, DeviceBuffer b, DeviceBuffer dy, DeviceBuffer da, bool accumulate) => Inner.CharbonnierBackward(count, eps, a, b, dy, da, accumulate);
    public override void CopyStrided(ReadOnlySpan<int> shape, DeviceBuffer src, long srcOffset, ReadOnlySpan<long> srcStrides, DeviceBuffer dst, long dstOffset, ReadOnlySpan<long> dstStrides, bool accumulate) => Inner.CopyStrided(shape, src, srcOffset, srcStrides, dst, dstOffset, dstStrides, accumulate);
    public override void Resample2d(int planes, ResampleAxis rows, ResampleAxis cols, DeviceBuffer x, DeviceBuffer y) => Inner.Resample2d(planes, rows, cols, x, y);
    public override void Filter2dReflect(int batch, int channels, int h, int w, int k, DeviceBuffer kernels, DeviceBuffer x, DeviceBuffer y) => Inner.Filter2dReflect(batch, channels, h, w, k, kernels, x, y);
    public override void AvgPool2x2(int nc, int h, int w, DeviceBuffer x, DeviceBuffer y) => Inner.AvgPool2x2(nc, h, w, x, y);
    public override void AvgPool2x2Backward(int nc, int h, int w, DeviceBuffer dy, DeviceBuffer dx, bool accumulate) => Inner.AvgPool2x2Backward(nc, h, w, dy, dx, accumulate);
    public override void UpsampleNearest2x(int nc, int h, int w, DeviceBuffer x, DeviceBuffer y) => Inner.UpsampleNearest2x(nc, h, w, x, y);
    public override void UpsampleNearest2xBackward(int nc, int h, int w, DeviceBuffer dy, DeviceBuffer dx, bool accumulate) => Inner.UpsampleNearest2xBackward(nc, h, w, dy, dx, accumulate);
    public override void MaxPool2d(int nc, int h, int w, int k, int s, DeviceBuffer x, DeviceBuffer y) => Inner.MaxPool2d(nc, h, w, k, s, x, y);
    public override void MaxPool2dBackward(int nc, int h, int w, int k, int s, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, bool accumulate) => Inner.MaxPool2dBackward(nc, h, w, k, s, x, dy, dx, accumulate);
    public override void WindowAttentionForward(int windows, int ws, int heads, int d, float scale, DeviceBuffer qkv, DeviceBuffer table, DeviceBuffer probs, DeviceBuffer output) => Inner.WindowAttentionForward(windows, ws, heads, d, scale, qkv, table, probs, output);
    public override void WindowAttentionBackward(int windows, int ws, int heads, int d, float scale, DeviceBuffer qkv, DeviceBuffer probs, DeviceBuffer dOutput, DeviceBuffer dqkv, bool accumulate, DeviceBuffer dScores) => Inner.WindowAttentionBackward(windows, ws, heads, d, scale, qkv, probs, dOutput, dqkv, accumulate, dScores);
    public override void RelativeBiasBackward(int ws, int heads, DeviceBuffer dBias, DeviceBuffer dTable) => Inner.RelativeBiasBackward(ws, heads, dBias, dTable);
    public override void AdamWStep(long count, DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v, float lr, float beta1, float beta2, float eps, float weightDecay, int step) => Inner.AdamWStep(count, param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step);
    public override void FillUniform(long count, ulong seed, ulong offset, DeviceBuffer y) => Inner.FillUniform(count, seed, offset, y);
    public override void FillNormal(long count, ulong seed, ulong offset, DeviceBuffer y) => Inner.FillNormal(count, seed, offset, y);
    public override void Dropout(long count, float p, ulong seed, ulong offset, DeviceBuffer x, DeviceBuffer y) => Inner.Dropout(count, p, seed, offset, x, y);
    public override void DropoutBackward(long count, float p, ulong seed, ulong offset, DeviceBuffer dy, DeviceBuffer dx, bool accumulate) => Inner.DropoutBackward(count, p, seed, offset, dy, dx, accumulate);

    public override void Dispose()
    {
        if (ownsInner) Inner.Dispose();
        base.Dispose();
    }
}
