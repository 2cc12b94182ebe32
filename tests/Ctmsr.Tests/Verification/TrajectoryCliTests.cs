namespace Ctmsr.Tests.Verification;

/// <summary>The trajectory flags and verbs: bad values are one line on stderr naming the flag, exit 2; --help lists them.</summary>
[NonParallelizable]
public sealed class TrajectoryCliTests
{
    static readonly string[] Up = ["upscale", "in.png", "-o", "out.png", "--weights", "w.safetensors"];

    [TestCase("--gamma", "--sampler", "msde", "--steps", "2", "--gamma", "x")]
    [TestCase("--gamma", "--steps", "2", "--gamma", "0.1")]
    [TestCase("--gamma", "--sampler", "msde", "--steps", "2", "--gamma", "1.5")]
    [TestCase("--start", "--start", "1.5")]
    [TestCase("--start", "--start", "0")]
    [TestCase("--guidance", "--guidance", "-1")]
    [TestCase("--guidance", "--guidance", "nan")]
    [TestCase("--sampler", "--sampler", "euler")]
    [TestCase("--steps", "--steps", "0")]
    public void UpscaleRefusesBadSamplerValues(string flag, params string[] extra) => Refused(flag, [.. Up, .. extra]);

    [TestCase("--steps", "eval", "--sr", ".", "--steps", "2")]
    [TestCase("--gamma", "eval", "--model", "m.safetensors", "--lq", ".", "--gamma", "0.1", "--steps", "2")]
    [TestCase("--init", "train", "align", "--data", ".", "--run", "r")]
    [TestCase("--gamma", "train", "align", "--init", "m", "--data", ".", "--run", "r", "--gamma", "0")]
    [TestCase("--candidates", "train", "align", "--init", "m", "--data", ".", "--run", "r", "--candidates", "1")]
    [TestCase("--teacher-steps", "train", "align", "--init", "m", "--data", ".", "--run", "r", "--teacher-steps", "1")]
    [TestCase("--reward", "train", "align", "--init", "m", "--data", ".", "--run", "r", "--reward", "ssim")]
    [TestCase("--crop 192", "train", "align", "--init", "m", "--data", ".", "--run", "r", "--reward", "niqe", "--crop", "64", "--config", "tiny")]
    [TestCase("--lpips-alex", "train", "align", "--init", "m", "--data", ".", "--run", "r", "--reward", "lpips-alex")]
    [TestCase("--student-steps", "train", "distill", "--init", "m", "--data", ".", "--run", "r", "--student-steps", "3")]
    [TestCase("--target-mix", "train", "distill", "--init", "m", "--data", ".", "--run", "r", "--target-mix", "2")]
    [TestCase("--start", "train", "distill", "--init", "m", "--data", ".", "--run", "r", "--start", "0")]
    [TestCase("--guidance", "train", "distill", "--init", "m", "--data", ".", "--run", "r", "--guidance", "11")]
    [TestCase("--dense", "trajectory", "cost", "--weights", "w", "--lq", ".", "--dense", "1")]
    [TestCase("--steps", "trajectory", "cost", "--weights", "w", "--lq", ".", "--steps", "1,0")]
    [TestCase("-o", "trajectory", "cost", "--weights", "w", "--lq", ".", "-o", "cost.jpg")]
    [TestCase("--weights", "trajectory", "cost", "--lq", ".")]
    public void OtherVerbsRefuseBadValues(string flag, params string[] args) => Refused(flag, args);

    static void Refused(string flag, string[] args)
    {
        var (code, _, stderr) = CliRunner.Run(args);
        Assert.That(code, Is.EqualTo(2), stderr);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), stderr);
        Assert.That(lines[0], Does.StartWith("ctmsr: error: ").And.Contain(flag));
    }

    [TestCase(new[] { "upscale", "--help" }, new[] { "--sampler", "msde", "--gamma", "--guidance", "--start" })]
    [TestCase(new[] { "eval", "--help" }, new[] { "--sampler", "--gamma", "--guidance", "--start", "--steps" })]
    [TestCase(new[] { "train", "align", "--help" }, new[] { "--init", "--teacher-steps", "--candidates", "--gamma", "--reward", "--resume" })]
    [TestCase(new[] { "train", "distill", "--help" }, new[] { "--init", "--teacher-steps", "--student-steps", "--start", "--guidance", "--target-mix" })]
    [TestCase(new[] { "trajectory", "cost", "--help" }, new[] { "--weights", "--lq", "--dense", "--steps", "--limit" })]
    public void HelpListsTheFlags(string[] args, string[] flags)
    {
        var (code, stdout, _) = CliRunner.Run(args);
        Assert.That(code, Is.EqualTo(0));
        foreach (var f in flags) Assert.That(stdout, Does.Contain(f));
    }
}
