namespace Ctmsr.Kernels.Gpu;

/// <summary>GEMM tile: TM x TN outputs per work-group, TK deep, RM x RN per work-item (local size TN/RN x TM/RM).</summary>
public sealed record TileShape(int Tm, int Tn, int Tk, int Rm, int Rn)
{
    public static TileShape? FromEnvironment()
    {
        var env = Environment.GetEnvironmentVariable("CTMSR_GEMM_TILE");
        if (string.IsNullOrWhiteSpace(env)) return null;
        var v = env.Split(',').Select(t => int.TryParse(t, out int x) ? x : -1).ToArray();
        if (v.Length != 5 || v.Any(x => x <= 0) || v[0] % v[3] != 0 || v[1] % v[4] != 0)
            throw new ArgumentException($"CTMSR_GEMM_TILE='{env}' is not 'TM,TN,TK,RM,RN' with RM dividing TM and RN dividing TN: fix or unset it");
        return new TileShape(v[0], v[1], v[2], v[3], v[4]);
    }
}

/// <summary>
/// The op catalogue for GPU APIs, written once over the shared kernel sources (Gpu/*.k): each op picks a
/// kernel, its -D launch-shape defines and a grid. OpenCL and CUDA supply only memory, compilation and launch.
/// Semantics follow <see cref="Backend"/> exactly (the ReferenceBackend is the oracle).
/// </summary>
public abstract class GpuBackend : Backend
{
    /// <summary>Work-group size of elementwise and reduction kernels (RED in the sources; a power of two).</summary>
    protected const int Red = 256;
    const int MaxLinearGroups = 65535;
    int Tm => Tile.Tm;
    int Tn => Tile.Tn;
    int Rm => Tile.Rm;
    int Rn => Tile.Rn;
    string TileDefines => field ??= $"TM={Tile.Tm} TN={Tile.Tn} TK={Tile.Tk} RM={Tile.Rm} RN={Tile.Rn}";

    /// <summary>
    /// GEMM / implicit-GEMM tile shape. GPUs: 64 x 64 x 16 with 4 x 4 per work-item (256 work-items). CPU OpenCL
    /// (PoCL) prefers few fat work-items. $CTMSR_GEMM_TILE="TM,TN,TK,RM,RN" overrides it (for tuning).
    /// </summary>
    protected virtual TileShape Tile => field ??= TileShape.FromEnvironment() ?? new TileShape(64, 64, 16, 4, 4);

    readonly Dictionary<(string Program, string Kernel, string Defines), GpuKernel> kernels = [];
    readonly Lock kernelLock = new();

    /// <summary>Bytes of local (shared) memory a work-group may use.</summary>
    protected abstract long LocalMemoryBytes { get; }

    /// <summary>Compiles (or loads from the disk cache) <paramref name="program"/> with the -D defines
    /// "NAME=VALUE" separated by spaces and returns a handle for <paramref name="kernel"/>.</summary>
    protected abstract GpuKernel BuildKernel(string program, string kernel, IReadOnlyList<string> defines);

    /// <summary>Enqueues one launch; asynchronous.</summary>
    protected abstract void Launch(GpuKernel kernel, in LaunchGrid grid, ReadOnlySpan<KernelArg> args);

    /// <summary>Device time in milliseconds of the work <paramref name="work"/> enqueues (GPU events).</summary>
    public abstract double MeasureMs(Action work);

    /// <summary>Identity of the device, driver and compiler, part of every disk-cache key.</summary>
    protected abstract string DeviceKey { get; }

    /// <summary>Reads a compiled program back from the disk cache; false for an entry the driver no longer accepts.</summary>
    protected delegate bool TryFromCache<T>(byte[] binary, out T program);

    /// <summary>
    /// <paramref name="program"/> assembled for <paramref name="dialect"/>, from the disk cache (key: source, options,
    /// <see cref="DeviceKey"/>) when an entry loads, else compiled by <paramref name="compile"/> (source text in; program and
    /// the binary to cache out, the binary null when the API gives none). An entry that does not load is dropped.
    /// </summary>
    protected T LoadOrCompile<T>(string program, GpuDialect dialect, string options, string extension,
        TryFromCache<T> fromCache, Func<string, (T Program, byte[]? Binary)> compile)
    {
        string source = KernelSources.Assemble(program, dialect);
        string key = KernelCache.Key(source, options, DeviceKey);
        var cached = KernelCache.TryLoad(key, extension);
        if (cached is not null)
        {
            if (fromCache(cached, out var loaded)) return loaded;
            KernelCache.Remove(key, extension);
        }
        var (compiled, binary) = compile(source);
        if (binary is not null) KernelCache.Store(key, extension, binary);
        return compiled;
    }

    /// <summary>True when the native library <paramref name="name"/> (an API's loader or driver) can be loaded.</summary>
    protected static bool NativeLibraryPresent(string name)
    {
        if (!System.Runtime.InteropServices.NativeLibrary.TryLoad(name, typeof(GpuBackend).Assembly, null, out var h)) return false;
        System.Runtime.InteropServices.NativeLibrary.Free(h);
        return true;
    }

    /// <summary>Device <paramref name="index"/> of <paramref name="all"/>, or the API's exception (made by
    /// <paramref name="error"/>) saying none exist (<paramref name="noneFound"/>) or which indices do.</summary>
    protected static T PickDevice<T>(IReadOnlyList<T> all, int index, string api, string noneFound, Func<string, Exception> error)
    {
        if (all.Count == 0) throw error(noneFound);
        if (index < 0 || index >= all.Count)
            throw error($"{api} device {index} does not exist: this machine has {all.Count} (0..{all.Count - 1}; run 'ctmsr devices' to list them)");
        return all[index];
    }

    long liveBytes;

    /// <summary>Bytes held by this backend's live buffers (<see cref="DeviceMemoryInfo.Used"/>).</summary>
    protected long LiveBytes => Interlocked.Read(ref liveBytes);

    /// <summary>Counts an allocation (positive) or its release (negative) in <see cref="LiveBytes"/>.</summary>
    internal void TrackBytes(long delta) => Interlocked.Add(ref liveBytes, delta);

    /// <summary>Number of programs compiled so far (diagnostics).</summary>
    public int CompiledKernels { get { lock (kernelLock) return kernels.Count; } }

    public override void Dispose()
    {
        lock (kernelLock)
        {
            foreach (var k in kernels.Values) k.Dispose();
            kernels.Clear();
        }
        base.Dispose();
    }

    protected GpuBuffer G(DeviceBuffer b) =>
        b is GpuBuffer g && ReferenceEquals(b.Backend, this) ? g
        : throw new ArgumentException($"buffer belongs to backend '{b.Backend.Name}', not '{Name}': allocate it with this backend");

    void Run(string program, string kernel, string defines, in LaunchGrid grid, ReadOnlySpan<KernelArg> args)
    {
        GpuKernel k;
        lock (kernelLock)
        {
            if (!kernels.TryGetValue((program, kernel, defines), out k!))
            {
                var list = ("RED=" + Red + " " + defines).Split(' ', StringSplitOptions.RemoveEmptyEntries);
                k = BuildKernel(program, kernel, list);
                kernels[(program, kernel, defines)] = k;
            }
        }
        Launch(k, grid, args);
    }

    static LaunchGrid Linear(long n) => LaunchGrid.Linear((int)Math.Clamp((n + Red - 1) / Red, 1, MaxLinearGroups), Red);
    static int Ceil(long a, int b) => checked((int)((a + b - 1) / b));
    static void CheckRange(DeviceBuffer b, long offset, long count, string what)
    {
        if (offset < 0 || count < 0 || offset + count > b.Length)
            throw new ArgumentOutOfRangeException(what, $"range [{offset}, {offset + count}) is outside a buffer of {b.Length} floats");
    }

    // ---- memory ----
    public override void Fill(DeviceBuffer dst, float value, long offset, long count)
    {
        CheckRange(dst, offset, count, nameof(dst));
        if (count == 0) return;
        Run("elementwise.k", "fill", "", Linear(count), [G(dst), offset, count, value]);
    }

    protected static void CheckCopy(DeviceBuffer b, long offset, int count) => CheckRange(b, offset, count, "buffer");

    // ---- linear algebra ----
    public override void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
        DeviceBuffer a, long offA, int lda, long strideA, DeviceBuffer b, long offB, int ldb, long strideB,
        float beta, DeviceBuffer c, long offC, int ldc, long strideC, int batch)
    {
        if (!GemmOperands.Check(transA, transB, m, n, k, a, offA, lda, strideA, b, offB, ldb, strideB, c, offC, ldc, strideC, batch)) return;
        var grid = new LaunchGrid(Ceil(n, Tn), Ceil(m, Tm), batch, Tn / Rn, Tm / Rm, 1);
        Run("gemm.k", "gemm", $"{TileDefines} TRANS_A={(transA ? 1 : 0)} TRANS_B={(transB ? 1 : 0)}", grid,
            [m, n, k, alpha, G(a), offA, lda, strideA, G(b), offB, ldb, strideB, beta, G(c), offC, ldc, strideC]);
    }

    // ---- convolution ----
    string ConvDefines(in ConvShape s) => $"{TileDefines} KS={s.K} STRIDE={s.Stride} PAD={s.Pad}";

    public override void Conv2dForward(in ConvShape s, DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, DeviceBuffer y)
    {
        s.CheckForward(x, w, bias, y);
        long cols = (long)s.N * s.OutH * s.OutW;
        var grid = new LaunchGrid(Ceil(cols, Tn), Ceil(s.Cout, Tm), 1, Tn / Rn, Tm / Rm, 1);
        Run("conv.k", "conv_fwd", ConvDefines(s), grid,
            [s.N, s.Cin, s.H, s.W, s.Cout, s.OutH, s.OutW, G(x), G(w), G(bias ?? w), bias is not null, G(y)]);
    }

    public override void Conv2dBackwardData(in ConvShape s, DeviceBuffer dy, DeviceBuffer w, DeviceBuffer dx, bool accumulate)
    {
        s.CheckBackwardData(dy, w, dx);
        long cols = (long)s.N * s.H * s.W;
        var grid = new LaunchGrid(Ceil(cols, Tn), Ceil(s.Cin, Tm), 1, Tn / Rn, Tm / Rm, 1);
        Run("conv.k", "conv_bwd_data", ConvDefines(s), grid,
            [s.N, s.Cin, s.H, s.W, s.Cout, s.OutH, s.OutW, G(dy), G(w), G(dx), accumulate]);
    }

    public override void Conv2dBackwardWeight(in ConvShape s, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw, DeviceBuffer? db)
    {
        s.CheckBackwardWeight(x, dy, dw, db);
        int kdim = s.Cin * s.K * s.K;
        var grid = new LaunchGrid(Ceil(kdim, Tn), Ceil(s.Cout, Tm), 1, Tn / Rn, Tm / Rm, 1);
        Run("conv.k", "conv_bwd_weight", ConvDefines(s), grid,
            [s.N, s.Cin, s.H, s.W, s.Cout, s.OutH, s.OutW, G(x), G(dy), G(dw)]);
        if (db is not null)
            Run("conv.k", "conv_bias_grad", ConvDefines(s), LaunchGrid.Linear(s.Cout, Red),
                [s.N, s.Cout, s.OutH * s.OutW, G(dy), G(db)]);
    }

    // ---- normalisation ----
    public override void GroupNormForward(int n, int c, int hw, int groups, float eps,
        DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta, DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd)
    {
        if (n * groups == 0) return;
        Run("groupnorm.k", "gn_fwd", "", LaunchGrid.Linear(n * groups, Red),
            [c, hw, groups, eps, G(x), G(gamma), G(beta), G(y), G(mean), G(rstd)]);
    }

    public override void GroupNormBackward(int n, int c, int hw, int groups,
        DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer mean, DeviceBuffer rstd, DeviceBuffer dy,
        DeviceBuffer dx, bool accumulate, DeviceBuffer dgamma, DeviceBuffer dbeta)
    {
        if (n * groups == 0) return;
        Run("groupnorm.k", "gn_bwd_dx", "", LaunchGrid.Linear(n * groups, Red),
            [c, hw, groups, G(x), G(gamma), G(mean), G(rstd), G(dy), G(dx), accumulate]);
        Run("groupnorm.k", "gn_bwd_params", "", LaunchGrid.Linear(c, Red),
            [n, c, hw, groups, G(x), G(mean), G(rstd), G(dy), G(dgamma), G(dbeta)]);
    }

    // ---- elementwise ----
    public override void ActivationForward(Activation act, float slope, long count, DeviceBuffer x, DeviceBuffer y)
    {
        if (count == 0) return;
        Run("elementwise.k", "act_fwd", "", Linear(count), [(int)act, slope, count, G(x), G(y)]);
    }

    public override void ActivationBackward(Activation act, float slope, long count, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, bool accumulate)
    {
        if (count == 0) return;
        Run("elementwise.k", "act_bwd", "", Linear(count), [(int)act, slope, count, G(x), G(dy), G(dx), accumulate]);
    }

    public override void AddScaled(long count, float a, DeviceBuffer x, float b, DeviceBuffer z, DeviceBuffer y)
    {
        if (count == 0) return;
        Run("elementwise.k", "add_scaled", "", Linear(count), [count, a, G(x), b, G(z), G(y)]);
    }

    public override void Mul(long count, DeviceBuffer x, DeviceBuffer z, DeviceBuffer y, bool accumulate)
    {
        if (count == 0) return;
        Run("elementwise.k", "mul", "", Linear(count), [count, G(x), G(z), G(y), accumulate]);
    }

    public override void ScaleOuter(int outer, long inner, DeviceBuffer s, DeviceBuffer x, DeviceBuffer y, bool accumulate)
    {
        long n = outer * inner;
        if (n == 0) return;
        Run("elementwise.k", "scale_outer", "", Linear(n), [n, inner, G(s), G(x), G(y), accumulate]);
    }

    public override void AddOuter(int outer, long inner, DeviceBuffer v, DeviceBuffer y)
    {
        long n = outer * inner;
        if (n == 0) return;
        Run("elementwise.k", "add_outer", "", Linear(n), [n, inner, G(v), G(y)]);
    }

    public override void AddInner(int rows, int cols, DeviceBuffer v, DeviceBuffer y)
    {
        long n = (long)rows * cols;
        if (n == 0) return;
        Run("elementwise.k", "add_inner", "", Linear(n), [n, cols, G(v), G(y)]);
    }

    public override void SumInner(int outer, long inner, DeviceBuffer x, DeviceBuffer y, bool accumulate)
    {
        if (outer == 0) return;
        Run("elementwise.k", "sum_inner", "", LaunchGrid.Linear(outer, Red), [inner, G(x), G(y), accumulate]);
    }

    public override void SumRows(int rows, int cols, DeviceBuffer x, DeviceBuffer y, bool accumulate)
    {
        if (cols == 0) return;
        Run("elementwise.k", "sum_rows", "", LaunchGrid.Linear(Ceil(cols, Red), Red), [rows, cols, G(x), G(y), accumulate]);
    }

    public override void CharbonnierForward(long count, float eps, DeviceBuffer a, DeviceBuffer b, DeviceBuffer y)
    {
        if (count == 0) return;
        Run("elementwise.k", "charbonnier_fwd", "", Linear(count), [count, eps, G(a), G(b), G(y)]);
    }

    public override void CharbonnierBackward(long count, float eps, DeviceBuffer a, DeviceBuffer b, DeviceBuffer dy, DeviceBuffer da, bool accumulate)
    {
        if (count == 0) return;
        Run("elementwise.k", "charbonnier_bwd", "", Linear(count), [count, eps, G(a), G(b), G(dy), G(da), accumulate]);
    }

    // ---- layout ----
    public override void CopyStrided(ReadOnlySpan<int> shape, DeviceBuffer src, long srcOffset, ReadOnlySpan<long> srcStrides,
        DeviceBuffer dst, long dstOffset, ReadOnlySpan<long> dstStrides, bool accumulate)
    {
        var sh = new StridedCopyShape(shape, srcStrides, dstStrides,
            stackalloc int[StridedCopyShape.MaxDims], stackalloc long[StridedCopyShape.MaxDims], stackalloc long[StridedCopyShape.MaxDims]);
        long total = sh.Total;
        if (total == 0) return;
        Span<int> n = sh.N;
        Span<long> ss = sh.Src, ds = sh.Dst;
        Run("layout.k", "copy_strided", "", Linear(total),
            [total, n[0], n[1], n[2], n[3], n[4], n[5],
             G(src), srcOffset, ss[0], ss[1], ss[2], ss[3], ss[4], ss[5],
             G(dst), dstOffset, ds[0], ds[1], ds[2], ds[3], ds[4], ds[5], accumulate]);
    }

    // ---- resampling ----
    public override void Resample2d(int planes, ResampleAxis rows, ResampleAxis cols, DeviceBuffer x, DeviceBuffer y)
    {
        long n = (long)planes * rows.OutSize * cols.OutSize;
        if (n == 0) return;
        CheckRange(x, 0, (long)planes * rows.InSize * cols.InSize, nameof(x));
        CheckRange(y, 0, n, nameof(y));
        // The tap tables are small; they live only for this launch (Synchronize before freeing them).
        using var ryi = Allocate(rows.Index.Length); using var ryw = Allocate(rows.Weight.Length);
        using var rxi = Allocate(cols.Index.Length); using var rxw = Allocate(cols.Weight.Length);
        Upload(rows.IndexAsFloat(), ryi); Upload(rows.Weight, ryw);
        Upload(cols.IndexAsFloat(), rxi); Upload(cols.Weight, rxw);
        Run("image.k", "resample2d", "", Linear(n),
            [planes, rows.InSize, cols.InSize, rows.OutSize, cols.OutSize, rows.Taps, cols.Taps, G(ryi), G(ryw), G(rxi), G(rxw), G(x), G(y)]);
        Synchronize();
    }

    public override void Filter2dReflect(int batch, int channels, int h, int w, int k, DeviceBuffer kernels, DeviceBuffer x, DeviceBuffer y)
    {
        if (k <= 0 || k % 2 == 0) throw new ArgumentException($"Filter2dReflect: kernel size {k} must be odd and positive");
        long n = (long)batch * channels * h * w;
        if (n == 0) return;
        CheckRange(kernels, 0, (long)batch * k * k, nameof(kernels));
        CheckRange(x, 0, n, nameof(x));
        CheckRange(y, 0, n, nameof(y));
        Run("image.k", "filter2d_reflect", "", Linear(n), [batch * channels, channels, h, w, k, G(kernels), G(x), G(y)]);
    }

    public override void AvgPool2x2(int nc, int h, int w, DeviceBuffer x, DeviceBuffer y)
    {
        long n = (long)nc * (h / 2) * (w / 2);
        if (n == 0) return;
        Run("pool.k", "avgpool2", "", Linear(n), [nc, h, w, G(x), G(y)]);
    }

    public override void AvgPool2x2Backward(int nc, int h, int w, DeviceBuffer dy, DeviceBuffer dx, bool accumulate)
    {
        long n = (long)nc * h * w;
        if (n == 0) return;
        Run("pool.k", "avgpool2_bwd", "", Linear(n), [nc, h, w, G(dy), G(dx), accumulate]);
    }

    public override void UpsampleNearest2x(int nc, int h, int w, DeviceBuffer x, DeviceBuffer y)
    {
        long n = 4L * nc * h * w;
        if (n == 0) return;
        Run("pool.k", "upsample2", "", Linear(n), [nc, h, w, G(x), G(y)]);
    }

    public override void UpsampleNearest2xBackward(int nc, int h, int w, DeviceBuffer dy, DeviceBuffer dx, bool accumulate)
    {
        long n = (long)nc * h * w;
        if (n == 0) return;
        Run("pool.k", "upsample2_bwd", "", Linear(n), [nc, h, w, G(dy), G(dx), accumulate]);
    }

    public override void MaxPool2d(int nc, int h, int w, int k, int s, DeviceBuffer x, DeviceBuffer y)
    {
        long n = (long)nc * ((h - k) / s + 1) * ((w - k) / s + 1);
        if (n <= 0) return;
        Run("pool.k", "maxpool", "", Linear(n), [nc, h, w, k, s, G(x), G(y)]);
    }

    public override void MaxPool2dBackward(int nc, int h, int w, int k, int s, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, bool accumulate)
    {
        long n = (long)nc * h * w;
        if (n == 0) return;
        Run("pool.k", "maxpool_bwd", "", Linear(n), [nc, h, w, k, s, G(x), G(dy), G(dx), accumulate]);
    }

    // ---- window attention ----
    string AttentionDefines(int ws, int d)
    {
        int t = ws * ws;
        // the backward stages Q, K, V and dO (4 x T x d floats); both directions use the same decision
        bool local = 4L * t * d * sizeof(float) <= LocalMemoryBytes;
        return $"WS={ws} WT={t} HD={d} USE_LOCAL={(local ? 1 : 0)}";
    }

    static int AttentionLocal(int t) => Math.Min(t, Red);

    public override void WindowAttentionForward(int windows, int ws, int heads, int d, float scale,
        DeviceBuffer qkv, DeviceBuffer table, DeviceBuffer probs, DeviceBuffer output)
    {
        if (windows * heads == 0) return;
        Run("attention.k", "attn_fwd", AttentionDefines(ws, d), LaunchGrid.Linear(windows * heads, AttentionLocal(ws * ws)),
            [heads, scale, G(qkv), G(table), G(probs), G(output)]);
    }

    public override void WindowAttentionBackward(int windows, int ws, int heads, int d, float scale,
        DeviceBuffer qkv, DeviceBuffer probs, DeviceBuffer dOutput, DeviceBuffer dqkv, bool accumulate, DeviceBuffer dScores)
    {
        if (windows * heads == 0) return;
        Run("attention.k", "attn_bwd", AttentionDefines(ws, d), LaunchGrid.Linear(windows * heads, AttentionLocal(ws * ws)),
            [heads, scale, G(qkv), G(probs), G(dOutput), G(dqkv), accumulate, G(dScores)]);
    }

    public override void RelativeBiasBackward(int ws, int heads, DeviceBuffer dBias, DeviceBuffer dTable)
    {
        int n = (2 * ws - 1) * (2 * ws - 1) * heads;
        if (n == 0) return;
        Run("attention.k", "rel_bias_bwd", $"WS={ws} WT={ws * ws} HD=1 USE_LOCAL=0", LaunchGrid.Linear(Ceil(n, Red), Red),
            [heads, G(dBias), G(dTable)]);
    }

    // ---- optimisers ----
    public override void AdamWStep(long count, DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v,
        float lr, float beta1, float beta2, float eps, float weightDecay, int step)
    {
        if (count == 0) return;
        // the same float32 scalars as CpuBackend
        float bc1 = 1f - MathF.Pow(beta1, step), bc2Sqrt = MathF.Sqrt(1f - MathF.Pow(beta2, step));
        float stepSize = lr / bc1, decay = 1f - lr * weightDecay;
        Run("optim.k", "adamw", "", Linear(count), [count, G(param), G(grad), G(m), G(v), beta1, beta2, eps, stepSize, bc2Sqrt, decay]);
    }

    // ---- random numbers ----
    public override void FillUniform(long count, ulong seed, ulong offset, DeviceBuffer y)
    {
        if (count == 0) return;
        Run("philox.k", "fill_uniform", "", Linear(count), [count, seed, offset, G(y)]);
    }

    public override void FillNormal(long count, ulong seed, ulong offset, DeviceBuffer y)
    {
        if (count == 0) return;
        Run("philox.k", "fill_normal", "", Linear(count), [count, seed, offset, G(y)]);
    }

    public override void Dropout(long count, float p, ulong seed, ulong offset, DeviceBuffer x, DeviceBuffer y)
    {
        if (count == 0) return;
        Run("philox.k", "dropout", "", Linear(count), [count, p, 1f / (1f - p), seed, offset, G(x), G(y)]);
    }

    public override void DropoutBackward(long count, float p, ulong seed, ulong offset, DeviceBuffer dy, DeviceBuffer dx, bool accumulate)
    {
        if (count == 0) return;
        Run("philox.k", "dropout_bwd", "", Linear(count), [count, p, 1f / (1f - p), seed, offset, G(dy), G(dx), accumulate]);
    }
}
