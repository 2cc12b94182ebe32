using System.CommandLine;
using Ctmsr.Kernels;

namespace Ctmsr.Cli.Verbs;

/// <summary>`ctmsr devices`: every registered backend's devices, and why a backend has none.</summary>
static class DevicesVerb
{
    public static Command Create()
    {
        var cmd = new Command("devices", "list compute devices of every registered backend (cpu; cuda/opencl: ILGPU kernels; cuda-c/opencl-c: C-dialect kernels; reference) with memory, compute units and driver, and why absent ones are absent");
        cmd.SetGuardedAction(_ =>
        {
            Console.WriteLine($"{"device",-12} {"kind",-9} {"memory",10} {"units",6}  name / driver");
            foreach (var (provider, found) in DeviceRegistry.Enumerate())
            {
                foreach (var d in found.Devices)
                    Console.WriteLine($"{d.Spec,-12} {d.Kind,-9} {d.MemoryBytes / (1024.0 * 1024 * 1024),8:0.0} GiB {d.ComputeUnits,6}  {d.Name} / {d.Driver}");
                if (found.Absent is not null) Console.WriteLine($"(absent) {provider.Prefix}: {found.Absent}");
            }
            return 0;
        });
        return cmd;
    }
}
