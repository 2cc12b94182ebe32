namespace Ctmsr.Kernels.Ilgpu;

/// <summary>"cuda[:N]" / "opencl[:N]": the C# kernels compiled by ILGPU, on its CUDA or OpenCL accelerator (the engine's
/// GPU path; OpenCL needs the generic address space: a GPU driver or PoCL 6).</summary>
sealed class IlgpuDeviceProvider(string kind) : IDeviceProvider
{
    public string Prefix => kind;
    public bool Indexed => true;

    public DeviceEnumeration Enumerate()
    {
        try
        {
            var devices = IlgpuDevices.All.Where(d => d.Kind == kind).ToList();
            if (devices.Count == 0) return DeviceEnumeration.None(IlgpuDevices.Absent(kind));
            return new([.. devices.Select(d => new DeviceInfo(d.Spec, d.Name, d.Kind, d.Memory, d.ComputeUnits, "ILGPU, " + d.Driver))]);
        }
        catch (Exception e) when (e is TypeInitializationException or ILGPU.Runtime.AcceleratorException or InvalidOperationException)
        {
            return DeviceEnumeration.None($"ILGPU could not enumerate {kind} devices ({e.Message.ReplaceLineEndings(" ")}); use --device cpu");
        }
    }

    public Backend Open(int index)
    {
        try { return new IlgpuBackend(kind, index); }
        catch (ILGPU.Runtime.AcceleratorException e)
        {
            throw new DeviceUnavailableException($"{kind}:{index}: ILGPU could not open the device ({e.Message.ReplaceLineEndings(" ")}); use --device cpu", e);
        }
    }
}
