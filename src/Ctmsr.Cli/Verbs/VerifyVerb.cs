using System.CommandLine;
using System.Diagnostics;
using Ctmsr.Autograd;
using Ctmsr.Model.Checkpoints;
using Ctmsr.Kernels;
using Ctmsr.Model.Verification;

namespace Ctmsr.Cli.Verbs;

/// <summary>`ctmsr verify FIXTURE [--pth CHECKPOINT] [--device D]`: confirms a backend computes the authors' function.</summary>
static class VerifyVerb
{
    public static Command Create()
    {
        var fixture = new Argument<FileInfo>("fixture") { Description = "a model fixture in safetensors format (e.g. ../shared/fixtures/ctmsr_small.safetensors)" };
        var pth = new Option<FileInfo?>("--pth") { Description = "take the weights from this official-layout checkpoint (params_ema) instead of the fixture's param.*" };
        var key = new Option<string?>("--key") { Description = "checkpoint entry to read with --pth (default params_ema)" };
        var device = DeviceOption.Create();
        var precision = PrecisionOption.Create();
        var noAlign = new Option<bool>("--no-kink-align") { Description = "do not take LeakyReLU's subgradient from a float64 forward at the few inputs " +
                                                                         "within rounding of its kink (shows the raw gradient errors; skips that forward)" };
        var cmd = new Command("verify", "run a golden fixture forward and backward and compare every tensor; exit 0 only on PASS " +
                                        "(the bounds are float32's: tf32/bf16 show their error and fail)") { fixture, pth, key, device, precision, noAlign };
        cmd.SetGuardedAction(r =>
        {
            var path = r.GetValue(fixture)!;
            if (!path.Exists) throw new FileNotFoundException($"{path.FullName}: no such fixture file");
            using var backend = DeviceOption.Open(r.GetValue(device), r.GetValue(precision));
            IReadOnlyDictionary<string, HostTensor>? weights = null;
            var p = r.GetValue(pth);
            if (p is not null) weights = CheckpointFiles.LoadStateDict(p.FullName, r.GetValue(key) ?? "params_ema");
            Console.WriteLine($"verify {path.Name} on {backend.Name} ({backend.Description}), precision {Precision.Name(backend.Precision)}" + (p is null ? "" : $", weights from {p.Name}"));
            List<Comparison> results;
            KinkAlignedBackend? kinks = null;
            var sw = Stopwatch.StartNew();
            if (r.GetValue(noAlign))
            {
                // the context would dispose its backend: hand it a decorator that does not
                using var ctx = new Context(new ForwardingBackend(backend, ownsInner: false));
                results = FixtureVerifier.Run(ctx, path.FullName, weights).ToList();
            }
            else
            {
                // a float32 forward can round a LeakyReLU input within ~1e-7 of 0 across it, and that one element's slope
                // then moves a bias gradient by ~1e-3; the float64 forward says which side those few elements belong to
                Console.WriteLine("float64 reference forward for the LeakyReLU kink alignment (scalar float64 on the CPU: several times the check itself; --no-kink-align skips it) ...");
                var inputs = FixtureVerifier.ReferenceKinkInputs(path.FullName, weights);
                Console.WriteLine($"float64 reference forward: {sw.Elapsed.TotalSeconds:F1} s, {inputs.Count} LeakyReLU calls, {inputs.Sum(a => (long)a.Length)} inputs");
                sw.Restart();
                (results, kinks) = FixtureVerifier.RunKinkAligned(backend, path.FullName, inputs, weights);
            }
            int fails = 0, n = 0;
            double worstF = 0, worstG = 0;
            foreach (var c in results)
            {
                n++;
                if (!c.Pass) fails++;
                if (c.Bound == FixtureVerifier.ForwardBound) worstF = Math.Max(worstF, c.RelativeError); else worstG = Math.Max(worstG, c.RelativeError);
                Console.WriteLine($"{(c.Pass ? "ok  " : "FAIL")} {c.Name,-72} rel L2 {c.RelativeError:E2} (< {c.Bound:0e0})");
            }
            Console.WriteLine($"{n} tensors compared in {sw.Elapsed.TotalSeconds:F1} s, worst forward {worstF:E2}, worst gradient {worstG:E2}");
            if (kinks is null) Console.WriteLine("kink alignment off (--no-kink-align): raw gradients");
            else
            {
                string? problem = kinks.Problem();
                Console.WriteLine($"{(problem is null ? "ok  " : "FAIL")} kink alignment: {kinks.Summary()}" + (problem is null ? "" : $": {problem}"));
                n++;
                if (problem is not null) fails++;
            }
            Console.WriteLine(fails == 0 ? "PASS" : $"FAIL ({fails} of {n} over the bound)");
            return fails == 0 ? 0 : 1;
        });
        return cmd;
    }
}
