using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// The managed-SIMD CPU backend. Heavy ops live in their own files (CpuGemm, CpuConv,
/// CpuAttention, CpuGroupNorm); the rest are bandwidth-bound loops here, parallel over chunks.
/// </summary>
public sealed class CpuBackend : Backend
{
    public override string Name => "cpu";
    public override string Description =>
        $"{CpuThreads.Limit} of {Environment.ProcessorCount} threads, Vector512 {(Vector512.IsHardwareAccelerated ? "yes" : "no")}, {System.Runtime.InteropServices.RuntimeInformation.OSArchitecture}";

    internal static float[] F(DeviceBuffer b) => b is CpuBuffer c ? c.Data
        : throw new ArgumentException($"buffer belongs to backend '{b.Backend.Name}', not 'cpu'");
    static float[]? Fo(DeviceBuffer? b) => b is null ? null : F(b);

    public override DeviceBuffer Allocate(long count) =>
        HostMemory.Allocate(count, "float", sizeof(float), "reduce the batch or tile size", () => new CpuBuffer(this, count));

    public override DeviceMemoryInfo Memory => HostMemory.Info();
    public override void Upload(ReadOnlySpan<float> src, DeviceBuffer dst, long dstOffset = 0) => src.CopyTo(Range(F(dst), dstOffset, src.Length, nameof(dst)));
    public override void Download(DeviceBuffer src, Span<float> dst, long srcOffset = 0) => Range(F(src), srcOffset, dst.Length, nameof(src)).CopyTo(dst);
    public override void Fill(DeviceBuffer dst, float value, long offset, long count) => Range(F(dst), offset, count, nameof(dst)).Fill(value);

    /// <summary>[offset, offset + count) of a buffer, checked in long: an offset past int.MaxValue must not wrap round.</summary>
    static Span<float> Range(float[] a, long offset, long count, string what)
    {
        if (offset < 0 || count < 0 || offset > a.LongLength - count)
            throw new ArgumentOutOfRangeException(what, $"range [{offset}, {offset + count}) is outside a buffer of {a.LongLength} floats");
        return a.AsSpan((int)offset, (int)count);
    }
    public override void Synchronize() { }

    const int Chunk = 1 << 15;

    /// <summary>Runs body(start, end) over [0, count) in chunks, in parallel when large.</summary>
    /// <summary>Dropout draws its uniforms in runs of this many elements (a stack buffer).</summary>
    const int UniformRun = 1024;

    internal static void Chunked(long count, Action<int, int> body)
    {
        if (count <= Chunk) { body(0, (int)count); return; }
        int chunks = (int)((count + Chunk - 1) / Chunk);
        Parallel.For(0, chunks, CpuThreads.Options, ci =>
        {
            int s = ci * Chunk;
            body(s, (int)Math.Min(count, (long)s + Chunk));
        });
    }

    public override void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
        DeviceBuffer a, long offA, int lda, long strideA, DeviceBuffer b, long offB, int ldb, long strideB,
        float beta, DeviceBuffer c, long offC, int ldc, long strideC, int batch)
    {
        CpuGemm.SgemmBatched(transA, transB, m, n, k, alpha, F(a), offA, lda, strideA, F(b), offB, ldb, strideB, beta, F(c), offC, ldc, strideC, batch);
    }

    public override long Conv2dForwardScratchBytes(in ConvShape s) => CpuConv.ForwardScratchBytes(s);

    public override void Conv2dForward(in ConvShape s, DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, DeviceBuffer y) =>
        CpuConv.Forward(s, F(x), F(w), Fo(bias), F(y));
    public override void Conv2dActForward(in ConvShape s, DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, DeviceBuffer y, Activation act, float slope)
    {
        if (CpuConv.FusesActivation(s, act)) CpuConv.ForwardAct(s, F(x), F(w), Fo(bias), F(y), act);
        else base.Conv2dActForward(s, x, w, bias, y, act, slope);
    }
    public override void Conv2dUpsample2xForward(in ConvShape s, DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, DeviceBuffer y) =>
        CpuConv.ForwardUpsample2x(s, F(x), F(w), Fo(bias), F(y));
    public override void Conv2dBackwardData(in ConvShape s, DeviceBuffer dy, DeviceBuffer w, DeviceBuffer dx, bool accumulate) =>
        CpuConv.BackwardData(s, F(dy), F(w), F(dx), accumulate);
    public override void Conv2dBackwardWeight(in ConvShape s, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw, DeviceBuffer? db) =>
        CpuConv.BackwardWeight(s, F(x), F(dy), F(dw), Fo(db));

    public override void GroupNormForward(int n, int c, int hw, int groups, float eps,
        DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta, DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd) =>
        CpuGroupNorm.Forward(n, c, hw, groups, eps, F(x), F(gamma), F(beta), F(y), F(mean), F(rstd));
    public override void GroupNormSiluForward(int n, int c, int hw, int groups, float eps,
        DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta, DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd) =>
        CpuGroupNorm.Forward(n, c, hw, groups, eps, F(x), F(gamma), F(beta), F(y), F(mean), F(rstd), silu: true);
    public override void GroupNormBackward(int n, int c, int hw, int groups,
        DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer mean, DeviceBuffer rstd, DeviceBuffer dy,
        DeviceBuffer dx, bool accumulate, DeviceBuffer dgamma, DeviceBuffer dbeta) =>
        CpuGroupNorm.Backward(n, c, hw, groups, F(x), F(gamma), F(mean), F(rstd), F(dy), F(dx), accumulate, F(dgamma), F(dbeta));

    public override void ActivationForward(Activation act, float slope, long count, DeviceBuffer x, DeviceBuffer y)
    {
        float[] X = F(x), Y = F(y);
        if (CpuActivation.Handles(act)) { Chunked(count, (s, e) => CpuActivation.Forward(act, slope, X, Y, s, e)); return; }
        Chunked(count, (s, e) => { for (int i = s; i < e; i++) Y[i] = CpuMath.Act(act, slope, X[i]); });
    }

    public override void ActivationBackward(Activation act, float slope, long count, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, bool accumulate)
    {
        float[] X = F(x), DY = F(dy), DX = F(dx);
        if (CpuActivation.Handles(act)) { Chunked(count, (s, e) => CpuActivation.Backward(act, slope, X, DY, DX, accumulate, s, e)); return; }
        Chunked(count, (s, e) =>
        {
            if (accumulate) for (int i = s; i < e; i++) DX[i] += DY[i] * CpuMath.ActGrad(act, slope, X[i]);
            else for (int i = s; i < e; i++) DX[i] = DY[i] * CpuMath.ActGrad(act, slope, X[i]);
        });
    }

    public override void AddScaled(long count, float a, DeviceBuffer x, float b, DeviceBuffer z, DeviceBuffer y)
    {
        float[] X = F(x), Z = F(z), Y = F(y);
        Chunked(count, (s, e) =>
        {
            int i = s, vw = Vector<float>.Count;
            var va = new Vector<float>(a); var vb = new Vector<float>(b);
            for (; i <= e - vw; i += vw) (va * new Vector<float>(X, i) + vb * new Vector<float>(Z, i)).CopyTo(Y, i);
            for (; i < e; i++) Y[i] = a * X[i] + b * Z[i];
        });
    }

    public override void Mul(long count, DeviceBuffer x, DeviceBuffer z, DeviceBuffer y, bool accumulate)
    {
        float[] X = F(x), Z = F(z), Y = F(y);
        Chunked(count, (s, e) =>
        {
            if (accumulate) for (int i = s; i < e; i++) Y[i] += X[i] * Z[i];
            else for (int i = s; i < e; i++) Y[i] = X[i] * Z[i];
        });
    }

    // ScaleOuter, AddOuter and AddInner: 8-16 floats at a time over runs of one scale or offset (bitwise the scalar
    // forms: one multiply or add per element); the per-element division and the per-row Parallel.For made them
    // 0.2-0.7 GB/s, 3-6% of the tiny and small forwards (bench/RESULTS.md profile).
    public override void ScaleOuter(int outer, long inner, DeviceBuffer s, DeviceBuffer x, DeviceBuffer y, bool accumulate)
    {
        float[] S = F(s), X = F(x), Y = F(y);
        Chunked((long)outer * inner, (st, e) =>
        {
            for (int i = st; i < e;)
            {
                long o = i / inner;
                int end = (int)Math.Min(e, (o + 1) * inner), vw = Vector<float>.Count;
                float sc = S[o];
                var vs = new Vector<float>(sc);
                for (; i <= end - vw; i += vw)
                {
                    var v = vs * new Vector<float>(X, i);
                    (accumulate ? new Vector<float>(Y, i) + v : v).CopyTo(Y, i);
                }
                for (; i < end; i++)
                {
                    float v = sc * X[i];
                    Y[i] = accumulate ? Y[i] + v : v;
                }
            }
        });
    }

    public override void AddOuter(int outer, long inner, DeviceBuffer v, DeviceBuffer y)
    {
        float[] V = F(v), Y = F(y);
        Chunked((long)outer * inner, (s, e) =>
        {
            for (int i = s; i < e;)
            {
                long o = i / inner;
                int end = (int)Math.Min(e, (o + 1) * inner), vw = Vector<float>.Count;
                float add = V[o];
                var va = new Vector<float>(add);
                for (; i <= end - vw; i += vw) (new Vector<float>(Y, i) + va).CopyTo(Y, i);
                for (; i < end; i++) Y[i] += add;
            }
        });
    }

    public override void AddInner(int rows, int cols, DeviceBuffer v, DeviceBuffer y)
    {
        float[] V = F(v), Y = F(y);
        // blocks of rows (at least Chunk floats each) rather than one task per row
        int rowsPer = Math.Max(1, Chunk / Math.Max(1, cols)), blocks = (rows + rowsPer - 1) / rowsPer;
        Parallel.For(0, blocks, CpuThreads.Options, b =>
        {
            int vw = Vector<float>.Count;
            for (int r = b * rowsPer, re = Math.Min(rows, r + rowsPer); r < re; r++)
            {
                int off = r * cols, c = 0;
                for (; c <= cols - vw; c += vw) (new Vector<float>(Y, off + c) + new Vector<float>(V, c)).CopyTo(Y, off + c);
                for (; c < cols; c++) Y[off + c] += V[c];
            }
        });
    }

    public override void SumInner(int outer, long inner, DeviceBuffer x, DeviceBuffer y, bool accumulate)
    {
        float[] X = F(x), Y = F(y);
        if (outer == 1)
        {
            // one long reduction: partial sums per chunk in double, combined in order (deterministic)
            int chunks = (int)((inner + Chunk - 1) / Chunk);
            var parts = new double[chunks];
            Parallel.For(0, chunks, CpuThreads.Options, ci =>
            {
                int s = ci * Chunk, e = (int)Math.Min(inner, (long)s + Chunk);
                parts[ci] = CpuGroupNorm.Total(X.AsSpan(s, e - s));
            });
            double tot = 0;
            foreach (double p in parts) tot += p;
            Y[0] = accumulate ? Y[0] + (float)tot : (float)tot;
            return;
        }
        Parallel.For(0, outer, CpuThreads.Options, o =>
        {
            double acc = CpuGroupNorm.Total(X.AsSpan((int)(o * inner), (int)inner));
            Y[o] = accumulate ? Y[o] + (float)acc : (float)acc;
        });
    }

    public override void SumRows(int rows, int cols, DeviceBuffer x, DeviceBuffer y, bool accumulate)
    {
        float[] X = F(x), Y = F(y);
        int bands = Math.Max(1, Math.Min(CpuThreads.Limit * 4, cols / 256));
        int band = (cols + bands - 1) / bands;
        Parallel.For(0, bands, CpuThreads.Options, bi =>
        {
            int c0 = bi * band, c1 = Math.Min(cols, c0 + band);
            if (c0 >= c1) return;
            var acc = new double[c1 - c0];
            for (int r = 0; r < rows; r++)
            {
                var row = X.AsSpan(r * cols + c0, c1 - c0);
                int c = 0;
                // 8 columns at a time widened into double lanes: each column's sum in the same order as the scalar loop's
                if (Avx512F.IsSupported)
                    for (; c <= row.Length - 8; c += 8)
                    {
                        var sum = Vector512.Create(acc.AsSpan(c, 8)) + Avx512F.ConvertToVector512Double(Vector256.Create(row.Slice(c, 8)));
                        sum.CopyTo(acc.AsSpan(c, 8));
                    }
                for (; c < row.Length; c++) acc[c] += row[c];
            }
            for (int c = c0; c < c1; c++) Y[c] = accumulate ? Y[c] + (float)acc[c - c0] : (float)acc[c - c0];
        });
    }

    public override void CharbonnierForward(long count, float eps, DeviceBuffer a, DeviceBuffer b, DeviceBuffer y)
    {
        float[] A = F(a), B = F(b), Y = F(y);
        Chunked(count, (s, e) => { for (int i = s; i < e; i++) { float d = A[i] - B[i]; Y[i] = MathF.Sqrt(d * d + eps); } });
    }

    public override void CharbonnierBackward(long count, float eps, DeviceBuffer a, DeviceBuffer b, DeviceBuffer dy, DeviceBuffer da, bool accumulate)
    {
        float[] A = F(a), B = F(b), DY = F(dy), DA = F(da);
        Chunked(count, (s, e) =>
        {
            for (int i = s; i < e; i++)
            {
                float d = A[i] - B[i], g = DY[i] * d / MathF.Sqrt(d * d + eps);
                DA[i] = accumulate ? DA[i] + g : g;
            }
        });
    }

    public override void CopyStrided(ReadOnlySpan<int> shape, DeviceBuffer src, long srcOffset, ReadOnlySpan<long> srcStrides,
        DeviceBuffer dst, long dstOffset, ReadOnlySpan<long> dstStrides, bool accumulate) =>
        CpuCopy.Strided(shape, F(src), srcOffset, srcStrides, F(dst), dstOffset, dstStrides, accumulate);

    public override void Resample2d(int planes, ResampleAxis rows, ResampleAxis cols, DeviceBuffer x, DeviceBuffer y) =>
        CpuImageFilters.Resample2d(F(x), F(y), planes, rows, cols);

    public override void Filter2dReflect(int batch, int channels, int h, int w, int k, DeviceBuffer kernels, DeviceBuffer x, DeviceBuffer y) =>
        CpuImageFilters.Filter2dReflect(F(x), F(y), batch, channels, h, w, k, F(kernels));

    public override void AvgPool2x2(int nc, int h, int w, DeviceBuffer x, DeviceBuffer y)
    {
        float[] X = F(x), Y = F(y);
        int oh = h / 2, ow = w / 2;
        Parallel.For(0, nc, CpuThreads.Options, p =>
        {
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    long b = ((long)p * h + 2 * i) * w + 2 * j;
                    Y[((long)p * oh + i) * ow + j] = 0.25f * (X[b] + X[b + 1] + X[b + w] + X[b + w + 1]);
                }
        });
    }

    public override void AvgPool2x2Backward(int nc, int h, int w, DeviceBuffer dy, DeviceBuffer dx, bool accumulate)
    {
        float[] DY = F(dy), DX = F(dx);
        int oh = h / 2, ow = w / 2;
        Parallel.For(0, nc, CpuThreads.Options, p =>
        {
            for (int i = 0; i < h; i++)
                for (int j = 0; j < w; j++)
                {
                    long idx = ((long)p * h + i) * w + j;
                    float g = 0.25f * DY[((long)p * oh + i / 2) * ow + j / 2];
                    DX[idx] = accumulate ? DX[idx] + g : g;
                }
        });
    }

    public override void UpsampleNearest2x(int nc, int h, int w, DeviceBuffer x, DeviceBuffer y)
    {
        float[] X = F(x), Y = F(y);
        Parallel.For(0, nc, CpuThreads.Options, p =>
        {
            for (int i = 0; i < 2 * h; i++)
            {
                long src = ((long)p * h + i / 2) * w, dst = ((long)p * 2 * h + i) * 2 * w;
                for (int j = 0; j < w; j++) { float v = X[src + j]; Y[dst + 2 * j] = v; Y[dst + 2 * j + 1] = v; }
            }
        });
    }

    public override void UpsampleNearest2xBackward(int nc, int h, int w, DeviceBuffer dy, DeviceBuffer dx, bool accumulate)
    {
        float[] DY = F(dy), DX = F(dx);
        Parallel.For(0, nc, CpuThreads.Options, p =>
        {
            for (int i = 0; i < h; i++)
                for (int j = 0; j < w; j++)
                {
                    long b = ((long)p * 2 * h + 2 * i) * 2 * w + 2 * j, idx = ((long)p * h + i) * w + j;
                    float g = DY[b] + DY[b + 1] + DY[b + 2 * w] + DY[b + 2 * w + 1];
                    DX[idx] = accumulate ? DX[idx] + g : g;
                }
        });
    }

    public override void MaxPool2d(int nc, int h, int w, int k, int s, DeviceBuffer x, DeviceBuffer y)
    {
        float[] X = F(x), Y = F(y);
        int oh = (h - k) / s + 1, ow = (w - k) / s + 1;
        Parallel.For(0, nc, CpuThreads.Options, p =>
        {
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    float m = float.NegativeInfinity;
                    for (int a = 0; a < k; a++)
                        for (int b = 0; b < k; b++) m = MathF.Max(m, X[((long)p * h + i * s + a) * w + j * s + b]);
                    Y[((long)p * oh + i) * ow + j] = m;
                }
        });
    }

    public override void MaxPool2dBackward(int nc, int h, int w, int k, int s, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, bool accumulate)
    {
        float[] X = F(x), DY = F(dy), DX = F(dx);
        int oh = (h - k) / s + 1, ow = (w - k) / s + 1;
        Parallel.For(0, nc, CpuThreads.Options, p =>
        {
            if (!accumulate) DX.AsSpan(p * h * w, h * w).Clear();
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    float m = float.NegativeInfinity; long at = -1;
                    for (int a = 0; a < k; a++)
                        for (int b = 0; b < k; b++)
                        {
                            long idx = ((long)p * h + i * s + a) * w + j * s + b;
                            if (X[idx] > m) { m = X[idx]; at = idx; }
                        }
                    DX[at] += DY[((long)p * oh + i) * ow + j];
                }
        });
    }

    public override void WindowAttentionForward(int windows, int ws, int heads, int d, float scale,
        DeviceBuffer qkv, DeviceBuffer table, DeviceBuffer probs, DeviceBuffer output) =>
        CpuAttention.Forward(windows, ws, heads, d, scale, F(qkv), F(table), F(probs), F(output));

    public override void WindowAttentionBackward(int windows, int ws, int heads, int d, float scale,
        DeviceBuffer qkv, DeviceBuffer probs, DeviceBuffer dOutput, DeviceBuffer dqkv, bool accumulate, DeviceBuffer dScores) =>
        CpuAttention.Backward(windows, ws, heads, d, scale, F(qkv), F(probs), F(dOutput), F(dqkv), accumulate, F(dScores));

    public override void RelativeBiasBackward(int ws, int heads, DeviceBuffer dBias, DeviceBuffer dTable)
    {
        float[] DB = F(dBias), DT = F(dTable);
        int t = ws * ws;
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < t; i++)
                for (int j = 0; j < t; j++)
                    DT[CpuAttention.RelIndex(ws, i, j) * heads + h] += DB[((long)h * t + i) * t + j];
    }

    public override void AdamWStep(long count, DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v,
        float lr, float beta1, float beta2, float eps, float weightDecay, int step)
    {
        float[] P = F(param), G = F(grad), M = F(m), V = F(v);
        // PyTorch's AdamW (foreach=False): p *= 1 - lr*wd; m, v updated; p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps)
        float bc1 = 1f - MathF.Pow(beta1, step), bc2Sqrt = MathF.Sqrt(1f - MathF.Pow(beta2, step));
        float stepSize = lr / bc1, decay = 1f - lr * weightDecay;
        Chunked(count, (s, e) => CpuOptim.AdamW(P.AsSpan(s, e - s), G.AsSpan(s, e - s), M.AsSpan(s, e - s), V.AsSpan(s, e - s),
            beta1, beta2, eps, stepSize, decay, bc2Sqrt));
    }

    public override void FillUniform(long count, ulong seed, ulong offset, DeviceBuffer y)
    {
        var Y = F(y);
        Chunked(count, (s, e) => CpuPhilox.Uniform(seed, offset + (ulong)s, Y.AsSpan(s, e - s)));
    }

    public override void FillNormal(long count, ulong seed, ulong offset, DeviceBuffer y)
    {
        var Y = F(y);
        Chunked(count, (s, e) => { for (int i = s; i < e; i++) Y[i] = Philox.Normal(seed, offset + (ulong)i); });
    }

    public override void Dropout(long count, float p, ulong seed, ulong offset, DeviceBuffer x, DeviceBuffer y)
    {
        float[] X = F(x), Y = F(y);
        Chunked(count, (s, e) => DropoutRuns(p, seed, offset, X, Y, accumulate: false, s, e));
    }

    public override void DropoutBackward(long count, float p, ulong seed, ulong offset, DeviceBuffer dy, DeviceBuffer dx, bool accumulate)
    {
        float[] DY = F(dy), DX = F(dx);
        Chunked(count, (s, e) => DropoutRuns(p, seed, offset, DY, DX, accumulate, s, e));
    }

    /// <summary>
    /// y[i] (=/+=) (u[i] &gt;= p ? x[i] / (1 - p) : 0) over [s, e), u the Philox uniforms of elements offset + i: the
    /// forward (x, y) and the backward (dy, dx) alike. Uniforms are drawn in runs of <see cref="UniformRun"/> into a stack
    /// buffer, the mask applied 16 floats at a time (the per-element loop ran at ~2.5 GB/s: 2% of an x4 train step).
    /// </summary>
    static void DropoutRuns(float p, ulong seed, ulong offset, float[] x, float[] y, bool accumulate, int s, int e)
    {
        float sc = 1f / (1f - p);
        Span<float> u = stackalloc float[UniformRun];
        for (int i0 = s; i0 < e; i0 += UniformRun)
        {
            int len = Math.Min(UniformRun, e - i0), i = 0;
            CpuPhilox.Uniform(seed, offset + (ulong)i0, u[..len]);
            if (Vector512.IsHardwareAccelerated)
            {
                var vp = Vector512.Create(p);
                var vsc = Vector512.Create(sc);
                for (; i <= len - 16; i += 16)
                {
                    var keep = Vector512.GreaterThanOrEqual(Vector512.Create(u.Slice(i, 16)), vp);
                    var g = Vector512.ConditionalSelect(keep,
                        Vector512.Create(x.AsSpan(i0 + i, 16)) * vsc, Vector512<float>.Zero);
                    if (accumulate) g = Vector512.Create(y.AsSpan(i0 + i, 16)) + g;
                    g.CopyTo(y.AsSpan(i0 + i, 16));
                }
            }
            for (; i < len; i++)
            {
                float g = u[i] >= p ? x[i0 + i] * sc : 0f;
                y[i0 + i] = accumulate ? y[i0 + i] + g : g;
            }
        }
    }
}
