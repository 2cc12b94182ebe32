namespace Ctmsr.Kernels;

/// <summary>
/// One backend's entry in the <see cref="DeviceRegistry"/>: the spec prefix users type (--device PREFIX or PREFIX:N),
/// the devices present (or why there are none) and how to open one. Each backend folder holds its provider.
/// </summary>
public interface IDeviceProvider
{
    /// <summary>"cpu", "opencl", ...: lower case, unique in the registry.</summary>
    string Prefix { get; }

    /// <summary>True when the backend has several devices, addressed as PREFIX:N (PREFIX alone means PREFIX:0).</summary>
    bool Indexed { get; }

    /// <summary>A slow oracle (the float64 reference): listed and openable, but left out of `bench --device all` and of
    /// the suites that check a backend against it.</summary>
    bool Oracle => false;

    /// <summary>The devices present on this machine; none, with <see cref="DeviceEnumeration.Absent"/> saying why, when
    /// the API or its driver is missing. Does not throw for a missing driver.</summary>
    DeviceEnumeration Enumerate();

    /// <summary>Opens device <paramref name="index"/> (0 for a backend that is not indexed); throws
    /// <see cref="DeviceUnavailableException"/> with the cause and the fix when it cannot.</summary>
    Backend Open(int index);
}

/// <summary>What a provider found: its devices, or none and the reason (one line: cause and fix).</summary>
public sealed record DeviceEnumeration(IReadOnlyList<DeviceInfo> Devices, string? Absent = null)
{
    public static DeviceEnumeration None(string reason) => new([], reason);
}

/// <summary>
/// The backends this process knows: the built-in list (<see cref="BuiltInDevices"/>) plus any registered at run time.
/// The CLI's --device, `ctmsr devices`, `bench --device all` and the per-device test fixtures all read it, so a new
/// backend is its folder plus one line in <see cref="BuiltInDevices"/>.
/// </summary>
public static class DeviceRegistry
{
    static readonly Lock gate = new();
    static readonly List<IDeviceProvider> providers = [.. BuiltInDevices.All];

    /// <summary>The registered providers, built-in first, in registration order.</summary>
    public static IReadOnlyList<IDeviceProvider> Providers { get { lock (gate) return [.. providers]; } }

    /// <summary>Adds <paramref name="provider"/>; its prefix must be new, lower case and free of ':' and spaces.</summary>
    public static void Register(IDeviceProvider provider)
    {
        var p = provider.Prefix;
        if (string.IsNullOrEmpty(p) || p != p.ToLowerInvariant() || p.Any(c => c == ':' || char.IsWhiteSpace(c)))
            throw new ArgumentException($"device prefix '{p}' must be non-empty lower case without ':' or spaces", nameof(provider));
        lock (gate)
        {
            if (providers.Any(x => x.Prefix == p)) throw new ArgumentException($"a device provider with prefix '{p}' is already registered", nameof(provider));
            providers.Add(provider);
        }
    }

    /// <summary>Removes the provider with <paramref name="prefix"/> (tests that register their own); false when absent.</summary>
    public static bool Unregister(string prefix)
    {
        lock (gate) return providers.RemoveAll(x => x.Prefix == prefix) > 0;
    }

    public static IDeviceProvider? Find(string prefix)
    {
        lock (gate) return providers.FirstOrDefault(x => x.Prefix == prefix);
    }

    /// <summary>"cpu, opencl[:N], cuda[:N] or reference": the spec forms, for help texts and errors.</summary>
    public static string SpecForms()
    {
        var forms = Providers.Select(p => p.Indexed ? p.Prefix + "[:N]" : p.Prefix).ToList();
        return forms.Count <= 1 ? string.Join("", forms) : string.Join(", ", forms[..^1]) + " or " + forms[^1];
    }

    /// <summary>Splits "opencl:1" into its provider and index; throws <see cref="DeviceUnavailableException"/> for an
    /// unknown prefix, a bad index, or an index on a backend that has one device.</summary>
    public static (IDeviceProvider Provider, int Index) Parse(string spec)
    {
        var s = spec.Trim().ToLowerInvariant();
        int colon = s.IndexOf(':');
        string prefix = colon < 0 ? s : s[..colon];
        var provider = Find(prefix) ?? throw new DeviceUnavailableException($"unknown device '{spec}': use {SpecForms()}");
        if (colon < 0) return (provider, 0);
        if (!provider.Indexed)
            throw new DeviceUnavailableException($"device '{spec}' takes no index: use {SpecForms()}");
        if (!int.TryParse(s[(colon + 1)..], out int index) || index < 0)
            throw new DeviceUnavailableException($"device '{spec}' has a bad index: use {SpecForms()}, e.g. {prefix}:0");
        return (provider, index);
    }

    /// <summary>Opens the backend <paramref name="spec"/> names; a missing native library becomes a
    /// <see cref="DeviceUnavailableException"/> too.</summary>
    public static Backend Open(string spec)
    {
        var (provider, index) = Parse(spec);
        try { return provider.Open(index); }
        catch (DllNotFoundException e) { throw new DeviceUnavailableException($"a native library for '{spec}' is missing ({e.Message}); use --device cpu", e); }
    }

    /// <summary>Every provider with what it found, in registry order.</summary>
    public static IReadOnlyList<(IDeviceProvider Provider, DeviceEnumeration Found)> Enumerate() =>
        [.. Providers.Select(p => (p, SafeEnumerate(p)))];

    static DeviceEnumeration SafeEnumerate(IDeviceProvider p)
    {
        try { return p.Enumerate(); }
        catch (DllNotFoundException e) { return DeviceEnumeration.None($"a native library is missing ({e.Message})"); }
    }
}
