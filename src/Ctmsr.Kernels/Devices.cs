using Ctmsr.Kernels.Cpu;
using Ctmsr.Kernels.Cuda;
using Ctmsr.Kernels.Ilgpu;
using Ctmsr.Kernels.OpenCL;
using Ctmsr.Kernels.Reference;

namespace Ctmsr.Kernels;

/// <summary>One compute device: Spec is what <see cref="Devices.Create"/> takes ("cpu", "opencl:1", "cuda:0", "opencl-c:0").</summary>
public sealed record DeviceInfo(string Spec, string Name, string Kind, long MemoryBytes, int ComputeUnits, string Driver)
{
    public override string ToString() =>
        $"{Spec,-10} {Kind,-8} {Name} ({(MemoryBytes > 0 ? $"{MemoryBytes / (1024.0 * 1024 * 1024):F1} GiB, " : "")}{ComputeUnits} compute units, {Driver})";
}

/// <summary>A device spec that cannot be opened on this machine; the message says what is missing and how to fix it.</summary>
public sealed class DeviceUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Backend selection from a device spec (the CLI's --device, or $CTMSR_DEVICE). Two kernel sources run on GPUs:
/// "cuda[:N]" / "opencl[:N]" are the C# kernels compiled by ILGPU (the engine's GPU path; OpenCL needs the generic
/// address space: a GPU driver or PoCL 6), "cuda-c[:N]" / "opencl-c[:N]" the C-dialect kernels (Gpu/*.k) through
/// NVRTC / OpenCL 1.2, kept as the comparison baseline. "auto" picks the fastest device present.
/// </summary>
public static class Devices
{
    public const string EnvVar = "CTMSR_DEVICE";
    const string Specs = "auto, cpu, cuda[:N], opencl[:N] (ILGPU kernels), cuda-c[:N], opencl-c[:N] (C-dialect kernels) or reference";

    /// <summary>
    /// Opens the backend named by <paramref name="spec"/>: "auto", "cpu", "cuda[:N]", "opencl[:N]", "cuda-c[:N]",
    /// "opencl-c[:N]", "reference" (case-insensitive). Null or empty reads $CTMSR_DEVICE, then defaults to "cpu".
    /// Throws <see cref="DeviceUnavailableException"/> (one line: cause and fix) when the device cannot be opened.
    /// </summary>
    public static Backend Create(string? spec)
    {
        if (string.IsNullOrWhiteSpace(spec)) spec = Environment.GetEnvironmentVariable(EnvVar);
        if (string.IsNullOrWhiteSpace(spec)) spec = "cpu";
        var s = spec.Trim().ToLowerInvariant();
        string kind = s;
        int index = 0;
        int colon = s.IndexOf(':');
        if (colon >= 0)
        {
            kind = s[..colon];
            if (!int.TryParse(s[(colon + 1)..], out index) || index < 0)
                throw new DeviceUnavailableException($"device '{spec}' has a bad index: use {Specs}, e.g. opencl:0");
        }
        try
        {
            return kind switch
            {
                "cpu" when colon < 0 => new CpuBackend(),
                "reference" when colon < 0 => new ReferenceBackend(),
                "auto" when colon < 0 => Create(Auto()),
                "cuda" => new IlgpuBackend("cuda", index),
                "opencl" => new IlgpuBackend("opencl", index),
                "cuda-c" => new CudaBackend(index),
                "opencl-c" => new OpenClBackend(index),
                _ => throw new DeviceUnavailableException($"unknown device '{spec}': use {Specs}"),
            };
        }
        catch (OpenClException e) { throw new DeviceUnavailableException(e.Message, e); }
        catch (CudaException e) { throw new DeviceUnavailableException(e.Message, e); }
        catch (ILGPU.Runtime.AcceleratorException e) { throw new DeviceUnavailableException($"{spec}: ILGPU could not open the device ({e.Message.ReplaceLineEndings(" ")}); use --device cpu", e); }
        catch (DllNotFoundException e) { throw new DeviceUnavailableException($"a native library for '{spec}' is missing ({e.Message}); use --device cpu", e); }
    }

    /// <summary>
    /// The spec "auto" stands for: the fastest device present. A GPU through ILGPU's CUDA, else through the dialect's
    /// CUDA, else an OpenCL GPU through ILGPU, else the CPU backend (PoCL on a processor is slower than it).
    /// </summary>
    public static string Auto()
    {
        var all = List();
        foreach (var kind in new[] { "cuda", "cuda-c" })
            if (all.FirstOrDefault(d => d.Kind == kind) is { } d) return d.Spec;
        try
        {
            if (IlgpuDevices.All.FirstOrDefault(d => d.Kind == "opencl" && d.IsGpu) is { } g) return g.Spec;
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or ILGPU.Runtime.AcceleratorException) { }
        return "cpu";
    }

    /// <summary>Every device this machine offers: the CPU, each ILGPU CUDA and OpenCL device, each dialect OpenCL device and
    /// CUDA GPU. Absent APIs are skipped.</summary>
    public static IReadOnlyList<DeviceInfo> List()
    {
        var list = new List<DeviceInfo>
        {
            // memory: what the runtime may use (physical memory, or a container's limit)
            new("cpu", System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture + " CPU (managed SIMD)", "cpu",
                GC.GetGCMemoryInfo().TotalAvailableMemoryBytes,
                Environment.ProcessorCount, ".NET " + Environment.Version),
        };
        try
        {
            foreach (var d in IlgpuDevices.All)
                list.Add(new DeviceInfo(d.Spec, d.Name, d.Kind, d.Memory, d.ComputeUnits, "ILGPU, " + d.Driver));
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or ILGPU.Runtime.AcceleratorException) { }
        try
        {
            foreach (var d in OpenClBackend.Enumerate())
                list.Add(new DeviceInfo($"opencl-c:{d.Index}", d.Name, "opencl-c", d.GlobalMemory, d.ComputeUnits,
                    $"{d.PlatformName} {d.DeviceVersion}, driver {d.DriverVersion}"));
        }
        catch (OpenClException) { }
        catch (DllNotFoundException) { }
        try
        {
            foreach (var d in CudaBackend.Enumerate())
                list.Add(new DeviceInfo($"cuda-c:{d.Index}", d.Name, "cuda-c", d.TotalMemory, d.Multiprocessors,
                    $"sm_{d.CcMajor}{d.CcMinor}, driver {d.DriverVersion / 1000}.{d.DriverVersion % 1000 / 10}"));
        }
        catch (CudaException) { }
        catch (DllNotFoundException) { }
        return list;
    }

    /// <summary>Why each GPU device kind is unavailable (empty when all are usable); for `ctmsr devices`.</summary>
    public static IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        foreach (var kind in new[] { "cuda", "opencl" })
        {
            try { if (!IlgpuDevices.All.Any(d => d.Kind == kind)) problems.Add($"{kind} (ILGPU): {IlgpuDevices.Absent(kind)}"); }
            catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or ILGPU.Runtime.AcceleratorException)
            {
                problems.Add($"{kind} (ILGPU): {e.Message.ReplaceLineEndings(" ")}");
            }
        }
        try { if (OpenClBackend.Enumerate().Count == 0) problems.Add($"opencl-c: no platform registered; {OpenClBackend.InstallHint}"); }
        catch (Exception e) when (e is OpenClException or DllNotFoundException) { problems.Add("opencl-c: " + e.Message); }
        try { if (CudaBackend.Enumerate().Count == 0) problems.Add("cuda-c: the driver sees no GPU"); }
        catch (Exception e) when (e is CudaException or DllNotFoundException) { problems.Add("cuda-c: " + e.Message); }
        return problems;
    }
}
