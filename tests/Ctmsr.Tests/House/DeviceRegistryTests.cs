using Ctmsr.Kernels;
using Ctmsr.Kernels.Conformance;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Kernels.Reference;
using Ctmsr.Model.Verification;

namespace Ctmsr.Tests.House;

/// <summary>The device registry: a backend is a provider plus one registration, and everything that lists or opens
/// devices (the spec parser, `ctmsr devices`, the per-device fixtures) reads it.</summary>
[NonParallelizable]
public sealed class DeviceRegistryTests
{
    /// <summary>A do-nothing backend, defined only here: it computes nothing itself (every op goes to the float64 reference).</summary>
    sealed class NothingBackend(int index) : ForwardingBackend(new ReferenceBackend())
    {
        public override string Name => $"nothing:{index}";
        public override string Description => "a backend defined inside a test";
    }

    sealed class NothingProvider : IDeviceProvider
    {
        public string Prefix => "nothing";
        public bool Indexed => true;
        public DeviceEnumeration Enumerate() =>
            new([new DeviceInfo("nothing:0", "test device 0", "nothing", 1 << 20, 1, "none"), new DeviceInfo("nothing:1", "test device 1", "nothing", 1 << 20, 1, "none")]);
        public Backend Open(int index) => index < 2 ? new NothingBackend(index)
            : throw new DeviceUnavailableException($"nothing device {index} does not exist: this machine has 2 (0..1)");
    }

    sealed class AbsentProvider : IDeviceProvider
    {
        public string Prefix => "absent";
        public bool Indexed => false;
        public DeviceEnumeration Enumerate() => DeviceEnumeration.None("libabsent.so not found: install it, or use --device cpu");
        public Backend Open(int index) => throw new DeviceUnavailableException("libabsent.so not found: install it, or use --device cpu");
    }

    [Test]
    public void ABackendDefinedInATestIsRegisteredListedOpenedAndParsed()
    {
        DeviceRegistry.Register(new NothingProvider());
        try
        {
            Assert.That(Devices.List().Select(d => d.Spec), Does.Contain("nothing:0").And.Contain("nothing:1"));
            Assert.That(DeviceRegistry.SpecForms(), Does.Contain("nothing[:N]"));
            using (var b = Devices.Create("Nothing:1")) Assert.That(b.Name, Is.EqualTo("nothing:1"));
            using (var b = Devices.Create("nothing")) Assert.That(b.Name, Is.EqualTo("nothing:0"));
            Assert.That(Assert.Throws<DeviceUnavailableException>(() => Devices.Create("nothing:2"))!.Message, Does.Contain("does not exist"));
            Assert.That(TestDevices.Checked.Select(f => (string)f.Arguments[0]!), Does.Contain("nothing:0"), "the per-device fixtures pick it up");
            var (code, stdout, _) = CliRunner.Run("devices");
            Assert.That(code, Is.Zero);
            Assert.That(stdout, Does.Contain("nothing:1").And.Contain("test device 1"));
            Assert.That(Assert.Throws<ArgumentException>(() => DeviceRegistry.Register(new NothingProvider()))!.Message, Does.Contain("already registered"));
        }
        finally { DeviceRegistry.Unregister("nothing"); }
        Assert.That(Devices.List().Select(d => d.Spec), Does.Not.Contain("nothing:0"));
        Assert.That(Assert.Throws<DeviceUnavailableException>(() => Devices.Create("nothing"))!.Message, Does.StartWith("unknown device"));
    }

    [Test]
    public void AnAbsentBackendSaysWhyInDevicesAndOnOpen()
    {
        DeviceRegistry.Register(new AbsentProvider());
        try
        {
            Assert.That(Devices.Problems(), Does.Contain("absent: libabsent.so not found: install it, or use --device cpu"));
            var (code, stdout, _) = CliRunner.Run("devices");
            Assert.That(code, Is.Zero);
            Assert.That(stdout, Does.Contain("(absent) absent: libabsent.so not found"));
            var ex = Assert.Throws<DeviceUnavailableException>(() => Devices.Create("absent"));
            Assert.That(ex!.Message, Does.Contain("libabsent.so"));
            Assert.That(Assert.Throws<DeviceUnavailableException>(() => Devices.Create("absent:0"))!.Message, Does.Contain("takes no index"));
        }
        finally { DeviceRegistry.Unregister("absent"); }
    }

    [TestCase(""), TestCase("CPU"), TestCase("a b"), TestCase("x:1")]
    public void BadPrefixesAreRefused(string prefix)
    {
        var p = new PrefixOnly(prefix);
        Assert.Throws<ArgumentException>(() => DeviceRegistry.Register(p));
    }

    sealed class PrefixOnly(string prefix) : IDeviceProvider
    {
        public string Prefix => prefix;
        public bool Indexed => false;
        public DeviceEnumeration Enumerate() => DeviceEnumeration.None("never");
        public Backend Open(int index) => throw new NotSupportedException();
    }

    [Test]
    public void TheBuiltInBackendsAreRegisteredInListingOrder()
    {
        var prefixes = DeviceRegistry.Providers.Select(p => p.Prefix).ToList();
        Assert.That(prefixes.Take(6), Is.EqualTo(new[] { "cpu", "cuda", "opencl", "cuda-c", "opencl-c", "reference" }));
        Assert.That(DeviceRegistry.Providers.Where(p => p.Oracle).Select(p => p.Prefix), Is.EqualTo(new[] { "reference" }));
        Assert.That(DeviceRegistry.SpecForms(), Does.StartWith("cpu, cuda[:N], opencl[:N], cuda-c[:N], opencl-c[:N]"));
        Assert.That(TestDevices.Checked.Select(f => (string)f.Arguments[0]!), Does.Not.Contain("reference"));
    }

    /// <summary>A decorator that overrides nothing is the inner backend: the whole conformance suite passes through it.</summary>
    [Test]
    public void TheForwardingBaseHandsEveryOpToTheInnerBackend()
    {
        using var backend = new ForwardingBackend(new CpuBackend());
        var failed = SelfCheck.Run(backend).Where(r => !r.Pass).Select(r => $"{r.Check} {r.Shape}: {r.Error:E2} {r.Failure}").ToList();
        Assert.That(failed, Is.Empty);
        Assert.That(backend.Name, Is.EqualTo("cpu"));
    }

    [Test]
    public void HostBackendsReportTheHostsMemory()
    {
        foreach (Backend b in new Backend[] { new CpuBackend(), new ReferenceBackend() })
        {
            var m = b.Memory;
            Assert.That(m.IsKnown, b.Name);
            Assert.That(m.Total, Is.GreaterThan(1L << 26), b.Name);
            Assert.That(m.Free, Is.InRange(0, m.Total), b.Name);
            Assert.That(m.Used, Is.GreaterThan(0), b.Name);
        }
        Assert.That(new ForwardingBackend(new CpuBackend()).Memory.Total, Is.EqualTo(HostMemory.Total));
    }

    [TestCase("opencl-c:0"), TestCase("opencl:0")]
    public void AGpuBackendCountsItsLiveBuffers(string spec)
    {
        using var be = TestDevices.OpenOrSkip(spec);
        long before = be.Memory.Used;
        var buf = be.Allocate(1 << 20);
        Assert.That(be.Memory.Used - before, Is.EqualTo(4L << 20));
        Assert.That(be.Memory.Free, Is.EqualTo(be.Memory.Total - be.Memory.Used));
        buf.Dispose();
        buf.Dispose(); // twice: counted once
        Assert.That(be.Memory.Used, Is.EqualTo(before));
    }

    [TestCase("cpu"), TestCase("reference")]
    public void AnAllocationThatCannotFitRaisesTheTypedError(string spec)
    {
        using var be = Devices.Create(spec);
        var ex = Assert.Throws<DeviceOutOfMemoryException>(() => be.Allocate((long)Array.MaxLength + 1));
        Assert.That(ex!.Message, Does.Contain("reduce").Or.Contain("smaller"));
        Assert.That(ex.Message, Does.Not.Contain("\n"));
    }

    [Test]
    public void OpenClOutOfMemoryIsTyped()
    {
        using var be = TestDevices.OpenOrSkip("opencl-c:0");
        // far beyond any device's global memory: CL_INVALID_BUFFER_SIZE or an allocation failure, both "does not fit"
        var ex = Assert.Throws<DeviceOutOfMemoryException>(() => be.Allocate(1L << 46));
        Assert.That(ex!.InnerException, Is.InstanceOf<Ctmsr.Kernels.OpenCL.OpenClException>());
    }
}
