namespace Ctmsr.Kernels;

/// <summary>
/// A compute device and its fixed op catalogue (the candle BackendDevice/BackendStorage split, folded
/// into one class). Every tensor is float32, NCHW, contiguous; shapes are passed as integers.
///
/// Output conventions: forward ops write their output. Backward ops take <c>accumulate</c>: false
/// writes the gradient (first consumer), true adds to it (a tensor that feeds several consumers).
/// Parameter-gradient outputs (dW, db, dgamma, dbeta, dTable) always accumulate.
/// Every op is asynchronous with respect to the host on GPU backends; <see cref="Download"/> synchronises.
/// </summary>
public abstract class Backend : IDisposable
{
    /// <summary>Short device name, e.g. "cpu", "opencl:0", "reference".</summary>
    public abstract string Name { get; }

    /// <summary>Human-readable description (device model, memory, driver).</summary>
    public abstract string Description { get; }

    // ---- memory ----
    /// <summary>A buffer of <paramref name="count"/> floats; contents undefined.</summary>
    public abstract DeviceBuffer Allocate(long count);
    public abstract void Upload(ReadOnlySpan<float> src, DeviceBuffer dst, long dstOffset = 0);
    public abstract void Download(DeviceBuffer src, Span<float> dst, long srcOffset = 0);
    public abstract void Fill(DeviceBuffer dst, float value, long offset, long count);
    public abstract void Synchronize();

    /// <summary>The device's memory as this backend knows it (<see cref="DeviceMemoryInfo.Unknown"/> when it cannot tell).
    /// An allocation that does not fit raises <see cref="DeviceOutOfMemoryException"/>.</summary>
    public virtual DeviceMemoryInfo Memory => DeviceMemoryInfo.Unknown;

    // ---- matmul precision (the op surface's one setting: what GEMM and convolution multiply) ----
    MatmulPrecision precision;

    /// <summary>The arithmetic of <see cref="Gemm"/> and the convolution passes; <see cref="MatmulPrecision.Fp32"/>
    /// until <see cref="SetPrecision"/> changes it.</summary>
    public virtual MatmulPrecision Precision => precision;

    /// <summary>Why this backend cannot run <paramref name="p"/> (one line: cause and fix), or null when it can. Fp32 is
    /// always supported; a backend with tensor-core kernels overrides this.</summary>
    public virtual string? PrecisionUnsupported(MatmulPrecision p) => p == MatmulPrecision.Fp32 ? null
        : $"--precision {Kernels.Precision.Name(p)} needs tensor cores, and device '{Name}' has none: use --precision fp32, " +
          "or --device cuda on an NVIDIA GPU of compute capability 8.0 or newer (A100, RTX 30xx, H100)";

    /// <summary>Selects <paramref name="p"/> for every later GEMM and convolution; throws <see cref="ArgumentException"/>
    /// with <see cref="PrecisionUnsupported"/>'s message when this backend cannot run it.</summary>
    public virtual void SetPrecision(MatmulPrecision p)
    {
        if (PrecisionUnsupported(p) is { } why) throw new ArgumentException(why);
        precision = p;
    }

    // ---- linear algebra ----
    /// <summary>
    /// Row-major strided batched GEMM: for b in [0, batch):
    /// C_b[m,n] = alpha * op(A_b)[m,k] * op(B_b)[k,n] + beta * C_b[m,n], with
    /// op(A) = A (lda >= k) or A^T (A stored [k,m], lda >= m); likewise B.
    /// X_b starts at offX + b * strideX.
    /// </summary>
    public abstract void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
        DeviceBuffer a, long offA, int lda, long strideA,
        DeviceBuffer b, long offB, int ldb, long strideB,
        float beta, DeviceBuffer c, long offC, int ldc, long strideC, int batch);

    // ---- convolution (weight [Cout, Cin, KH, KW], zero padding) ----
    public abstract void Conv2dForward(in ConvShape s, DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, DeviceBuffer y);
    public abstract void Conv2dBackwardData(in ConvShape s, DeviceBuffer dy, DeviceBuffer w, DeviceBuffer dx, bool accumulate);
    /// <summary>dw += conv grad; db += sum of dy over N, H, W (when db is given).</summary>
    public abstract void Conv2dBackwardWeight(in ConvShape s, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw, DeviceBuffer? db);
    /// <summary>
    /// <see cref="Conv2dForward"/> of the nearest x2 upsampling of x: x is [N, Cin, H / 2, W / 2] and s describes the
    /// convolution of the upsampled [N, Cin, H, W] map (the decoder's upsample-then-convolve, at inference: nothing
    /// differentiates through it). This default composes the two ops through a temporary upsampled buffer; a backend
    /// overrides it to read x with halved indices, so the upsampled map (the largest tensor of an x4 network's last
    /// stage) is never made.
    /// </summary>
    public virtual void Conv2dUpsample2xForward(in ConvShape s, DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, DeviceBuffer y)
    {
        if (s.H % 2 != 0 || s.W % 2 != 0)
            throw new ArgumentException($"conv of an x2 upsampling: the upsampled map is {s.H}x{s.W}, which must be even on both sides");
        using var u = Allocate((long)s.N * s.Cin * s.H * s.W);
        UpsampleNearest2x(s.N * s.Cin, s.H / 2, s.W / 2, x, u);
        Conv2dForward(s, u, w, bias, y);
    }
    /// <summary>
    /// y = act(<see cref="Conv2dForward"/>) (e.g. an MLP's first layer and its GELU, at inference: nothing differentiates
    /// through it, so the pre-activation is not kept). This default runs the two ops, the activation in place; a
    /// backend overrides it to apply the activation while each block of y is still in cache.
    /// </summary>
    public virtual void Conv2dActForward(in ConvShape s, DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, DeviceBuffer y, Activation act, float slope)
    {
        Conv2dForward(s, x, w, bias, y);
        if (act != Activation.Identity) ActivationForward(act, slope, s.OutputLength(), y, y);
    }
    /// <summary>Bytes a <see cref="Conv2dForward"/> of this shape holds outside the buffers it is given while it runs
    /// (the CPU's band scratch), so a memory plan can count them; 0 where the kernels need none.</summary>
    public virtual long Conv2dForwardScratchBytes(in ConvShape s) => 0;

    // ---- normalisation ----
    /// <summary>GroupNorm over [n, c, hw] with <paramref name="groups"/> groups; saves mean and rstd ([n*groups]).</summary>
    public abstract void GroupNormForward(int n, int c, int hw, int groups, float eps,
        DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta, DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd);
    /// <summary>
    /// y = SiLU(GroupNorm(x)), saving mean and rstd as <see cref="GroupNormForward"/> does: one pass over y instead of
    /// a normalised tensor written and read back (the UNet blocks' norm-then-activation, a memory-bound pair). This
    /// default composes the two ops, the activation in place on y; a backend overrides it with a fused kernel.
    /// </summary>
    public virtual void GroupNormSiluForward(int n, int c, int hw, int groups, float eps,
        DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta, DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd)
    {
        GroupNormForward(n, c, hw, groups, eps, x, gamma, beta, y, mean, rstd);
        ActivationForward(Activation.SiLU, 0f, (long)n * c * hw, y, y);
    }
    /// <summary>dx (=/+=) input gradient; dgamma, dbeta accumulate.</summary>
    public abstract void GroupNormBackward(int n, int c, int hw, int groups,
        DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer mean, DeviceBuffer rstd, DeviceBuffer dy,
        DeviceBuffer dx, bool accumulate, DeviceBuffer dgamma, DeviceBuffer dbeta);

    // ---- elementwise ----
    public abstract void ActivationForward(Activation act, float slope, long count, DeviceBuffer x, DeviceBuffer y);
    /// <summary>dx (=/+=) dy * act'(x).</summary>
    public abstract void ActivationBackward(Activation act, float slope, long count, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, bool accumulate);
    /// <summary>y = a * x + b * z (y may alias x or z).</summary>
    public abstract void AddScaled(long count, float a, DeviceBuffer x, float b, DeviceBuffer z, DeviceBuffer y);
    /// <summary>y (=/+=) x * z elementwise.</summary>
    public abstract void Mul(long count, DeviceBuffer x, DeviceBuffer z, DeviceBuffer y, bool accumulate);
    /// <summary>y[o, i] (=/+=) s[o] * x[o, i] for o &lt; outer, i &lt; inner (per-sample scalars, per-channel scales).</summary>
    public abstract void ScaleOuter(int outer, long inner, DeviceBuffer s, DeviceBuffer x, DeviceBuffer y, bool accumulate);
    /// <summary>y[o, i] += v[o] (a per-(n,c) value over the spatial axis).</summary>
    public abstract void AddOuter(int outer, long inner, DeviceBuffer v, DeviceBuffer y);
    /// <summary>y[r, c] += v[c] (a bias over the last axis).</summary>
    public abstract void AddInner(int rows, int cols, DeviceBuffer v, DeviceBuffer y);
    /// <summary>y[o] (=/+=) sum_i x[o, i].</summary>
    public abstract void SumInner(int outer, long inner, DeviceBuffer x, DeviceBuffer y, bool accumulate);
    /// <summary>y[c] (=/+=) sum_r x[r, c].</summary>
    public abstract void SumRows(int rows, int cols, DeviceBuffer x, DeviceBuffer y, bool accumulate);
    /// <summary>y = sqrt((a-b)^2 + eps) elementwise.</summary>
    public abstract void CharbonnierForward(long count, float eps, DeviceBuffer a, DeviceBuffer b, DeviceBuffer y);
    /// <summary>da (=/+=) dy * (a-b) / sqrt((a-b)^2 + eps).</summary>
    public abstract void CharbonnierBackward(long count, float eps, DeviceBuffer a, DeviceBuffer b, DeviceBuffer dy, DeviceBuffer da, bool accumulate);

    // ---- layout ----
    /// <summary>
    /// General strided copy over up to 6 dimensions: dst[off + sum i_d*dstStride_d] (=/+=) src[off + sum i_d*srcStride_d].
    /// Covers concat/split, pixel (un)shuffle and window partition/reverse.
    /// </summary>
    public abstract void CopyStrided(ReadOnlySpan<int> shape, DeviceBuffer src, long srcOffset, ReadOnlySpan<long> srcStrides,
        DeviceBuffer dst, long dstOffset, ReadOnlySpan<long> dstStrides, bool accumulate);

    // ---- resampling ----
    /// <summary>2x2 average pool, stride 2, over planes [nc, h, w] (h, w even).</summary>
    public abstract void AvgPool2x2(int nc, int h, int w, DeviceBuffer x, DeviceBuffer y);
    public abstract void AvgPool2x2Backward(int nc, int h, int w, DeviceBuffer dy, DeviceBuffer dx, bool accumulate);
    /// <summary>Nearest-neighbour x2 upsampling of planes [nc, h, w] to [nc, 2h, 2w].</summary>
    public abstract void UpsampleNearest2x(int nc, int h, int w, DeviceBuffer x, DeviceBuffer y);
    public abstract void UpsampleNearest2xBackward(int nc, int h, int w, DeviceBuffer dy, DeviceBuffer dx, bool accumulate);
    /// <summary>Max pool (k x k, stride s, no padding, floor) over planes [nc, h, w].</summary>
    public abstract void MaxPool2d(int nc, int h, int w, int k, int s, DeviceBuffer x, DeviceBuffer y);
    /// <summary>Routes dy to the first maximum of each window (PyTorch's tie rule).</summary>
    public abstract void MaxPool2dBackward(int nc, int h, int w, int k, int s, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, bool accumulate);

    // ---- image filtering (data pipeline and inference; no backward) ----
    /// <summary>
    /// Separable resampling of planes [planes, rows.InSize, cols.InSize] to [planes, rows.OutSize, cols.OutSize]:
    /// y[p, i, j] = sum_a rows.W[i, a] * (sum_b cols.W[j, b] * x[p, rows.Index[i, a], cols.Index[j, b]]).
    /// </summary>
    public abstract void Resample2d(int planes, ResampleAxis rows, ResampleAxis cols, DeviceBuffer x, DeviceBuffer y);
    /// <summary>
    /// Per-sample k x k correlation (kernel not flipped) with reflect-101 padding of k/2, as Real-ESRGAN's filter2D:
    /// x, y [batch, channels, h, w]; kernels [batch, k, k], k odd.
    /// </summary>
    public abstract void Filter2dReflect(int batch, int channels, int h, int w, int k, DeviceBuffer kernels, DeviceBuffer x, DeviceBuffer y);

    /// <summary>Reflect-101 index (..., 2, 1, 0, 1, 2, ..., n-2, n-1, n-2, ...), periodic beyond one reflection.</summary>
    public static int Reflect101(int i, int n)
    {
        if (n == 1) return 0;
        int period = 2 * (n - 1);
        i %= period;
        if (i < 0) i += period;
        return i < n ? i : period - i;
    }

    // ---- window attention ----
    /// <summary>
    /// Fused window attention. qkv: [windows, T, 3 * heads * d] (q, k, v blocks, each heads x d).
    /// probs (saved): [windows, heads, T, T] = softmax(scale * q k^T + table[index(i,j), head]).
    /// out: [windows, T, heads * d] = probs v. T = ws * ws, table [(2ws-1)^2, heads],
    /// index(i,j) = (yi - yj + ws - 1) * (2ws - 1) + (xi - xj + ws - 1).
    /// </summary>
    public abstract void WindowAttentionForward(int windows, int ws, int heads, int d, float scale,
        DeviceBuffer qkv, DeviceBuffer table, DeviceBuffer probs, DeviceBuffer output);
    /// <summary>dqkv (=/+=); dScores (written) = gradient of the pre-softmax scores, [windows, heads, T, T].</summary>
    public abstract void WindowAttentionBackward(int windows, int ws, int heads, int d, float scale,
        DeviceBuffer qkv, DeviceBuffer probs, DeviceBuffer dOutput, DeviceBuffer dqkv, bool accumulate, DeviceBuffer dScores);
    /// <summary>dTable[index(i,j), h] += dBias[h, i, j].</summary>
    public abstract void RelativeBiasBackward(int ws, int heads, DeviceBuffer dBias, DeviceBuffer dTable);

    // ---- optimisers ----
    /// <summary>Decoupled-weight-decay Adam (PyTorch AdamW); step is 1-based.</summary>
    public abstract void AdamWStep(long count, DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v,
        float lr, float beta1, float beta2, float eps, float weightDecay, int step);

    // ---- random numbers (Philox4x32-10, counter = element index + offset) ----
    public abstract void FillUniform(long count, ulong seed, ulong offset, DeviceBuffer y);
    public abstract void FillNormal(long count, ulong seed, ulong offset, DeviceBuffer y);
    /// <summary>y = x * keep / (1-p), keep = uniform(seed, offset + i) >= p.</summary>
    public abstract void Dropout(long count, float p, ulong seed, ulong offset, DeviceBuffer x, DeviceBuffer y);
    public abstract void DropoutBackward(long count, float p, ulong seed, ulong offset, DeviceBuffer dy, DeviceBuffer dx, bool accumulate);

    public virtual void Dispose() => GC.SuppressFinalize(this);
}

public enum Activation { Identity, ReLU, LeakyReLU, SiLU, Gelu, Sigmoid }

/// <summary>Convolution geometry; square kernel, equal stride and zero padding on both axes.</summary>
public readonly record struct ConvShape(int N, int Cin, int H, int W, int Cout, int K, int Stride, int Pad)
{
    public int OutH => (H + 2 * Pad - K) / Stride + 1;
    public int OutW => (W + 2 * Pad - K) / Stride + 1;
    public long Flops => 2L * N * Cout * OutH * OutW * Cin * K * K;
    // methods, not properties: a record's ToString lists its properties, and case names print it
    public long InputLength() => (long)N * Cin * H * W;
    public long WeightLength() => (long)Cout * Cin * K * K;
    public long OutputLength() => (long)N * Cout * OutH * OutW;

    /// <summary>Throws <see cref="ArgumentException"/> for a geometry no kernel can run, or when operand
    /// <paramref name="name"/> holds fewer than <paramref name="need"/> floats.</summary>
    public void CheckForward(DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, DeviceBuffer y)
    {
        CheckOperand("x", x.Length, InputLength());
        CheckOperand("w", w.Length, WeightLength());
        CheckOperand("y", y.Length, OutputLength());
        if (bias is not null) CheckOperand("bias", bias.Length, Cout);
    }

    public void CheckBackwardData(DeviceBuffer dy, DeviceBuffer w, DeviceBuffer dx)
    {
        CheckOperand("dy", dy.Length, OutputLength());
        CheckOperand("w", w.Length, WeightLength());
        CheckOperand("dx", dx.Length, InputLength());
    }

    public void CheckBackwardWeight(DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw, DeviceBuffer? db)
    {
        CheckOperand("x", x.Length, InputLength());
        CheckOperand("dy", dy.Length, OutputLength());
        CheckOperand("dw", dw.Length, WeightLength());
        if (db is not null) CheckOperand("db", db.Length, Cout);
    }

    public void CheckOperand(string name, long length, long need)
    {
        if (N <= 0 || Cin <= 0 || Cout <= 0 || K <= 0 || Stride <= 0 || Pad < 0 || OutH <= 0 || OutW <= 0)
            throw new ArgumentException($"conv: invalid shape N={N} Cin={Cin} H={H} W={W} Cout={Cout} K={K} stride={Stride} pad={Pad}; sizes, kernel and stride must be positive and the padded input at least K wide.");
        if (length < need)
            throw new ArgumentException($"conv: {name} holds {length} floats but shape {this} needs {need}; allocate the tensor with the conv's shape.");
    }
}

/// <summary>A device allocation of float32 elements.</summary>
public abstract class DeviceBuffer : IDisposable
{
    public abstract long Length { get; }
    public abstract Backend Backend { get; }
    public abstract void Dispose();

    /// <summary>Gives the buffer's physical memory back to the system and keeps the allocation: the contents become
    /// undefined and the next write takes fresh pages. Returns whether memory was given back; false (the default)
    /// where the device cannot, and the caller then releases the buffer with <see cref="Dispose"/> instead.</summary>
    public virtual bool Discard() => false;
}
