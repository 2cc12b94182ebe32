using System.CommandLine;
using Ctmsr.Kernels;

namespace Ctmsr.Cli;

/// <summary>The `--device` option every compute verb takes (the forms of the device registry; default: $CTMSR_DEVICE, else cpu).</summary>
static class DeviceOption
{
    public static Option<string?> Create() => new("--device") { Description = $"auto (the fastest device present), {DeviceRegistry.SpecForms()}; cuda/opencl run the C# kernels compiled by ILGPU, cuda-c/opencl-c the C-dialect baseline (default: $CTMSR_DEVICE, else cpu)" };

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
