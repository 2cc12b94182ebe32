using System.Reflection;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

// ILGPU emits its kernel launchers into a dynamic assembly of this name; they read our (internal) argument structs.
[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("ILGPURuntime")]

namespace Ctmsr.Kernels.Ilgpu;

/// <summary>Marks a static method as an ILGPU kernel entry (explicitly grouped); the PTX compile test finds them by it.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class IlgpuKernelAttribute : Attribute;

/// <summary>
/// The op catalogue as C# kernels compiled by ILGPU, one source for its CUDA (PTX) and OpenCL accelerators.
/// Kernels are static methods over ArrayViews (files by concept: GemmKernels, ConvKernels, ...), loaded once per
/// backend and cached; launch-shape constants are compile-time constants or <see cref="SpecializedValue{T}"/>
/// arguments. Semantics follow <see cref="Backend"/> exactly (the ReferenceBackend is the oracle). Deterministic:
/// no atomics; every reduction is a fixed tree or a fixed sequential order.
/// All work runs in order on the accelerator's default stream; <see cref="Download"/> synchronises.
/// </summary>
public sealed partial class IlgpuBackend : Backend
{
    /// <summary>Threads per group of elementwise and reduction kernels (a power of two).</summary>
    internal const int Red = 256;
    const int MaxLinearGroups = 65535;

    readonly Accelerator acc;
    readonly Dictionary<MethodInfo, Delegate> kernels = [];
    readonly Lock kernelLock = new();
    bool disposed;

    /// <summary>Opens ILGPU device <paramref name="index"/> of <paramref name="kind"/> ("cuda" or "opencl").</summary>
    public IlgpuBackend(string kind, int index = 0) : this(IlgpuDevices.Open(kind, index)) { }

    /// <summary>Opens <paramref name="device"/> (also ILGPU's CPU accelerator, for debugging a kernel: one OS thread per
    /// simulated thread, far too slow for the test suites).</summary>
    public IlgpuBackend(IlgpuDevice device)
    {
        Device = device;
        acc = device.Device.CreateAccelerator(IlgpuDevices.Context);
    }

    /// <summary>The device this backend runs on.</summary>
    public IlgpuDevice Device { get; }

    public override string Name => Device.Spec;

    public override string Description => $"{Device.Name} (ILGPU {Device.Kind}, {Device.Memory / (1024.0 * 1024 * 1024):F1} GiB, " +
                                          $"{Device.ComputeUnits} compute units, {Device.Driver})";

    /// <summary>Tf32 and bf16 run the tensor-core kernels (<see cref="TensorCoreKernels"/>): CUDA devices of compute
    /// capability 8.0 or newer only (mma.sync with tf32/bf16 operands is sm_80; OpenCL cannot express it).</summary>
    public override string? PrecisionUnsupported(MatmulPrecision p)
    {
        if (p == MatmulPrecision.Fp32) return null;
        if (acc is CudaAccelerator cuda)
        {
            var arch = cuda.Architecture;
            if (arch.Major >= 8) return null;
            return $"--precision {Kernels.Precision.Name(p)} needs tensor cores of compute capability 8.0 or newer, and device '{Name}' ({Device.Name}) " +
                   $"is sm_{arch.Major}{arch.Minor}: use --precision fp32";
        }
        return base.PrecisionUnsupported(p);
    }

    long liveBytes;

    /// <summary>Total from the accelerator; used is this backend's live buffers; free is their difference (ILGPU does
    /// not report other processes' allocations, which then surface as an out-of-memory error the tilers answer).</summary>
    public override DeviceMemoryInfo Memory
    {
        get
        {
            long used = Interlocked.Read(ref liveBytes);
            return new(acc.MemorySize, Math.Max(0, acc.MemorySize - used), used);
        }
    }

    public override void Dispose()
    {
        if (disposed) return;
        disposed = true;
        lock (kernelLock) kernels.Clear();
        acc.Dispose();
        base.Dispose();
    }

    // ---- memory ----
    sealed class IlgpuBuffer(IlgpuBackend owner, long count, MemoryBuffer1D<float, Stride1D.Dense> mem) : DeviceBuffer
    {
        public readonly MemoryBuffer1D<float, Stride1D.Dense> Mem = mem;
        public override long Length => count;
        public override Backend Backend => owner;
        int disposed;

        public override void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) != 0) return;
            Mem.Dispose();
            Interlocked.Add(ref owner.liveBytes, -Mem.LengthInBytes);
        }
    }

    IlgpuBuffer B(DeviceBuffer b) =>
        b is IlgpuBuffer g && ReferenceEquals(b.Backend, this) ? g
        : throw new ArgumentException($"buffer belongs to backend '{b.Backend.Name}', not '{Name}': allocate it with this backend");

    /// <summary>The whole buffer as a kernel argument.</summary>
    ArrayView<float> V(DeviceBuffer b) => B(b).Mem.View;

    public override DeviceBuffer Allocate(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        try
        {
            var mem = acc.Allocate1D<float>(Math.Max(count, 1));
            Interlocked.Add(ref liveBytes, mem.LengthInBytes);
            return new IlgpuBuffer(this, count, mem);
        }
        catch (Exception e) when (IlgpuDevices.IsOutOfMemory(e))
        {
            throw new DeviceOutOfMemoryException(
                $"{Name} is out of memory allocating {count} floats ({count * 4.0 / (1 << 20):F1} MiB): use smaller tiles or batches, or another device", e);
        }
    }

    static void CheckRange(DeviceBuffer b, long offset, long count, string what)
    {
        if (offset < 0 || count < 0 || offset + count > b.Length)
            throw new ArgumentOutOfRangeException(what, $"range [{offset}, {offset + count}) is outside a buffer of {b.Length} floats");
    }

    public override void Upload(ReadOnlySpan<float> src, DeviceBuffer dst, long dstOffset = 0)
    {
        CheckRange(dst, dstOffset, src.Length, nameof(dst));
        if (src.Length == 0) return;
        V(dst).SubView(dstOffset, src.Length).CopyFromCPU(acc.DefaultStream, src);
        // the copy may be asynchronous on some drivers; the caller may reuse src at once
        acc.DefaultStream.Synchronize();
    }

    public override void Download(DeviceBuffer src, Span<float> dst, long srcOffset = 0)
    {
        CheckRange(src, srcOffset, dst.Length, nameof(src));
        acc.DefaultStream.Synchronize();
        if (dst.Length == 0) return;
        V(src).SubView(srcOffset, dst.Length).CopyToCPU(acc.DefaultStream, dst);
        acc.DefaultStream.Synchronize();
    }

    public override void Synchronize() => acc.DefaultStream.Synchronize();

    public override void Fill(DeviceBuffer dst, float value, long offset, long count)
    {
        CheckRange(dst, offset, count, nameof(dst));
        if (count == 0) return;
        Launch(ElementwiseKernels.Fill, Linear(count), V(dst), new ElementwiseKernels.FillArgs { Offset = offset, Count = count, Value = value });
    }

    // ---- launch shapes ----
    static int Ceil(long a, int b) => checked((int)((a + b - 1) / b));

    /// <summary>Grid-stride launch over n elements: groups of <see cref="Red"/> threads.</summary>
    static KernelConfig Linear(long n) => new(Math.Clamp((int)Math.Min((n + Red - 1) / Red, int.MaxValue), 1, MaxLinearGroups), Red);

    /// <summary>One group of <see cref="Red"/> threads per item (reductions).</summary>
    static KernelConfig PerItem(int items) => new(items, Red);

    /// <summary>A (x, y, z) grid of GEMM tiles.</summary>
    static KernelConfig Tiles(int x, int y, int z) => new(new Index3D(x, y, z), new Index3D(TileGemm.Threads, 1, 1));

    // ---- kernel cache: one loaded launcher per kernel method (ILGPU caches the specialised variants inside it) ----
    TDelegate Load<TDelegate>(Delegate kernel, Func<TDelegate> load) where TDelegate : Delegate
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        lock (kernelLock)
        {
            if (!kernels.TryGetValue(kernel.Method, out var d))
            {
                d = load();
                kernels[kernel.Method] = d;
            }
            return (TDelegate)d;
        }
    }

    void Launch<T1>(Action<T1> k, KernelConfig c, T1 a1)
        where T1 : struct
        => Load(k, () => acc.LoadStreamKernel(k))(c, a1);

    void Launch<T1, T2>(Action<T1, T2> k, KernelConfig c, T1 a1, T2 a2)
        where T1 : struct where T2 : struct
        => Load(k, () => acc.LoadStreamKernel(k))(c, a1, a2);

    void Launch<T1, T2, T3>(Action<T1, T2, T3> k, KernelConfig c, T1 a1, T2 a2, T3 a3)
        where T1 : struct where T2 : struct where T3 : struct
        => Load(k, () => acc.LoadStreamKernel(k))(c, a1, a2, a3);

    void Launch<T1, T2, T3, T4>(Action<T1, T2, T3, T4> k, KernelConfig c, T1 a1, T2 a2, T3 a3, T4 a4)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct
        => Load(k, () => acc.LoadStreamKernel(k))(c, a1, a2, a3, a4);

    void Launch<T1, T2, T3, T4, T5>(Action<T1, T2, T3, T4, T5> k, KernelConfig c, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct
        => Load(k, () => acc.LoadStreamKernel(k))(c, a1, a2, a3, a4, a5);

    void Launch<T1, T2, T3, T4, T5, T6>(Action<T1, T2, T3, T4, T5, T6> k, KernelConfig c, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct
        => Load(k, () => acc.LoadStreamKernel(k))(c, a1, a2, a3, a4, a5, a6);

    void Launch<T1, T2, T3, T4, T5, T6, T7>(Action<T1, T2, T3, T4, T5, T6, T7> k, KernelConfig c,
        T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct
        => Load(k, () => acc.LoadStreamKernel(k))(c, a1, a2, a3, a4, a5, a6, a7);

    void Launch<T1, T2, T3, T4, T5, T6, T7, T8>(Action<T1, T2, T3, T4, T5, T6, T7, T8> k, KernelConfig c,
        T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7, T8 a8)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct
        where T8 : struct
        => Load(k, () => acc.LoadStreamKernel(k))(c, a1, a2, a3, a4, a5, a6, a7, a8);
}
