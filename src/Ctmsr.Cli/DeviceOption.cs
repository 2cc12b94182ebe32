using System.CommandLine;
using Ctmsr.Kernels;

namespace Ctmsr.Cli;

/// <summary>The `--device` option every compute verb takes (default: $CTMSR_DEVICE, else cpu); the specs are Devices.Create's.</summary>
static class DeviceOption
{
    public static Option<string?> Create() => new("--device") { Description = "cpu, cuda[:N], opencl[:N] (ILGPU kernels), cuda-c[:N], opencl-c[:N] (C-dialect kernels), auto or reference (default: $CTMSR_DEVICE, else cpu)" };

    public static Backend Open(string? spec) => Devices.Create(spec);
}
