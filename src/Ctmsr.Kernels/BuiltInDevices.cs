using Ctmsr.Kernels.Cpu;
using Ctmsr.Kernels.Cuda;
using Ctmsr.Kernels.Ilgpu;
using Ctmsr.Kernels.OpenCL;
using Ctmsr.Kernels.Reference;

namespace Ctmsr.Kernels;

/// <summary>The backends that ship with Ctmsr, in the order `ctmsr devices` lists them. A new backend adds its line here.</summary>
static class BuiltInDevices
{
    public static IDeviceProvider[] All =>
    [
        new CpuDeviceProvider(),
        new IlgpuDeviceProvider("cuda"),
        new IlgpuDeviceProvider("opencl"),
        new CudaDeviceProvider(),
        new OpenClDeviceProvider(),
        new ReferenceDeviceProvider(),
    ];
}
