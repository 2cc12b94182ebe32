namespace Ctmsr.Kernels.Reference;

/// <summary>"reference": the scalar float64 oracle, always present; slow, so `bench --device all` leaves it out.</summary>
sealed class ReferenceDeviceProvider : IDeviceProvider
{
    public string Prefix => "reference";
    public bool Indexed => false;
    public bool Oracle => true;

    public DeviceEnumeration Enumerate() => new(
        [new DeviceInfo("reference", "scalar float64 reference (test oracle)", "reference", HostMemory.Total, 1, ".NET " + Environment.Version)]);

    public Backend Open(int index) => new ReferenceBackend();
}
