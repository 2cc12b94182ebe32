namespace Ctmsr.Kernels.OpenCL;

/// <summary>"opencl-c[:N]": every device of every OpenCL platform, running the C-dialect kernels.</summary>
sealed class OpenClDeviceProvider : IDeviceProvider
{
    public string Prefix => "opencl-c";
    public bool Indexed => true;

    public DeviceEnumeration Enumerate()
    {
        try
        {
            var devices = OpenClBackend.Enumerate();
            if (devices.Count == 0) return DeviceEnumeration.None($"no platform registered; {OpenClBackend.InstallHint}");
            return new([.. devices.Select(d => new DeviceInfo($"opencl-c:{d.Index}", d.Name, "opencl-c", d.GlobalMemory, d.ComputeUnits,
                $"{d.PlatformName} {d.DeviceVersion}, driver {d.DriverVersion}"))]);
        }
        catch (OpenClException e) { return DeviceEnumeration.None(e.Message); }
    }

    public Backend Open(int index)
    {
        try { return new OpenClBackend(index); }
        catch (OpenClException e) { throw new DeviceUnavailableException(e.Message, e); }
    }
}
