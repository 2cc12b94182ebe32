namespace Ctmsr.Kernels.Cuda;

/// <summary>"cuda-c[:N]": NVIDIA GPUs through the driver API, running the C-dialect kernels compiled by NVRTC.</summary>
sealed class CudaDeviceProvider : IDeviceProvider
{
    public string Prefix => "cuda-c";
    public bool Indexed => true;

    public DeviceEnumeration Enumerate()
    {
        try
        {
            var devices = CudaBackend.Enumerate();
            if (devices.Count == 0) return DeviceEnumeration.None("the driver sees no GPU");
            return new([.. devices.Select(d => new DeviceInfo($"cuda-c:{d.Index}", d.Name, "cuda-c", d.TotalMemory, d.Multiprocessors,
                $"sm_{d.CcMajor}{d.CcMinor}, driver {d.DriverVersion / 1000}.{d.DriverVersion % 1000 / 10}"))]);
        }
        catch (CudaException e) { return DeviceEnumeration.None(e.Message); }
    }

    public Backend Open(int index)
    {
        try { return new CudaBackend(index); }
        catch (CudaException e) { throw new DeviceUnavailableException(e.Message, e); }
    }
}
