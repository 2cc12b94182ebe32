using System.Runtime.InteropServices;
using System.Text;
using Ctmsr.Kernels.Gpu;
using Microsoft.Win32.SafeHandles;

namespace Ctmsr.Kernels.Cuda;

/// <summary>One CUDA device as found by <see cref="CudaBackend.Enumerate"/>.</summary>
public sealed record CudaDevice(int Index, string Name, long TotalMemory, int Multiprocessors, int CcMajor, int CcMinor,
    long SharedMemoryPerBlock, int DriverVersion);

/// <summary>
/// The GPU op catalogue on the CUDA driver API: the device's primary context, one stream, cuMemAlloc buffers,
/// the shared kernel sources compiled by NVRTC (prelude_cuda.h) to PTX for the device's compute capability and
/// cached on disk, cuLaunchKernel, events for timing.
/// </summary>
public sealed unsafe class CudaBackend : GpuBackend
{
    public const string NoDriver = "libcuda.so.1 not found: no NVIDIA driver on this machine; use --device cpu or opencl";

    readonly CudaDevice dev;
    readonly CuPrimaryContextHandle ctxHandle;
    readonly CuStreamHandle streamHandle;
    // the raw values for driver calls; the handles above own them
    readonly nint ctx;
    readonly nint stream;
    readonly Nvrtc nvrtc;
    readonly Dictionary<(string, string), CuModuleHandle> modules = [];
    readonly Lock streamLock = new();
    bool disposed;

    /// <summary>True when libcuda.so.1 (the NVIDIA driver) can be loaded.</summary>
    public static bool LibraryPresent() => NativeLibraryPresent(CuNative.Lib);

    static void Init()
    {
        if (!LibraryPresent()) throw new CudaException(NoDriver);
        CuStatus.Check(CuNative.cuInit(0), "cuInit");
    }

    /// <summary>All CUDA devices; throws <see cref="CudaException"/> when the driver is absent.</summary>
    public static IReadOnlyList<CudaDevice> Enumerate()
    {
        Init();
        int count = 0, driver = 0;
        int st = CuNative.cuDeviceGetCount(&count);
        if (st == 100) return [];
        CuStatus.Check(st, "cuDeviceGetCount");
        CuStatus.Check(CuNative.cuDriverGetVersion(&driver), "cuDriverGetVersion");
        var list = new List<CudaDevice>();
        for (int i = 0; i < count; i++)
        {
            int d = 0;
            CuStatus.Check(CuNative.cuDeviceGet(&d, i), "cuDeviceGet");
            var name = new byte[256];
            fixed (byte* n = name) CuStatus.Check(CuNative.cuDeviceGetName(n, name.Length, d), "cuDeviceGetName");
            nuint mem = 0;
            CuStatus.Check(CuNative.cuDeviceTotalMem_v2(&mem, d), "cuDeviceTotalMem");
            list.Add(new CudaDevice(i, Encoding.UTF8.GetString(name).TrimEnd('\0'), (long)mem,
                Attr(d, CuNative.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT), Attr(d, CuNative.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
                Attr(d, CuNative.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR), Attr(d, CuNative.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK),
                driver));
        }
        return list;
    }

    static int Attr(int d, int attribute)
    {
        int v = 0;
        CuStatus.Check(CuNative.cuDeviceGetAttribute(&v, attribute, d), "cuDeviceGetAttribute", $"attribute {attribute}");
        return v;
    }

    /// <summary>Opens GPU <paramref name="index"/> (its primary context) and loads NVRTC.</summary>
    public CudaBackend(int index = 0)
    {
        dev = PickDevice(Enumerate(), index, "CUDA",
            "the NVIDIA driver is present but sees no GPU: check nvidia-smi and CUDA_VISIBLE_DEVICES, or use --device cpu or opencl",
            m => new CudaException(m));
        nvrtc = Nvrtc.Load();
        int d = 0;
        CuStatus.Check(CuNative.cuDeviceGet(&d, index), "cuDeviceGet");
        nint c = 0;
        CuStatus.Check(CuNative.cuDevicePrimaryCtxRetain(&c, d), "cuDevicePrimaryCtxRetain");
        ctxHandle = new CuPrimaryContextHandle(d);
        ctxHandle.Set(c);
        ctx = c;
        Current();
        nint s = 0;
        CuStatus.Check(CuNative.cuStreamCreate(&s, 0), "cuStreamCreate");
        streamHandle = new CuStreamHandle(ctx);
        streamHandle.Set(s);
        stream = s;
        DeviceKey = $"cuda|{dev.Name}|sm_{dev.CcMajor}{dev.CcMinor}|driver {dev.DriverVersion}|{nvrtc.Soname} {nvrtc.Version}";
    }

    protected override string DeviceKey { get; }

    public CudaDevice Device => dev;
    public override string Name => $"cuda-c:{dev.Index}";
    public override string Description =>
        $"{dev.Name} (sm_{dev.CcMajor}{dev.CcMinor}, {dev.TotalMemory / (1024.0 * 1024 * 1024):F1} GiB, {dev.Multiprocessors} SMs, " +
        $"driver {dev.DriverVersion / 1000}.{dev.DriverVersion % 1000 / 10}, NVRTC {nvrtc.Version.Major}.{nvrtc.Version.Minor})";
    // static __shared__ arrays are limited to 48 KiB per block
    protected override long LocalMemoryBytes => Math.Min(dev.SharedMemoryPerBlock, 48 * 1024);

    /// <summary>Makes the primary context current on the calling thread (contexts are per thread).</summary>
    void Current()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        CuStatus.Check(CuNative.cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
    }

    // ---- memory ----
    /// <summary>A cuMemAlloc allocation, freed with its context made current.</summary>
    sealed class CuMemHandle(nint context) : SafeHandleZeroOrMinusOneIsInvalid(true)
    {
        public ulong Ptr => (ulong)handle;
        public void Set(ulong p) => SetHandle((nint)p);
        protected override bool ReleaseHandle() => CuNative.cuCtxSetCurrent(context) == 0 && CuNative.cuMemFree_v2((ulong)handle) == 0;
    }

    sealed class CuBuffer(CudaBackend owner, long count, CuMemHandle mem) : GpuBuffer(owner, count, mem)
    {
        public readonly CuMemHandle Mem = mem;
    }

    /// <summary>Free and total from cuMemGetInfo (other processes' allocations included); used is this backend's buffers.</summary>
    public override DeviceMemoryInfo Memory
    {
        get
        {
            Current();
            nuint free = 0, total = 0;
            CuStatus.Check(CuNative.cuMemGetInfo_v2(&free, &total), "cuMemGetInfo");
            return new((long)total, (long)free, LiveBytes);
        }
    }

    ulong P(DeviceBuffer b) => ((CuBuffer)G(b)).Mem.Ptr;

    public override DeviceBuffer Allocate(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Current();
        ulong p = 0;
        CuStatus.Check(CuNative.cuMemAlloc_v2(&p, (nuint)(Math.Max(count, 1) * sizeof(float))), "cuMemAlloc",
            $"{count} floats ({count * 4.0 / (1 << 20):F1} MiB) on {dev.Name}");
        var h = new CuMemHandle(ctx);
        h.Set(p);
        TrackBytes(GpuBuffer.BytesFor(count));
        return new CuBuffer(this, count, h);
    }

    public override void Upload(ReadOnlySpan<float> src, DeviceBuffer dst, long dstOffset = 0)
    {
        CheckCopy(dst, dstOffset, src.Length);
        if (src.Length == 0) return;
        lock (streamLock)
        {
            Current();
            fixed (float* p = src)
            {
                CuStatus.Check(CuNative.cuMemcpyHtoDAsync_v2(P(dst) + (ulong)dstOffset * 4, p, (nuint)(src.Length * 4L), stream), "cuMemcpyHtoDAsync");
                // pageable source: wait before the span may move or change
                CuStatus.Check(CuNative.cuStreamSynchronize(stream), "cuStreamSynchronize");
            }
        }
    }

    public override void Download(DeviceBuffer src, Span<float> dst, long srcOffset = 0)
    {
        CheckCopy(src, srcOffset, dst.Length);
        lock (streamLock)
        {
            Current();
            fixed (float* p = dst)
            {
                if (dst.Length > 0)
                    CuStatus.Check(CuNative.cuMemcpyDtoHAsync_v2(p, P(src) + (ulong)srcOffset * 4, (nuint)(dst.Length * 4L), stream), "cuMemcpyDtoHAsync");
                CuStatus.Check(CuNative.cuStreamSynchronize(stream), "cuStreamSynchronize");
            }
        }
    }

    public override void Synchronize()
    {
        lock (streamLock)
        {
            Current();
            CuStatus.Check(CuNative.cuStreamSynchronize(stream), "cuStreamSynchronize");
        }
    }

    // ---- programs ----
    IEnumerable<int> Architectures()
    {
        int cc = dev.CcMajor * 10 + dev.CcMinor;
        yield return cc;
        foreach (int a in new[] { 90, 89, 86, 80, 75, 70, 61, 60, 52 })
            if (a < cc) yield return a;
    }

    CuModuleHandle Module(string program, IReadOnlyList<string> defines)
    {
        string defs = string.Join(' ', defines);
        if (modules.TryGetValue((program, defs), out var mod)) return mod;
        mod = LoadOrCompile(program, GpuDialect.Cuda, defs, ".ptx", TryLoadModule, source => Compile(program, source, defines, defs));
        modules[(program, defs)] = mod;
        return mod;
    }

    /// <summary>NVRTC to PTX for the newest architecture it supports up to the device's, then loaded.</summary>
    (CuModuleHandle, byte[]?) Compile(string program, string source, IReadOnlyList<string> defines, string defs)
    {
        byte[]? ptx = null;
        foreach (int arch in Architectures())
        {
            var options = new List<string> { $"--gpu-architecture=compute_{arch}", "-DCTMSR_CUDA=1" };
            options.AddRange(defines.Select(d => "-D" + d));
            var p = nvrtc.CompileToPtx(source, program + ".cu", options, out int status);
            if (status == 0) { ptx = p; break; }
        }
        if (ptx is null)
            throw new CudaException($"NVRTC {nvrtc.Version.Major}.{nvrtc.Version.Minor} supports none of the architectures up to sm_{dev.CcMajor}{dev.CcMinor}: install a newer NVRTC, or use --device opencl or cpu");
        if (ptx.Length == 0 || ptx[^1] != 0) ptx = [.. ptx, 0];
        if (!TryLoadModule(ptx, out var mod, out int st)) throw CuStatus.Error(st, "cuModuleLoadData", $"{program} ({defs})");
        return (mod, ptx);
    }

    bool TryLoadModule(byte[] ptx, out CuModuleHandle module) => TryLoadModule(ptx, out module, out _);

    bool TryLoadModule(byte[] ptx, out CuModuleHandle module, out int status)
    {
        Current();
        nint m = 0;
        fixed (byte* p = ptx) status = CuNative.cuModuleLoadData(&m, p);
        module = new CuModuleHandle(ctx);
        if (status == 0) module.Set(m);
        return status == 0;
    }

    /// <summary>A function of a loaded module; owned by the module, so disposing it releases nothing.</summary>
    sealed class CuFunction(string name, nint function) : GpuKernel
    {
        public readonly nint Function = function;
        public override string Name => name;
    }

    protected override GpuKernel BuildKernel(string program, string kernel, IReadOnlyList<string> defines)
    {
        var mod = Module(program, defines);
        nint f = 0;
        var name = Encoding.ASCII.GetBytes(kernel + "\0");
        fixed (byte* n = name) CuStatus.Check(CuNative.cuModuleGetFunction(&f, mod.DangerousGetHandle(), n), "cuModuleGetFunction", $"kernel '{kernel}' in {program}");
        return new CuFunction(kernel, f);
    }

    // ---- launches ----
    protected override void Launch(GpuKernel kernel, in LaunchGrid grid, ReadOnlySpan<KernelArg> args)
    {
        nint f = ((CuFunction)kernel).Function;
        // each argument gets an 8-byte slot (little-endian: a 4-byte value sits at the slot's start)
        long* slots = stackalloc long[args.Length];
        void** ptrs = stackalloc void*[args.Length];
        for (int i = 0; i < args.Length; i++)
        {
            var a = args[i];
            slots[i] = a.Kind switch
            {
                KernelArg.ArgKind.I32 or KernelArg.ArgKind.F32 => (long)(uint)a.Bits,
                KernelArg.ArgKind.Buffer => (long)P(a.Buffer!),
                _ => a.Bits,
            };
            ptrs[i] = &slots[i];
        }
        lock (streamLock)
        {
            Current();
            CuStatus.Check(CuNative.cuLaunchKernel(f, (uint)grid.GroupsX, (uint)grid.GroupsY, (uint)grid.GroupsZ,
                (uint)grid.LocalX, (uint)grid.LocalY, (uint)grid.LocalZ, 0, stream, ptrs, null), "cuLaunchKernel", $"grid {grid}");
        }
    }

    public override double MeasureMs(Action work)
    {
        nint e0 = 0, e1 = 0;
        Current();
        CuStatus.Check(CuNative.cuEventCreate(&e0, 0), "cuEventCreate");
        CuStatus.Check(CuNative.cuEventCreate(&e1, 0), "cuEventCreate");
        try
        {
            lock (streamLock) CuStatus.Check(CuNative.cuEventRecord(e0, stream), "cuEventRecord");
            work();
            lock (streamLock) { Current(); CuStatus.Check(CuNative.cuEventRecord(e1, stream), "cuEventRecord"); }
            CuStatus.Check(CuNative.cuEventSynchronize(e1), "cuEventSynchronize");
            float ms = 0;
            CuStatus.Check(CuNative.cuEventElapsedTime(&ms, e0, e1), "cuEventElapsedTime");
            return ms;
        }
        finally
        {
            CuNative.cuEventDestroy_v2(e0);
            CuNative.cuEventDestroy_v2(e1);
        }
    }

    public override void Dispose()
    {
        if (disposed) return;
        try { Synchronize(); } catch (CudaException) { }
        base.Dispose();
        // modules and the stream before the context they live in
        foreach (var m in modules.Values) m.Dispose();
        modules.Clear();
        streamHandle.Dispose();
        ctxHandle.Dispose();
        disposed = true;
    }
}
