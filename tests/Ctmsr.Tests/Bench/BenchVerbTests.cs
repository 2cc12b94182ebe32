using System.Text.Json.Nodes;
using Ctmsr.Model.Network;
using Ctmsr.Benchmarking;

namespace Ctmsr.Tests.Bench;

/// <summary>`ctmsr bench` end to end on the CPU with tiny sizes: the table and the JSON are well formed. No timed assertions.</summary>
public sealed class BenchVerbTests
{
    static readonly string[] Tiny = ["bench", "--device", "cpu", "--what", "kernels", "--config", "small", "--gemm", "32,48", "--repeat", "1", "--budget", "0.001", "--no-torch"];

    static (int code, string stdout, string stderr) Ctmsr(params string[] args)
    {
        var dll = Path.Combine(TestContext.CurrentContext.TestDirectory, "ctmsr.dll");
        if (!File.Exists(dll)) Assert.Ignore($"{dll} is absent");
        return TwinTests.Run("dotnet", [dll, .. args]);
    }

    [Test]
    public void KernelsJsonIsWellFormed()
    {
        var (code, stdout, stderr) = Ctmsr([.. Tiny, "--json"]);
        Assert.That(code, Is.EqualTo(0), stderr);
        var root = JsonNode.Parse(stdout)!.AsObject();
        Assert.That(root["config"]!.GetValue<string>(), Is.EqualTo("small"));
        var dev = root["devices"]!.AsArray().Single()!;
        Assert.That(dev["device"]!.GetValue<string>(), Is.EqualTo("cpu"));
        Assert.That(dev["peak_gflops"]!.GetValue<double>(), Is.GreaterThan(0));
        Assert.That(dev["peak_gbs"]!.GetValue<double>(), Is.GreaterThan(0));
        var rows = dev["rows"]!.AsArray().Select(r => r!.AsObject()).ToList();
        var expected = KernelCases.For(CtmsrConfig.Small, 1, 64, [32, 48]);
        Assert.That(rows.Select(r => (r["op"]!.GetValue<string>(), r["shape"]!.GetValue<string>(), r["pass"]!.GetValue<string>())),
            Is.EqualTo(expected.Select(c => (c.Op, c.Shape, c.Pass))));
        Assert.That(rows.Select(r => r["op"]!.GetValue<string>()).Distinct(), Is.SupersetOf(new[] { "gemm NN", "conv 3x3", "window attention", "group norm" }));
        foreach (var r in rows)
        {
            Assert.That(r["section"]!.GetValue<string>(), Is.EqualTo("kernels"));
            Assert.That(r["seconds"]!.GetValue<double>(), Is.GreaterThan(0));
            Assert.That(r["times"]!.AsArray(), Has.Count.EqualTo(1));
            Assert.That(r["fraction_of_peak"]!.GetValue<double>(), Is.GreaterThan(0));
            Assert.That(r["torch_seconds"], Is.Null, "--no-torch");
            bool memory = r["op"]!.GetValue<string>() == "group norm";
            Assert.That(memory ? r["gbs"] : r["gflops"], Is.Not.Null);
        }
        Assert.That(root["notes"]!.AsArray().Select(n => n!.GetValue<string>()), Has.Some.Contains("--no-torch"));
    }

    /// <summary>`--profile`: one profile per model case, each op with calls, seconds and a share; GEMM and conv rows carry
    /// GFLOP/s, memory-bound rows GB/s; no timed rows; the per-op seconds do not exceed the step's wall time.</summary>
    [Test]
    public void ProfileJsonListsEveryOpOfEachCase()
    {
        var (code, stdout, stderr) = Ctmsr("bench", "--device", "cpu", "--profile", "--config", "tiny", "--lr", "16", "--repeat", "1", "--warmup", "0", "--json");
        Assert.That(code, Is.EqualTo(0), stderr);
        var dev = JsonNode.Parse(stdout)!["devices"]!.AsArray().Single()!;
        Assert.That(dev["rows"]!.AsArray(), Is.Empty);
        var profiles = dev["profiles"]!.AsArray().Select(p => p!.AsObject()).ToList();
        Assert.That(profiles.Select(p => p["case"]!.GetValue<string>()), Is.EqualTo(new[] { "forward", "train step" }));
        foreach (var p in profiles)
        {
            var ops = p["ops"]!.AsArray().Select(o => o!.AsObject()).ToDictionary(o => o["op"]!.GetValue<string>());
            // at inference the MLP's fc1 and its GELU are one op; the train step keeps the GELU's input for its backward
            string gelu = p["case"]!.GetValue<string>() == "forward" ? "Conv2dActForward 1x1 Gelu" : "ActivationForward Gelu";
            Assert.That(ops.Keys, Is.SupersetOf(new[] { "Conv2dForward 3x3", "WindowAttentionForward", "GroupNormSiluForward", gelu }));
            Assert.That(ops[gelu][gelu.StartsWith("Conv", StringComparison.Ordinal) ? "gflops" : "gbs"], Is.Not.Null);
            Assert.That(ops["Conv2dForward 3x3"]["gflops"], Is.Not.Null);
            Assert.That(ops["CopyStrided"]["gbs"], Is.Not.Null);
            Assert.That(ops.Values.Sum(o => o["seconds_per_step"]!.GetValue<double>()), Is.LessThanOrEqualTo(p["step_seconds"]!.GetValue<double>()));
            Assert.That(ops.Values.All(o => o["calls_per_step"]!.GetValue<double>() >= 1));
        }
        // the train step's prediction runs with a tape: GroupNorm and SiLU there are the two recorded ops
        var train = profiles[1]["ops"]!.AsArray().Select(o => o!["op"]!.GetValue<string>()).ToList();
        Assert.That(train, Does.Contain("GroupNormBackward").And.Contain("ActivationBackward SiLU"));
    }

    [Test]
    public void ProfileWithAChartIsAUsageError()
    {
        var (code, _, stderr) = Ctmsr("bench", "--profile", "--chart", "x.png", "--config", "tiny", "--lr", "16");
        Assert.That(code, Is.EqualTo(2), stderr);
        Assert.That(stderr, Does.Contain("--profile"));
    }

    /// <summary>With torch present, every kernel row also carries the twin's rounds (the serve.py --lines session).</summary>
    [Test]
    public void KernelsAgainstTheTwinFillTheTorchColumns()
    {
        TwinTests.RequireTorch();
        TwinTests.RepoRoot(); // the verb finds bench/twin/serve.py above the binary; skip where it is not
        var (code, stdout, stderr) = Ctmsr("bench", "--device", "cpu", "--what", "kernels", "--config", "small", "--gemm", "32", "--repeat", "2", "--budget", "0.001", "--json");
        Assert.That(code, Is.EqualTo(0), stderr);
        var json = JsonNode.Parse(stdout)!.AsObject();
        Assert.That(json["torch"]?.GetValue<string>(), Is.Not.Null.And.Not.Empty, stdout);
        var dev = json["devices"]!.AsArray().Single()!;
        Assert.That(dev["notes"]!.AsArray(), Is.Empty, stdout);
        foreach (var r in dev["rows"]!.AsArray())
        {
            Assert.That(r!["torch_times"]!.AsArray(), Has.Count.EqualTo(2));
            Assert.That(r["torch_seconds"]!.GetValue<double>(), Is.GreaterThan(0));
            Assert.That(r["speed_vs_torch"]!.GetValue<double>(), Is.GreaterThan(0));
        }
    }

    [Test]
    public void KernelsMarkdownTableIsWellFormed()
    {
        var (code, stdout, stderr) = Ctmsr(Tiny);
        Assert.That(code, Is.EqualTo(0), stderr);
        var lines = stdout.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        int header = lines.FindIndex(l => l.StartsWith("| op | shape | pass | ms |", StringComparison.Ordinal));
        Assert.That(header, Is.GreaterThanOrEqualTo(0), stdout);
        int cols = lines[header].Count(ch => ch == '|');
        Assert.That(lines[header + 1], Does.StartWith("|---"));
        var body = lines.Skip(header + 2).TakeWhile(l => l.StartsWith('|')).ToList();
        Assert.That(body, Has.Count.EqualTo(KernelCases.For(CtmsrConfig.Small, 1, 64, [32, 48]).Count));
        foreach (var l in body)
        {
            Assert.That(l.Count(ch => ch == '|'), Is.EqualTo(cols), l);
            var cells = l.Split('|').Select(c => c.Trim()).ToArray();
            Assert.That(double.TryParse(cells[4], System.Globalization.CultureInfo.InvariantCulture, out double ms) && ms > 0, $"ms column in: {l}");
            Assert.That(cells[7], Does.EndWith("%"), l);
        }
        Assert.That(stdout, Does.Contain("Measured peak:"));
    }

    [Test]
    public void BadArgumentsAreOneLineErrors()
    {
        var (code, stdout, stderr) = Ctmsr("bench", "--what", "everything", "--no-torch");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr.Trim(), Does.StartWith("ctmsr: error: --what everything").And.Not.Contain("\n"));
        (code, _, stderr) = Ctmsr("bench", "--lr", "50", "--no-torch");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr.Trim(), Does.Contain("multiple of 64"));
        Assert.That(stdout, Is.Empty);
    }
}
