using System.CommandLine;
using Ctmsr.Kernels;

namespace Ctmsr.Cli;

/// <summary>The `--device cpu|opencl[:N]|cuda[:N]` option every compute verb takes (default: $CTMSR_DEVICE, else cpu).</summary>
static class DeviceOption
{
    public static Option<string?> Create() => new("--device") { Description = "cpu, opencl[:N], cuda[:N] or reference (default: $CTMSR_DEVICE, else cpu)" };

    public static Backend Open(string? spec) => Devices.Create(spec);
}
