using System.CommandLine;
using Ctmsr.Kernels;

namespace Ctmsr.Cli;

/// <summary>The `--device` option every compute verb takes (the forms of the device registry; default: $CTMSR_DEVICE, else cpu).</summary>
static class DeviceOption
{
    public static Option<string?> Create() => new("--device") { Description = $"auto (the fastest device present), {DeviceRegistry.SpecForms()}; cuda/opencl run the C# kernels compiled by ILGPU, cuda-c/opencl-c the C-dialect baseline (default: $CTMSR_DEVICE, else cpu)" };

    public static Backend Open(string? spec) => Devices.Create(spec);
}
