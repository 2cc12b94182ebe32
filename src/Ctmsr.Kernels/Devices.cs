using Ctmsr.Kernels.Cpu;
using Ctmsr.Kernels.Cuda;
using Ctmsr.Kernels.OpenCL;
using Ctmsr.Kernels.Reference;

namespace Ctmsr.Kernels;

/// <summary>One compute device: Spec is what <see cref="Devices.Create"/> takes ("cpu", "opencl:1", "cuda:0").</summary>
public sealed record DeviceInfo(string Spec, string Name, string Kind, long MemoryBytes, int ComputeUnits, string Driver)
{
    public override string ToString() =>
        $"{Spec,-10} {Kind,-7} {Name} ({(MemoryBytes > 0 ? $"{MemoryBytes / (1024.0 * 1024 * 1024):F1} GiB, " : "")}{ComputeUnits} compute units, {Driver})";
}

/// <summary>A device spec that cannot be opened on this machine; the message says what is missing and how to fix it.</summary>
public sealed class DeviceUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Backend selection from a device spec (the CLI's --device, or $CTMSR_DEVICE).</summary>
public static class Devices
{
    public const string EnvVar = "CTMSR_DEVICE";
    const string Specs = "cpu, opencl[:N], cuda[:N] or reference";

    /// <summary>
    /// Opens the backend named by <paramref name="spec"/>: "cpu", "opencl", "opencl:N", "cuda", "cuda:N", "reference"
    /// (case-insensitive). Null or empty reads $CTMSR_DEVICE, then defaults to "cpu".
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
                "opencl" => new OpenClBackend(index),
                "cuda" => new CudaBackend(index),
                _ => throw new DeviceUnavailableException($"unknown device '{spec}': use {Specs}"),
            };
        }
        catch (OpenClException e) { throw new DeviceUnavailableException(e.Message, e); }
        catch (CudaException e) { throw new DeviceUnavailableException(e.Message, e); }
        catch (DllNotFoundException e) { throw new DeviceUnavailableException($"a native library for '{spec}' is missing ({e.Message}); use --device cpu", e); }
    }

    /// <summary>Every device this machine offers: the CPU, each OpenCL device, each CUDA GPU. Absent APIs are skipped.</summary>
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
            foreach (var d in OpenClBackend.Enumerate())
                list.Add(new DeviceInfo($"opencl:{d.Index}", d.Name, "opencl", d.GlobalMemory, d.ComputeUnits,
                    $"{d.PlatformName} {d.DeviceVersion}, driver {d.DriverVersion}"));
        }
        catch (OpenClException) { }
        catch (DllNotFoundException) { }
        try
        {
            foreach (var d in CudaBackend.Enumerate())
                list.Add(new DeviceInfo($"cuda:{d.Index}", d.Name, "cuda", d.TotalMemory, d.Multiprocessors,
                    $"sm_{d.CcMajor}{d.CcMinor}, driver {d.DriverVersion / 1000}.{d.DriverVersion % 1000 / 10}"));
        }
        catch (CudaException) { }
        catch (DllNotFoundException) { }
        return list;
    }

    /// <summary>Why each GPU API is unavailable (empty when all are usable); for `ctmsr devices`.</summary>
    public static IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        try { if (OpenClBackend.Enumerate().Count == 0) problems.Add($"opencl: no platform registered; {OpenClBackend.InstallHint}"); }
        catch (Exception e) when (e is OpenClException or DllNotFoundException) { problems.Add("opencl: " + e.Message); }
        try { if (CudaBackend.Enumerate().Count == 0) problems.Add("cuda: the driver sees no GPU"); }
        catch (Exception e) when (e is CudaException or DllNotFoundException) { problems.Add("cuda: " + e.Message); }
        return problems;
    }
}
