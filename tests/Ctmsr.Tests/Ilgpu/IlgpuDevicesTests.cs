using Ctmsr.Kernels;
using Ctmsr.Kernels.Ilgpu;

namespace Ctmsr.Tests.Ilgpu;

/// <summary>Device names and discovery of the ILGPU path: cuda[:N] / opencl[:N] are ILGPU, cuda-c / opencl-c the dialect.</summary>
[TestFixture, NonParallelizable]
public sealed class IlgpuDevicesTests
{
    [Test]
    public void ListHasEveryIlgpuDeviceUnderItsKind()
    {
        var list = Devices.List();
        foreach (var kind in new[] { "cuda", "opencl" })
        {
            var ilgpu = IlgpuDevices.All.Where(d => d.Kind == kind).Select(d => d.Spec).ToList();
            Assert.That(list.Where(d => d.Kind == kind).Select(d => d.Spec), Is.EqualTo(ilgpu), kind);
            if (ilgpu.Count == 0)
                Assert.That(Devices.Problems(), Has.Some.StartsWith($"{kind}: "), $"why {kind} is absent");
        }
        foreach (var d in list) TestContext.Out.WriteLine(d);
        foreach (var p in Devices.Problems()) TestContext.Out.WriteLine("(absent) " + p);
    }

    [Test]
    public void AutoPicksAGpuOrTheCpu()
    {
        var list = Devices.List();
        bool gpu = list.Any(d => d.Kind is "cuda" or "cuda-c") || IlgpuDevices.All.Any(d => d.Kind == "opencl" && d.IsGpu);
        string auto = Devices.Auto();
        if (gpu) Assert.That(auto, Does.StartWith("cuda").Or.StartWith("opencl"));
        else Assert.That(auto, Is.EqualTo("cpu"), "PoCL on a processor is slower than the CPU backend");
        using var b = Devices.Create("auto");
        Assert.That(b.Name, Is.EqualTo(auto));
    }

    [Test]
    public void OpenClByIndexOrWhyNot()
    {
        if (!IlgpuDevices.All.Any(d => d.Kind == "opencl"))
        {
            var ex = Assert.Throws<DeviceUnavailableException>(() => Devices.Create("opencl"));
            Assert.That(ex!.Message, Does.Contain("opencl-c").And.Not.Contain("\n"));
            Assert.Ignore("no ILGPU OpenCL device: " + ex.Message);
        }
        using var b = Devices.Create("OpenCL:0");
        Assert.That(b, Is.InstanceOf<IlgpuBackend>());
        Assert.That(b.Name, Is.EqualTo("opencl:0"));
        Assert.That(b.Description, Does.Contain("ILGPU opencl"));
        int n = IlgpuDevices.All.Count(d => d.Kind == "opencl");
        var bad = Assert.Throws<DeviceUnavailableException>(() => Devices.Create($"opencl:{n}"));
        Assert.That(bad!.Message, Does.Contain("does not exist"));
    }

    [Test]
    public void Pocl6IsFoundWithoutExportsAndServesBothOpenClBackends()
    {
        if (OpenClLoader.Pocl6Vendors is null) Assert.Ignore($"PoCL 6 is not built ({OpenClLoader.Pocl6Prefix}/.complete absent): run scripts/pocl6.sh");
        var cl = IlgpuDevices.All.Where(d => d.Kind == "opencl").ToList();
        if (!OpenClLoader.UsesPocl6) Assert.Ignore("OCL_ICD_VENDORS is set by the user: it decides the platforms of both backends");
        Assert.That(cl, Is.Not.Empty, "PoCL 6 is built but ILGPU sees no OpenCL device");
        Assert.That(cl[0].Driver, Does.Contain("Portable Computing Language"));
        // the C-dialect backend sees the same single PoCL (two PoCL builds in one process abort in LLVM)
        var dialect = Kernels.OpenCL.OpenClBackend.Enumerate();
        Assert.That(dialect.Count(d => d.PlatformName.Contains("Portable Computing Language")), Is.EqualTo(1));
        Assert.That(dialect.Where(d => d.PlatformName.Contains("Portable Computing Language")).Single().DriverVersion, Does.StartWith("6."));
    }
}
