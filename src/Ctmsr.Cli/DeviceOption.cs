using System.CommandLine;
using Ctmsr.Kernels;

namespace Ctmsr.Cli;

/// <summary>The `--device cpu|opencl[:N]|cuda[:N]` option every compute verb takes (default: $CTMSR_DEVICE, else cpu).</summary>
static class DeviceOption
{
    public static Option<string?> Create() => new("--device") { Description = "cpu, opencl[:N], cuda[:N] or reference (default: $CTMSR_DEVICE, else cpu)" };

    public static Backend Open(string? spec)
    {
        spec = string.IsNullOrWhiteSpace(spec) ? Environment.GetEnvironmentVariable("CTMSR_DEVICE") : spec;
        return (spec ?? "cpu").Trim().ToLowerInvariant() switch
        {
            "cpu" or "" => new Ctmsr.Kernels.Cpu.CpuBackend(),
            "reference" => new Ctmsr.Kernels.Reference.ReferenceBackend(),
            _ => throw new ArgumentException($"unknown device '{spec}': use cpu, opencl[:N], cuda[:N] or reference"),
        };
    }
}
