using Ctmsr.Kernels;
using Ctmsr.Kernels.OpenCL;

namespace Ctmsr.Tests;

/// <summary>
/// The devices every per-device fixture runs on, read from the <see cref="DeviceRegistry"/>: one fixture per registered
/// backend (device 0 of an indexed one), so a backend added to the registry is tested with no edit here. A device that is
/// absent on this machine skips its fixture with the reason (<see cref="OpenOrSkip"/>). The list is the same on every
/// machine, so test counts compare across machines.
/// </summary>
static class TestDevices
{
    static string Spec(IDeviceProvider p) => p.Indexed ? p.Prefix + ":0" : p.Prefix;

    /// <summary>Every registered device, the float64 oracle included (suites checked against fixtures).</summary>
    public static IEnumerable<TestFixtureData> All =>
        DeviceRegistry.Providers.Select(p => new TestFixtureData(Spec(p)));

    /// <summary>Every device that is checked against the oracle (the oracle itself left out: it would compare with itself).</summary>
    public static IEnumerable<TestFixtureData> Checked =>
        DeviceRegistry.Providers.Where(p => !p.Oracle).Select(p => new TestFixtureData(Spec(p)));

    /// <summary>Every device, the oracle's fixture explicit (a whole-model run in float64 takes minutes).</summary>
    public static IEnumerable<TestFixtureData> AllOracleExplicit =>
        DeviceRegistry.Providers.Select(p => p.Oracle
            ? new TestFixtureData(Spec(p)).Explicit("float64 reference run of the whole model takes minutes")
            : new TestFixtureData(Spec(p)));

    /// <summary>Opens <paramref name="spec"/>, or skips the test (fixture) with the reason the device is absent here.</summary>
    public static Backend OpenOrSkip(string spec)
    {
        try { return DeviceRegistry.Open(spec); }
        catch (DeviceUnavailableException e)
        {
            Assert.Ignore($"no {spec}: {e.Message}");
            throw;
        }
    }

    /// <summary>OpenCL device 0 (PoCL in CI); skips where no OpenCL platform is present.</summary>
    public static OpenClBackend OpenClOrSkip() => (OpenClBackend)OpenOrSkip("opencl-c:0");
}

/// <summary>Runs the ctmsr command in-process (its entry point) and captures its exit code, stdout and stderr.</summary>
static class CliRunner
{
    public static (int Code, string Stdout, string Stderr) Run(params string[] args)
    {
        var entry = System.Reflection.Assembly.Load("ctmsr").EntryPoint!;
        TextWriter oldOut = Console.Out, oldErr = Console.Error;
        var o = new StringWriter();
        var e = new StringWriter();
        Console.SetOut(o);
        Console.SetError(e);
        try { return ((int)entry.Invoke(null, [args])!, o.ToString(), e.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldErr); }
    }
}
