using System.Diagnostics;

namespace Ctmsr.Tests.Bench;

/// <summary>
/// The PyTorch twin (bench/twin) is the same function as ours: it loads ctmsr_small.safetensors and
/// reproduces output.D (rel L2 &lt; 1e-4). Runs only where /usr/bin/python3 can import torch.
/// </summary>
public sealed class TwinTests
{
    const string Python = "/usr/bin/python3";

    /// <summary>The repository root (the folder holding bench/twin), found upwards from the test binary.</summary>
    public static string RepoRoot()
    {
        for (var d = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "bench", "twin", "serve.py"))) return d.FullName;
        Assert.Ignore("bench/twin is not above the test binary (run the tests from a checkout)");
        return "";
    }

    public static (int code, string stdout, string stderr) Run(string file, IEnumerable<string> args, string? cwd = null, int timeoutMs = 600_000)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (cwd is not null) psi.WorkingDirectory = cwd;
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs)) { p.Kill(true); Assert.Fail($"{file} {string.Join(' ', args)} did not finish in {timeoutMs / 1000} s"); }
        return (p.ExitCode, o.Result, e.Result);
    }

    public static void RequireTorch()
    {
        if (!File.Exists(Python)) Assert.Ignore($"{Python} is absent (the twin needs python3-torch)");
        var (code, _, err) = Run(Python, ["-c", "import torch"], timeoutMs: 120_000);
        if (code != 0) Assert.Ignore($"{Python} cannot import torch ({err.Trim().Split('\n')[^1]}); apt-get install python3-torch to run the twin checks");
    }

    [Test]
    public void TwinReproducesTheSmallFixture()
    {
        var fixture = SharedData.Fixture("ctmsr_small.safetensors");
        var root = RepoRoot();
        RequireTorch();
        var (code, stdout, stderr) = Run(Python, [Path.Combine(root, "bench", "twin", "check.py"), fixture, "--bound", "1e-4"]);
        TestContext.Out.WriteLine(stdout);
        Assert.That(code, Is.EqualTo(0), $"the twin does not reproduce output.D within 1e-4:\n{stdout}\n{stderr}");
        Assert.That(stdout, Does.Contain("twin MATCHES the fixture"));
    }
}
