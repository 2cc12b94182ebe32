using System.CommandLine;
using Ctmsr.Kernels;

namespace Ctmsr.Cli;

/// <summary>The `--device cpu|opencl[:N]|cuda[:N]` option every compute verb takes (default: $CTMSR_DEVICE, else cpu).</summary>
static class DeviceOption
{
    public static Option<string?> Create() => new("--device") { Description = "cpu, opencl[:N], cuda[:N] or reference (default: $CTMSR_DEVICE, else cpu)" };

    /// <summary>Opens the device; a spec that names no device (`gpu`, `opencl:x`) is a usage error (exit 2), an absent
    /// device is not.</summary>
    public static Backend Open(string? spec)
    {
        try { return Devices.Create(spec); }
        catch (DeviceUnavailableException e) when (e.Message.StartsWith("unknown device", StringComparison.Ordinal) || e.Message.Contains("has a bad index", StringComparison.Ordinal))
        {
            throw new ArgumentException(e.Message, e);
        }
    }
}
