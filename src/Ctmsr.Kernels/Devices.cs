namespace Ctmsr.Kernels;

/// <summary>One compute device: Spec is what <see cref="Devices.Create"/> takes ("cpu", "opencl:1", "cuda:0").</summary>
public sealed record DeviceInfo(string Spec, string Name, string Kind, long MemoryBytes, int ComputeUnits, string Driver)
{
    public override string ToString() =>
        $"{Spec,-10} {Kind,-7} {Name} ({(MemoryBytes > 0 ? $"{MemoryBytes / (1024.0 * 1024 * 1024):F1} GiB, " : "")}{ComputeUnits} compute units, {Driver})";
}

/// <summary>A device spec that cannot be opened on this machine; the message says what is missing and how to fix it.</summary>
public sealed class DeviceUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Backend selection from a device spec (the CLI's --device, or $CTMSR_DEVICE), over the <see cref="DeviceRegistry"/>.</summary>
public static class Devices
{
    public const string EnvVar = "CTMSR_DEVICE";

    /// <summary>
    /// Opens the backend named by <paramref name="spec"/>: "auto", "cpu", "cuda[:N]", "opencl[:N]" (the ILGPU kernels),
    /// "cuda-c[:N]", "opencl-c[:N]" (the C-dialect kernels, the comparison baseline), "reference", or any registered
    /// prefix (case-insensitive). Null or empty reads $CTMSR_DEVICE, then defaults to "cpu".
    /// Throws <see cref="DeviceUnavailableException"/> (one line: cause and fix) when the device cannot be opened.
    /// </summary>
    public static Backend Create(string? spec) => Create(spec, MatmulPrecision.Fp32);

    /// <summary>As <see cref="Create(string?)"/>, with GEMM and convolution at <paramref name="precision"/>; a device that
    /// cannot run it is closed again and an <see cref="ArgumentException"/> says why and what to use instead.</summary>
    public static Backend Create(string? spec, MatmulPrecision precision)
    {
        if (string.IsNullOrWhiteSpace(spec)) spec = Environment.GetEnvironmentVariable(EnvVar);
        if (string.IsNullOrWhiteSpace(spec)) spec = "cpu";
        if (spec.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase)) spec = Auto();
        var backend = DeviceRegistry.Open(spec);
        if (precision == MatmulPrecision.Fp32) return backend;
        try { backend.SetPrecision(precision); }
        catch { backend.Dispose(); throw; }
        return backend;
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
        if (all.FirstOrDefault(d => d.Kind == "opencl" && d.Driver.EndsWith(", GPU", StringComparison.Ordinal)) is { } g) return g.Spec;
        return "cpu";
    }

    /// <summary>Every device this machine offers, in registry order (the CPU first). Absent APIs are skipped.</summary>
    public static IReadOnlyList<DeviceInfo> List() => [.. DeviceRegistry.Enumerate().SelectMany(e => e.Found.Devices)];

    /// <summary>Why each registered backend has no device ("opencl: ..."; empty when all are usable); for `ctmsr devices`.</summary>
    public static IReadOnlyList<string> Problems() =>
        [.. DeviceRegistry.Enumerate().Where(e => e.Found.Absent is not null).Select(e => $"{e.Provider.Prefix}: {e.Found.Absent}")];
}
