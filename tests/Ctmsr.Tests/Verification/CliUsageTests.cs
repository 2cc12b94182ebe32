namespace Ctmsr.Tests.Verification;

/// <summary>Usage errors of any verb: one line on stderr naming the cause and the help to read, exit code 2.</summary>
[NonParallelizable]
public sealed class CliUsageTests
{
    [TestCase(new string[0], "no command given", "'ctmsr --help'")]
    [TestCase(new[] { "bogus" }, "bogus", "'ctmsr --help'")]
    [TestCase(new[] { "degrade" }, "in-dir", "'ctmsr degrade --help'")]
    [TestCase(new[] { "train", "ct", "--iters", "x" }, "--iters", "'ctmsr train ct --help'")]
    [TestCase(new[] { "selfcheck", "--no-such-option" }, "--no-such-option", "'ctmsr selfcheck --help'")]
    [TestCase(new[] { "upscale", "in.png", "-o" }, "-o", "'ctmsr upscale --help'")]
    public void UsageErrorsAreOneLineAndExitTwo(string[] args, string names, string help)
    {
        var (code, stdout, stderr) = CliRunner.Run(args);
        Assert.That(code, Is.EqualTo(2), stderr);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), stderr);
        Assert.That(lines[0], Does.StartWith("ctmsr: error: ").And.Contain(names).And.Contain(help));
        Assert.That(stdout, Is.Empty, "no help dump on a usage error");
    }

    /// <summary>--precision on a device without tensor cores, or an unknown format: one line naming the device (or the
    /// accepted values) and the fix, exit 2, before any work.</summary>
    [TestCase(new[] { "selfcheck", "--device", "cpu", "--precision", "bf16" }, "'cpu'", "--precision fp32")]
    [TestCase(new[] { "bench", "--device", "reference", "--precision", "tf32", "--no-torch" }, "'reference'", "--device cuda")]
    [TestCase(new[] { "selfcheck", "--device", "cpu", "--precision", "fp16" }, "--precision fp16", "fp32, tf32 or bf16")]
    public void PrecisionTheDeviceCannotRunIsAUsageError(string[] args, string names, string fix)
    {
        var (code, stdout, stderr) = CliRunner.Run(args);
        Assert.That(code, Is.EqualTo(2), stderr);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), stderr);
        Assert.That(lines[0], Does.StartWith("ctmsr: error: ").And.Contain(names).And.Contain(fix));
    }

    [Test]
    public void HelpStillPrintsAndSucceeds()
    {
        var (code, stdout, _) = CliRunner.Run("demo", "--help");
        Assert.That(code, Is.EqualTo(0));
        Assert.That(stdout, Does.Contain("Usage:"));
    }
}
