using System.Diagnostics;
using Ctmsr.Kernels;
using Ctmsr.Kernels.Cuda;
using Ctmsr.Kernels.OpenCL;

namespace Ctmsr.Tests.Gpu;

[TestFixture, NonParallelizable]
public sealed class DevicesTests
{
    [TestCase("cpu", "cpu"), TestCase("CPU", "cpu"), TestCase(" Reference ", "reference")]
    public void CreatesHostBackends(string spec, string name)
    {
        using var b = Devices.Create(spec);
        Assert.That(b.Name, Is.EqualTo(name));
    }

    [Test]
    public void EmptySpecReadsEnvironment()
    {
        var old = Environment.GetEnvironmentVariable(Devices.EnvVar);
        try
        {
            Environment.SetEnvironmentVariable(Devices.EnvVar, "reference");
            using (var b = Devices.Create(null)) Assert.That(b.Name, Is.EqualTo("reference"));
            Environment.SetEnvironmentVariable(Devices.EnvVar, null);
            using (var b = Devices.Create("")) Assert.That(b.Name, Is.EqualTo("cpu"));
        }
        finally { Environment.SetEnvironmentVariable(Devices.EnvVar, old); }
    }

    [TestCase("tpu"), TestCase("opencl:x"), TestCase("cpu:1"), TestCase("cuda:-1")]
    public void BadSpecsSayWhatIsValid(string spec)
    {
        var ex = Assert.Throws<DeviceUnavailableException>(() => Devices.Create(spec));
        Assert.That(ex!.Message, Does.Contain("opencl"));
        Assert.That(ex.Message, Does.Not.Contain("\n"));
    }

    [Test]
    public void OpenClByIndex()
    {
        if (!OpenClBackend.LibraryPresent()) Assert.Ignore("libOpenCL.so.1 is absent");
        IReadOnlyList<OpenClDevice> devs = OpenClBackend.Enumerate();
        if (devs.Count == 0) Assert.Ignore("no OpenCL platform registered");
        using var b = Devices.Create("OpenCL-C:0");
        Assert.That(b.Name, Is.EqualTo("opencl-c:0"));
        Assert.That(b.Description, Does.Contain(devs[0].Name));
        var ex = Assert.Throws<DeviceUnavailableException>(() => Devices.Create($"opencl-c:{devs.Count}"));
        Assert.That(ex!.Message, Does.Contain("does not exist"));
    }

    [Test]
    public void CudaFailsCleanlyWithoutDriver()
    {
        if (CudaBackend.LibraryPresent()) Assert.Ignore("an NVIDIA driver is present here");
        var ex = Assert.Throws<DeviceUnavailableException>(() => Devices.Create("cuda-c"));
        Assert.That(ex!.Message, Is.EqualTo(CudaBackend.NoDriver));
        Assert.That(Devices.Problems(), Has.Some.StartsWith("cuda-c: ").And.Contains("libcuda.so.1 not found"));
        // the ILGPU CUDA path says the same in one line
        ex = Assert.Throws<DeviceUnavailableException>(() => Devices.Create("cuda"));
        Assert.That(ex!.Message, Does.Contain("libcuda.so.1 not found").And.Not.Contain("\n"));
        Assert.That(Devices.Problems(), Has.Some.StartsWith("cuda: "));
    }

    [Test]
    public void ListHasCpuAndEveryOpenClDevice()
    {
        var list = Devices.List();
        Assert.That(list[0].Spec, Is.EqualTo("cpu"));
        int ocl = OpenClBackend.LibraryPresent() ? OpenClBackend.Enumerate().Count : 0;
        Assert.That(list.Count(d => d.Kind == "opencl-c"), Is.EqualTo(ocl));
        foreach (var d in list) TestContext.Out.WriteLine(d);
    }
}

/// <summary>Every kernel source compiles in the CUDA dialect (scripts/check-cuda-dialect.sh, clang's CUDA mode).</summary>
[TestFixture]
public sealed class CudaDialectTests
{
    [Test]
    public void KernelSourcesCompileAsCuda()
    {
        string? root = null;
        for (var d = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "scripts", "check-cuda-dialect.sh"))) { root = d.FullName; break; }
        if (root is null) Assert.Ignore("scripts/check-cuda-dialect.sh not found above the test directory");
        if (!OnPath("clang")) Assert.Ignore("clang is not installed (apt-get install clang)");
        var psi = new ProcessStartInfo("bash", [Path.Combine(root!, "scripts", "check-cuda-dialect.sh")])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        Assert.That(p.ExitCode, Is.EqualTo(0), stdout.Result + stderr.Result);
        Assert.That(stdout.Result, Does.Contain("ok   gemm.k"));
    }

    static bool OnPath(string exe) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, exe)));
}
