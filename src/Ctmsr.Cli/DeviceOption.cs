using System.CommandLine;
using Ctmsr.Kernels;

namespace Ctmsr.Cli;

/// <summary>The `--device` option every compute verb takes (the forms of the device registry; default: $CTMSR_DEVICE, else cpu).</summary>
static class DeviceOption
{
    public static Option<string?> Create() => new("--device") { Description = $"auto (the fastest device present), {DeviceRegistry.SpecForms()}; cuda/opencl run the C# kernels compiled by ILGPU, cuda-c/opencl-c the C-dialect baseline (default: $CTMSR_DEVICE, else cpu)" };

    /// <summary>Opens the device at GEMM/convolution <paramref name="precision"/> (--precision; null is fp32); a spec that
    /// names no device (`gpu`, `opencl:x`) and a precision the device cannot run are usage errors (exit 2), an absent device
    /// is not.</summary>
    public static Backend Open(string? spec, string? precision = null)
    {
        var p = Precision.Parse(precision);
        try { return Devices.Create(spec, p); }
        catch (DeviceUnavailableException e) when (e.Message.StartsWith("unknown device", StringComparison.Ordinal) || e.Message.Contains("has a bad index", StringComparison.Ordinal))
        {
            throw new ArgumentException(e.Message, e);
        }
    }
}
