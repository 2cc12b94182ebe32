namespace Ctmsr.Kernels.Cpu;

/// <summary>"cpu": the managed-SIMD backend, always present.</summary>
sealed class CpuDeviceProvider : IDeviceProvider
{
    public string Prefix => "cpu";
    public bool Indexed => false;

    public DeviceEnumeration Enumerate() => new(
    [
        new DeviceInfo("cpu", System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture + " CPU (managed SIMD)", "cpu",
            HostMemory.Total, Environment.ProcessorCount, ".NET " + Environment.Version),
    ]);

    public Backend Open(int index) => new CpuBackend();
}
