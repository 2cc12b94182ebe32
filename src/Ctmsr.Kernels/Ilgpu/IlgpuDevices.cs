using ILGPU;
using ILGPU.Backends.OpenCL;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace Ctmsr.Kernels.Ilgpu;

/// <summary>One device ILGPU can run the kernels on; Spec is what --device takes ("cuda:0", "opencl:1").</summary>
public sealed record IlgpuDevice(string Spec, string Kind, int Index, Device Device, string Name, long Memory, int ComputeUnits,
    string Driver, bool IsGpu);

/// <summary>
/// The ILGPU devices of this machine, from one process-wide ILGPU context (created on first use; it also holds the
/// compiled-kernel cache shared by every <see cref="IlgpuBackend"/>): CUDA GPUs, then OpenCL devices that have the
/// generic address space ILGPU's OpenCL backend needs (GPUs, PoCL >= 4). OpenCL is found through
/// <see cref="OpenClLoader"/> (PoCL 6 from the ~/.cache/ctmsr build when present).
/// </summary>
public static class IlgpuDevices
{
    static readonly Lazy<(Context Context, IReadOnlyList<IlgpuDevice> Devices)> state = new(Create);

    /// <summary>The shared ILGPU context (intrinsics registered, algorithms enabled, O2).</summary>
    public static Context Context => state.Value.Context;

    /// <summary>Every usable device: CUDA first, then OpenCL, each numbered from 0 within its kind.</summary>
    public static IReadOnlyList<IlgpuDevice> All => state.Value.Devices;

    static (Context, IReadOnlyList<IlgpuDevice>) Create()
    {
        OpenClLoader.ConfigureProcess();
        var ctx = Context.Create(b => b
            .Cuda()
            .OpenCL(d => d.CLStdVersion >= CLBackend.MinimumVersion && d.Capabilities.GenericAddressSpace)
            .Optimize(OptimizationLevel.O2)
            .EnableAlgorithms());
        KernelMath.Register(ctx);
        TensorCore.Register(ctx);
        var list = new List<IlgpuDevice>();
        int i = 0;
        foreach (var d in ctx.GetCudaDevices())
        {
            string driver = $"sm_{(int)d.Architecture.GetValueOrDefault().Major}{d.Architecture.GetValueOrDefault().Minor}, driver {d.DriverVersion}";
            list.Add(new IlgpuDevice($"cuda:{i}", "cuda", i, d, d.Name, d.MemorySize, d.NumMultiprocessors, driver, true));
            i++;
        }
        i = 0;
        foreach (var d in ctx.GetCLDevices())
        {
            bool gpu = d.DeviceType == CLDeviceType.CL_DEVICE_TYPE_GPU;
            list.Add(new IlgpuDevice($"opencl:{i}", "opencl", i, d, d.Name, d.MemorySize, d.NumMultiprocessors,
                $"{d.PlatformName}, {d.DeviceVersion}, {(gpu ? "GPU" : "CPU")}", gpu));
            i++;
        }
        return (ctx, list);
    }

    /// <summary>Device <paramref name="index"/> of <paramref name="kind"/>, or <see cref="DeviceUnavailableException"/> saying why not.</summary>
    public static IlgpuDevice Open(string kind, int index)
    {
        var ofKind = All.Where(d => d.Kind == kind).ToList();
        if (ofKind.Count == 0)
            throw new DeviceUnavailableException($"{kind}: {Absent(kind)}");
        if (index < 0 || index >= ofKind.Count)
            throw new DeviceUnavailableException(
                $"ILGPU {kind} device {index} does not exist: this machine has {ofKind.Count} (0..{ofKind.Count - 1}; run 'ctmsr devices' to list them)");
        return ofKind[index];
    }

    /// <summary>Why no ILGPU device of <paramref name="kind"/> exists here, with the fix (one line).</summary>
    public static string Absent(string kind)
    {
        if (kind == "cuda")
            return Cuda.CudaBackend.LibraryPresent()
                ? "the NVIDIA driver sees no GPU ILGPU can use; use --device cpu"
                : "no NVIDIA driver (libcuda.so.1 not found); use --device cpu or opencl";
        OpenClLoader.ConfigureProcess();
        var others = CLDevice.GetDevices(_ => true).OfType<CLDevice>().ToList();
        if (others.Count == 0)
            return $"no OpenCL device found{(OpenClLoader.Pocl6Vendors is null ? "" : " (PoCL 6 included)")}; " +
                   "build PoCL 6 with scripts/pocl6.sh (or install a GPU's OpenCL driver), or use --device cpu or opencl-c";
        var names = string.Join(", ", others.Select(d => $"{d.Name} ({d.PlatformName}, OpenCL C {d.CVersion})"));
        return $"no OpenCL device with the generic address space ILGPU needs (found: {names}); " +
               "build PoCL 6 with scripts/pocl6.sh, or use --device opencl-c (the C-dialect kernels) or cpu";
    }

    /// <summary>True for an ILGPU allocation failure (CUDA or OpenCL out of memory).</summary>
    public static bool IsOutOfMemory(Exception e) => e switch
    {
        OutOfMemoryException => true,
        CudaException c => c.Error.Contains("OUT_OF_MEMORY", StringComparison.Ordinal) || c.Message.Contains("OUT_OF_MEMORY", StringComparison.Ordinal),
        CLException c => c.Error is CLError.CL_MEM_OBJECT_ALLOCATION_FAILURE or CLError.CL_OUT_OF_RESOURCES
            or CLError.CL_OUT_OF_HOST_MEMORY or CLError.CL_INVALID_BUFFER_SIZE,
        _ => false,
    };
}
