using Ctmsr.Kernels.OpenCL;

namespace Ctmsr.Tests.Gpu;

/// <summary>What only the OpenCL backend has: compiled programs cached on disk (CTMSR_CACHE), and the device index
/// error. Skips where no OpenCL platform is present.</summary>
[TestFixture, NonParallelizable]
public sealed class OpenClProgramCacheTests
{
    OpenClBackend cl = null!;
    string? oldCache;
    string cacheDir = "";

    [OneTimeSetUp]
    public void Open()
    {
        oldCache = Environment.GetEnvironmentVariable("CTMSR_CACHE");
        cacheDir = Path.Combine(Path.GetTempPath(), "ctmsr-cltest-" + Environment.ProcessId);
        Environment.SetEnvironmentVariable("CTMSR_CACHE", cacheDir);
        cl = TestDevices.OpenClOrSkip();
    }

    [OneTimeTearDown]
    public void Close()
    {
        cl?.Dispose();
        Environment.SetEnvironmentVariable("CTMSR_CACHE", oldCache);
        try { Directory.Delete(cacheDir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [Test]
    public void ProgramsAreCachedOnDisk()
    {
        var y = cl.Allocate(16);
        cl.Fill(y, 1f, 0, 16);
        cl.Synchronize();
        Assert.That(Directory.GetFiles(cacheDir, "*.clbin"), Is.Not.Empty, "no binary in " + cacheDir);
        using var again = new OpenClBackend(0); // loads the same programs from the binary cache
        var z = again.Allocate(16);
        again.Fill(z, 3f, 0, 16);
        var got = new float[16];
        again.Download(z, got);
        Assert.That(got, Is.All.EqualTo(3f));
    }

    [Test]
    public void MissingDeviceNamesTheCount()
    {
        var ex = Assert.Throws<OpenClException>(() => new OpenClBackend(99));
        Assert.That(ex!.Message, Does.Contain("does not exist"));
    }
}
