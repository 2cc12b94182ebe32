using System.Runtime.InteropServices;
using System.Text;
using Ctmsr.Kernels.Gpu;

namespace Ctmsr.Kernels.OpenCL;

/// <summary>One OpenCL device as found by <see cref="OpenClBackend.Enumerate"/>; Index is N in "opencl-c:N".</summary>
public sealed record OpenClDevice(int Index, nint Platform, nint Device, string PlatformName, string Name, string Vendor,
    string DeviceVersion, string DriverVersion, ulong Type, long GlobalMemory, long LocalMemory, int ComputeUnits, int MaxWorkGroup)
{
    public string TypeName => (Type & ClNative.CL_DEVICE_TYPE_GPU) != 0 ? "GPU" : (Type & ClNative.CL_DEVICE_TYPE_CPU) != 0 ? "CPU"
        : (Type & ClNative.CL_DEVICE_TYPE_ACCELERATOR) != 0 ? "accelerator" : "other";
}

/// <summary>
/// The GPU op catalogue on OpenCL 1.2: one context and one in-order profiling queue on one device, buffers as
/// cl_mem, programs built from the shared kernel sources with prelude_opencl.h and cached on disk as binaries.
/// </summary>
public sealed unsafe class OpenClBackend : GpuBackend
{
    const string LibName = "libOpenCL.so.1";
    public const string InstallHint = "apt-get install pocl-opencl-icd ocl-icd-libopencl1 (or the GPU vendor's OpenCL driver)";

    readonly OpenClDevice dev;
    readonly ClContextHandle context;
    readonly ClQueueHandle queue;
    readonly Dictionary<(string, string), ClProgramHandle> programs = [];
    readonly Lock queueLock = new();

    /// <summary>True when libOpenCL.so.1 (an ICD loader) can be loaded.</summary>
    public static bool LibraryPresent() => NativeLibraryPresent(LibName);

    /// <summary>All devices of all platforms, in platform order. Throws when the loader is absent.</summary>
    public static IReadOnlyList<OpenClDevice> Enumerate()
    {
        Ilgpu.OpenClLoader.ConfigureProcess(); // one PoCL per process: PoCL 6 when built (see OpenClLoader)
        if (!LibraryPresent())
            throw new OpenClException($"{LibName} not found: no OpenCL ICD loader on this machine; {InstallHint}, or use --device cpu");
        uint np = 0;
        int st = ClNative.clGetPlatformIDs(0, null, &np);
        if (st == -1001 || np == 0) return [];
        ClStatus.Check(st, "clGetPlatformIDs");
        var plats = new nint[np];
        fixed (nint* pp = plats) ClStatus.Check(ClNative.clGetPlatformIDs(np, pp, null), "clGetPlatformIDs");
        var list = new List<OpenClDevice>();
        foreach (var p in plats)
        {
            uint nd = 0;
            st = ClNative.clGetDeviceIDs(p, ClNative.CL_DEVICE_TYPE_ALL, 0, null, &nd);
            if (st == -1 || nd == 0) continue;
            ClStatus.Check(st, "clGetDeviceIDs");
            var devs = new nint[nd];
            fixed (nint* pd = devs) ClStatus.Check(ClNative.clGetDeviceIDs(p, ClNative.CL_DEVICE_TYPE_ALL, nd, pd, null), "clGetDeviceIDs");
            string pname = PlatformString(p, ClNative.CL_PLATFORM_NAME);
            foreach (var d in devs)
                list.Add(new OpenClDevice(list.Count, p, d, pname, DeviceString(d, ClNative.CL_DEVICE_NAME), DeviceString(d, ClNative.CL_DEVICE_VENDOR),
                    DeviceString(d, ClNative.CL_DEVICE_VERSION), DeviceString(d, ClNative.CL_DRIVER_VERSION),
                    DeviceValue<ulong>(d, ClNative.CL_DEVICE_TYPE), (long)DeviceValue<ulong>(d, ClNative.CL_DEVICE_GLOBAL_MEM_SIZE),
                    (long)DeviceValue<ulong>(d, ClNative.CL_DEVICE_LOCAL_MEM_SIZE), (int)DeviceValue<uint>(d, ClNative.CL_DEVICE_MAX_COMPUTE_UNITS),
                    (int)DeviceValue<nuint>(d, ClNative.CL_DEVICE_MAX_WORK_GROUP_SIZE)));
        }
        return list;
    }

    static string PlatformString(nint p, uint param)
    {
        nuint size = 0;
        ClStatus.Check(ClNative.clGetPlatformInfo(p, param, 0, null, &size), "clGetPlatformInfo");
        var buf = new byte[(int)size];
        fixed (byte* b = buf) ClStatus.Check(ClNative.clGetPlatformInfo(p, param, size, b, null), "clGetPlatformInfo");
        return Encoding.UTF8.GetString(buf).TrimEnd('\0').Trim();
    }

    static string DeviceString(nint d, uint param)
    {
        nuint size = 0;
        ClStatus.Check(ClNative.clGetDeviceInfo(d, param, 0, null, &size), "clGetDeviceInfo");
        var buf = new byte[(int)size];
        fixed (byte* b = buf) ClStatus.Check(ClNative.clGetDeviceInfo(d, param, size, b, null), "clGetDeviceInfo");
        return Encoding.UTF8.GetString(buf).TrimEnd('\0').Trim();
    }

    static T DeviceValue<T>(nint d, uint param) where T : unmanaged
    {
        T v = default;
        ClStatus.Check(ClNative.clGetDeviceInfo(d, param, (nuint)sizeof(T), &v, null), "clGetDeviceInfo");
        return v;
    }

    /// <summary>Opens device <paramref name="index"/> of <see cref="Enumerate"/>.</summary>
    public OpenClBackend(int index = 0)
    {
        dev = PickDevice(Enumerate(), index, "OpenCL",
            $"no OpenCL platform or device found (the ICD loader is present but no driver is registered in /etc/OpenCL/vendors); {InstallHint}, or use --device cpu",
            m => new OpenClException(m));
        nint d = dev.Device;
        int err = 0;
        nint* props = stackalloc nint[3];
        props[0] = 0x1084; // CL_CONTEXT_PLATFORM
        props[1] = dev.Platform;
        props[2] = 0;
        context = ClNative.clCreateContext(props, 1, &d, 0, 0, &err);
        ClStatus.Check(err, "clCreateContext");
        queue = ClNative.clCreateCommandQueue(context, d, ClNative.CL_QUEUE_PROFILING_ENABLE, &err);
        ClStatus.Check(err, "clCreateCommandQueue");
        DeviceKey = $"opencl|{dev.PlatformName}|{dev.Name}|{dev.DeviceVersion}|{dev.DriverVersion}";
    }

    protected override string DeviceKey { get; }

    public OpenClDevice Device => dev;
    public override string Name => $"opencl-c:{dev.Index}";
    public override string Description =>
        $"{dev.Name} ({dev.PlatformName}, {dev.TypeName}, {dev.GlobalMemory / (1024.0 * 1024 * 1024):F1} GiB, {dev.ComputeUnits} compute units, {dev.DeviceVersion}, driver {dev.DriverVersion})";
    protected override long LocalMemoryBytes => Math.Min(dev.LocalMemory, 48 * 1024);

    // PoCL runs a work-group as loops over work-items between barriers: 8 x 8 fat work-items of 16 x 16 results
    // measured 3-8x faster there than the GPU shape (GEMM 512^3: ~1.7 -> 8-22 GFLOP/s on 2 cores).
    protected override TileShape Tile => field ??= TileShape.FromEnvironment()
        ?? ((dev.Type & ClNative.CL_DEVICE_TYPE_GPU) == 0 ? new TileShape(128, 128, 32, 16, 16) : base.Tile);

    // ---- memory ----
    sealed class ClBuffer(OpenClBackend owner, long count, ClMemHandle mem) : GpuBuffer(owner, count, mem)
    {
        public readonly ClMemHandle Mem = mem;
    }

    /// <summary>OpenCL has no free-memory query: free is the device's global memory less what this backend holds.</summary>
    public override DeviceMemoryInfo Memory => new(dev.GlobalMemory, Math.Max(0, dev.GlobalMemory - LiveBytes), LiveBytes);

    ClMemHandle M(DeviceBuffer b) => ((ClBuffer)G(b)).Mem;

    public override DeviceBuffer Allocate(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        int err = 0;
        var mem = ClNative.clCreateBuffer(context, ClNative.CL_MEM_READ_WRITE, (nuint)(Math.Max(count, 1) * sizeof(float)), null, &err);
        if (err != 0) throw ClStatus.Error(err, "clCreateBuffer", $"{count} floats ({count * 4.0 / (1 << 20):F1} MiB) on {dev.Name}");
        TrackBytes(GpuBuffer.BytesFor(count));
        return new ClBuffer(this, count, mem);
    }

    public override void Upload(ReadOnlySpan<float> src, DeviceBuffer dst, long dstOffset = 0)
    {
        CheckCopy(dst, dstOffset, src.Length);
        if (src.Length == 0) return;
        lock (queueLock)
            fixed (float* p = src)
                ClStatus.Check(ClNative.clEnqueueWriteBuffer(queue, M(dst), 1, (nuint)(dstOffset * 4), (nuint)(src.Length * 4L), p, 0, null, null),
                    "clEnqueueWriteBuffer");
    }

    public override void Download(DeviceBuffer src, Span<float> dst, long srcOffset = 0)
    {
        CheckCopy(src, srcOffset, dst.Length);
        if (dst.Length == 0) { Synchronize(); return; }
        lock (queueLock)
            fixed (float* p = dst)
                ClStatus.Check(ClNative.clEnqueueReadBuffer(queue, M(src), 1, (nuint)(srcOffset * 4), (nuint)(dst.Length * 4L), p, 0, null, null),
                    "clEnqueueReadBuffer");
    }

    public override void Synchronize()
    {
        lock (queueLock) ClStatus.Check(ClNative.clFinish(queue), "clFinish");
    }

    // ---- programs ----
    /// <summary>A cl_kernel; released with the backend.</summary>
    sealed class ClKernel(string name, ClKernelHandle handle) : GpuKernel
    {
        public readonly ClKernelHandle Handle = handle;
        public override string Name => name;
        public override void Dispose() { Handle.Dispose(); base.Dispose(); }
    }

    protected override GpuKernel BuildKernel(string program, string kernel, IReadOnlyList<string> defines)
    {
        string options = "-cl-std=CL1.2 " + string.Join(' ', defines.Select(d => "-D" + d));
        if (!programs.TryGetValue((program, options), out var prog))
        {
            prog = BuildProgram(program, options);
            programs[(program, options)] = prog;
        }
        int err = 0;
        var nameBytes = Encoding.ASCII.GetBytes(kernel + "\0");
        ClKernelHandle k;
        fixed (byte* n = nameBytes) k = ClNative.clCreateKernel(prog, n, &err);
        if (err != 0) throw ClStatus.Error(err, "clCreateKernel", $"kernel '{kernel}' in {program}");
        return new ClKernel(kernel, k);
    }

    ClProgramHandle BuildProgram(string program, string options) =>
        LoadOrCompile(program, GpuDialect.OpenCL, options, ".clbin",
            (byte[] binary, out ClProgramHandle prog) => (prog = TryFromBinary(binary, options)!) is not null,
            source => Compile(program, source, options));

    (ClProgramHandle, byte[]?) Compile(string program, string source, string options)
    {
        int err = 0;
        var bytes = Encoding.UTF8.GetBytes(source);
        ClProgramHandle prog;
        fixed (byte* s = bytes)
        {
            byte* sp = s;
            nuint len = (nuint)bytes.Length;
            prog = ClNative.clCreateProgramWithSource(context, 1, &sp, &len, &err);
        }
        ClStatus.Check(err, "clCreateProgramWithSource");
        int st = Build(prog, options);
        if (st != 0)
        {
            string log = BuildLog(prog);
            prog.Dispose();
            throw ClStatus.Error(st, "clBuildProgram", $"{program} with '{options}' on {dev.Name}; build log:\n{log}\n");
        }
        return (prog, Binary(prog));
    }

    int Build(ClProgramHandle prog, string options)
    {
        nint d = dev.Device;
        var opt = Encoding.ASCII.GetBytes(options + "\0");
        fixed (byte* o = opt) return ClNative.clBuildProgram(prog, 1, &d, o, 0, 0);
    }

    ClProgramHandle? TryFromBinary(byte[] binary, string options)
    {
        nint d = dev.Device;
        int err = 0, binStatus = 0;
        ClProgramHandle prog;
        fixed (byte* b = binary)
        {
            byte* bp = b;
            nuint len = (nuint)binary.Length;
            prog = ClNative.clCreateProgramWithBinary(context, 1, &d, &len, &bp, &binStatus, &err);
        }
        if (err != 0 || binStatus != 0) { prog.Dispose(); return null; }
        if (Build(prog, options) != 0) { prog.Dispose(); return null; }
        return prog;
    }

    /// <summary>The device binary of a built program, for the disk cache; null when the driver gives none.</summary>
    static byte[]? Binary(ClProgramHandle prog)
    {
        nuint size = 0;
        if (ClNative.clGetProgramInfo(prog, ClNative.CL_PROGRAM_BINARY_SIZES, (nuint)sizeof(nuint), &size, null) != 0 || size == 0) return null;
        var bin = new byte[(int)size];
        fixed (byte* b = bin)
        {
            byte* bp = b;
            if (ClNative.clGetProgramInfo(prog, ClNative.CL_PROGRAM_BINARIES, (nuint)sizeof(nint), &bp, null) != 0) return null;
        }
        return bin;
    }

    string BuildLog(ClProgramHandle prog)
    {
        nuint size = 0;
        if (ClNative.clGetProgramBuildInfo(prog, dev.Device, ClNative.CL_PROGRAM_BUILD_LOG, 0, null, &size) != 0) return "(no build log)";
        var buf = new byte[(int)size];
        fixed (byte* b = buf)
            if (ClNative.clGetProgramBuildInfo(prog, dev.Device, ClNative.CL_PROGRAM_BUILD_LOG, size, b, null) != 0) return "(no build log)";
        return Encoding.UTF8.GetString(buf).TrimEnd('\0').Trim();
    }

    // ---- launches ----
    protected override void Launch(GpuKernel kernel, in LaunchGrid grid, ReadOnlySpan<KernelArg> args)
    {
        var k = ((ClKernel)kernel).Handle;
        lock (queueLock)
        {
            for (int i = 0; i < args.Length; i++)
            {
                var a = args[i];
                int st;
                switch (a.Kind)
                {
                    case KernelArg.ArgKind.I32: { int v = a.AsInt; st = ClNative.clSetKernelArg(k, (uint)i, 4, &v); break; }
                    case KernelArg.ArgKind.F32: { float v = a.AsFloat; st = ClNative.clSetKernelArg(k, (uint)i, 4, &v); break; }
                    case KernelArg.ArgKind.I64:
                    case KernelArg.ArgKind.U64: { long v = a.Bits; st = ClNative.clSetKernelArg(k, (uint)i, 8, &v); break; }
                    default:
                    {
                        var mem = M(a.Buffer!);
                        nint h = mem.DangerousGetHandle();
                        st = ClNative.clSetKernelArg(k, (uint)i, (nuint)sizeof(nint), &h);
                        break;
                    }
                }
                if (st != 0) throw ClStatus.Error(st, "clSetKernelArg", $"argument {i}");
            }
            nuint* global = stackalloc nuint[3];
            nuint* local = stackalloc nuint[3];
            global[0] = (nuint)((long)grid.GroupsX * grid.LocalX); local[0] = (nuint)grid.LocalX;
            global[1] = (nuint)((long)grid.GroupsY * grid.LocalY); local[1] = (nuint)grid.LocalY;
            global[2] = (nuint)((long)grid.GroupsZ * grid.LocalZ); local[2] = (nuint)grid.LocalZ;
            int s = ClNative.clEnqueueNDRangeKernel(queue, k, 3, null, global, local, 0, null, null);
            if (s != 0) throw ClStatus.Error(s, "clEnqueueNDRangeKernel", $"grid {grid}");
            foreach (var a in args) if (a.Buffer is not null) GC.KeepAlive(a.Buffer);
        }
    }

    /// <summary>Device time between markers enqueued before and after <paramref name="work"/> (queue profiling).</summary>
    public override double MeasureMs(Action work)
    {
        nint e0 = 0, e1 = 0;
        lock (queueLock) ClStatus.Check(ClNative.clEnqueueMarkerWithWaitList(queue, 0, null, &e0), "clEnqueueMarkerWithWaitList");
        try
        {
            work();
            lock (queueLock) ClStatus.Check(ClNative.clEnqueueMarkerWithWaitList(queue, 0, null, &e1), "clEnqueueMarkerWithWaitList");
            ClStatus.Check(ClNative.clWaitForEvents(1, &e1), "clWaitForEvents");
            ulong t0 = 0, t1 = 0;
            ClStatus.Check(ClNative.clGetEventProfilingInfo(e0, ClNative.CL_PROFILING_COMMAND_END, 8, &t0, null), "clGetEventProfilingInfo");
            ClStatus.Check(ClNative.clGetEventProfilingInfo(e1, ClNative.CL_PROFILING_COMMAND_END, 8, &t1, null), "clGetEventProfilingInfo");
            return (t1 - t0) / 1e6;
        }
        finally
        {
            if (e0 != 0) ClNative.clReleaseEvent(e0);
            if (e1 != 0) ClNative.clReleaseEvent(e1);
        }
    }

    public override void Dispose()
    {
        try { Synchronize(); } catch (OpenClException) { }
        base.Dispose();
        foreach (var p in programs.Values) p.Dispose();
        programs.Clear();
        queue.Dispose();
        context.Dispose();
    }
}
