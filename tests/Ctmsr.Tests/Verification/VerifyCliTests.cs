namespace Ctmsr.Tests.Verification;

/// <summary>
/// `ctmsr verify` on the CPU, as the README tells users to run it: PASS on the golden fixture, with the LeakyReLU kink
/// alignment said in one line; `--no-kink-align` skips the float64 forward and says the gradients are raw.
/// </summary>
[NonParallelizable]
public sealed class VerifyCliTests
{
    [Test]
    public void VerifyOnTheCpuPassesOnTheSmallFixture()
    {
        var (code, stdout, stderr) = CliRunner.Run("verify", SharedData.Fixture("ctmsr_small.safetensors"), "--device", "cpu");
        TestContext.Out.WriteLine(string.Join('\n', stdout.Split('\n').Where(l => !l.StartsWith("ok   grad.", StringComparison.Ordinal))));
        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[^1], Is.EqualTo("PASS"));
        Assert.That(lines, Has.Some.StartWith("float64 reference forward: "));
        Assert.That(lines, Has.Some.StartWith("ok   kink alignment: "));
        Assert.That(lines.Count(l => l.StartsWith("ok   grad.", StringComparison.Ordinal)), Is.GreaterThan(500), "every gradient compared");
    }

    [Test]
    public void NoKinkAlignSkipsTheFloat64ForwardAndSaysSo()
    {
        var (_, stdout, stderr) = CliRunner.Run("verify", SharedData.Fixture("ctmsr_small_lite.safetensors"), "--device", "cpu", "--no-kink-align");
        Assert.That(stderr, Is.Empty);
        Assert.That(stdout, Does.Contain("kink alignment off (--no-kink-align): raw gradients").And.Not.Contain("float64 reference forward"));
        Assert.That(stdout.TrimEnd(), Does.EndWith("PASS").Or.Contain("FAIL ("));
    }
}
