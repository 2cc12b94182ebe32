using System.CommandLine;
using Ctmsr.Kernels;

namespace Ctmsr.Cli.Verbs;

/// <summary>`ctmsr devices`: what compute devices are present, and why others are not.</summary>
static class DevicesVerb
{
    public static Command Create()
    {
        var cmd = new Command("devices", "list compute devices (cpu; cuda/opencl: ILGPU kernels; cuda-c/opencl-c: C-dialect kernels) with memory, compute units and driver");
        cmd.SetGuardedAction(_ =>
        {
            Console.WriteLine($"{"device",-12} {"kind",-8} {"memory",10} {"units",6}  name / driver");
            foreach (var d in Devices.List())
                Console.WriteLine($"{d.Spec,-12} {d.Kind,-8} {d.MemoryBytes / (1024.0 * 1024 * 1024),8:0.0} GiB {d.ComputeUnits,6}  {d.Name} / {d.Driver}");
            foreach (var p in Devices.Problems()) Console.WriteLine($"(absent) {p}");
            return 0;
        });
        return cmd;
    }
}
