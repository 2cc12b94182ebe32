using System.CommandLine;
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
        var cmd = new Command("verify", "run a golden fixture forward and backward and compare every tensor; exit 0 only on PASS " +
                                        "(the bounds are float32's: tf32/bf16 show their error and fail)") { fixture, pth, key, device, precision };
        cmd.SetGuardedAction(r =>
        {
            var path = r.GetValue(fixture)!;
            if (!path.Exists) throw new FileNotFoundException($"{path.FullName}: no such fixture file");
            using var ctx = new Context(DeviceOption.Open(r.GetValue(device), r.GetValue(precision)));
            IReadOnlyDictionary<string, HostTensor>? weights = null;
            var p = r.GetValue(pth);
            if (p is not null) weights = CheckpointFiles.LoadStateDict(p.FullName, r.GetValue(key) ?? "params_ema");
            Console.WriteLine($"verify {path.Name} on {ctx.Backend.Name} ({ctx.Backend.Description}), precision {Precision.Name(ctx.Backend.Precision)}" + (p is null ? "" : $", weights from {p.Name}"));
            int fails = 0, n = 0;
            double worstF = 0, worstG = 0;
            foreach (var c in FixtureVerifier.Run(ctx, path.FullName, weights))
            {
                n++;
                if (!c.Pass) fails++;
                if (c.Bound == FixtureVerifier.ForwardBound) worstF = Math.Max(worstF, c.RelativeError); else worstG = Math.Max(worstG, c.RelativeError);
                Console.WriteLine($"{(c.Pass ? "ok  " : "FAIL")} {c.Name,-72} rel L2 {c.RelativeError:E2} (< {c.Bound:0e0})");
            }
            Console.WriteLine($"{n} tensors compared, worst forward {worstF:E2}, worst gradient {worstG:E2}");
            Console.WriteLine(fails == 0 ? "PASS" : $"FAIL ({fails} of {n} over the bound)");
            return fails == 0 ? 0 : 1;
        });
        return cmd;
    }
}
