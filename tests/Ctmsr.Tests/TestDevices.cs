using Ctmsr.Kernels;
using Ctmsr.Kernels.Cuda;
using Ctmsr.Kernels.OpenCL;

namespace Ctmsr.Tests;

/// <summary>Device 0 of a GPU API for a per-backend test, or the test (fixture) skipped with the reason it is absent.</summary>
static class TestDevices
{
    /// <summary>OpenCL device 0 (PoCL in CI); skips where no OpenCL platform is present.</summary>
    public static OpenClBackend OpenClOrSkip()
    {
        try { return new OpenClBackend(0); }
        catch (OpenClException e)
        {
            Assert.Ignore("no OpenCL: " + e.Message);
            throw;
        }
    }

    /// <summary>ILGPU device 0 of <paramref name="kind"/> ("opencl": PoCL 6 in CI, "cuda"); skips with the reason it is absent.</summary>
    public static Backend IlgpuOrSkip(string kind)
    {
        try { return Devices.Create(kind + ":0"); }
        catch (DeviceUnavailableException e)
        {
            Assert.Ignore($"no ILGPU {kind} device: " + e.Message);
            throw;
        }
    }

    /// <summary>CUDA device 0 with the C-dialect kernels; skips where no NVIDIA driver or GPU is present.</summary>
    public static Backend CudaOrSkip()
    {
        try { return Devices.Create("cuda-c:0"); }
        catch (Exception e) when (e is DeviceUnavailableException or CudaException or DllNotFoundException)
        {
            Assert.Ignore("no CUDA: " + e.Message);
            throw;
        }
    }
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
