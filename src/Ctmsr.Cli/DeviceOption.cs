using System.CommandLine;
using Ctmsr.Kernels;

namespace Ctmsr.Cli;

/// <summary>The `--device` option every compute verb takes (the forms of the device registry; default: $CTMSR_DEVICE, else cpu).</summary>
static class DeviceOption
{
    public static Option<string?> Create() => new("--device") { Description = $"{DeviceRegistry.SpecForms()} (default: $CTMSR_DEVICE, else cpu)" };

    public static Backend Open(string? spec) => Devices.Create(spec);
}
