using System.CommandLine;
using System.Text.Json;
using Ctmsr.Kernels;
using Ctmsr.Kernels.Conformance;
using Ctmsr.Model.Verification;

namespace Ctmsr.Cli.Verbs;

/// <summary>
/// `ctmsr selfcheck [--device D] [--fixture F] [--json]`: the op conformance suite against the float64 reference and,
/// with --fixture, the golden model; exit 0 only when every row passes. Runs from the published CLI (no SDK), which is
/// how a GPU machine's backend gets validated.
/// </summary>
static class SelfCheckVerb
{
    public static Command Create()
    {
        var fixture = new Option<FileInfo?>("--fixture") { Description = "also run this golden model fixture (e.g. ../shared/fixtures/ctmsr_small_lite.safetensors)" };
        var json = new Option<bool>("--json") { Description = "print the results as one JSON object instead of a table" };
        var only = new Option<string?>("--op") { Description = "run only the cases of ops whose name contains this text (e.g. Conv2d)" };
        var device = DeviceOption.Create();
        var precision = PrecisionOption.Create();
        var cmd = new Command("selfcheck", "check every op of a backend against the float64 reference (and a golden fixture); exit 0 only if all pass. " +
                                           "With --precision tf32/bf16 the reference multiplies the same rounded operands, so the tensor-core kernels are held to float32 bounds")
            { device, precision, fixture, json, only };
        cmd.SetGuardedAction(r =>
        {
            var fx = r.GetValue(fixture);
            if (fx is not null && !fx.Exists) throw new FileNotFoundException($"{fx.FullName}: no such fixture file; pass a model fixture such as ../shared/fixtures/ctmsr_small.safetensors");
            string? op = r.GetValue(only);
            Func<OpCase, bool>? filter = op is null ? null : c => c.Op.Contains(op, StringComparison.OrdinalIgnoreCase);
            if (filter is not null && !OpConformance.Cases.Any(filter))
                throw new ArgumentException($"--op '{op}' matches no op of the catalogue; drop it or use a name such as Gemm or Conv2dForward");
            bool asJson = r.GetValue(json);
            if (fx is not null && Precision.Parse(r.GetValue(precision)) != MatmulPrecision.Fp32)
                throw new ArgumentException("--fixture checks float32's golden bounds, which tf32/bf16 do not meet: drop --fixture, " +
                                            "or see the model's error with `ctmsr verify FIXTURE --precision ...`");
            using var backend = DeviceOption.Open(r.GetValue(device), r.GetValue(precision));
            var rows = new List<CheckRow>();
            if (!asJson)
            {
                Console.WriteLine($"selfcheck on {backend.Name} ({backend.Description}), precision {Precision.Name(backend.Precision)}");
                Console.WriteLine($"{"check",-26} {"shape",-52} {"rel L2",9} {"bound",7}  {"",-4} {"ms",9}");
            }
            foreach (var row in SelfCheck.Run(backend, fx?.FullName, filter))
            {
                rows.Add(row);
                if (!asJson)
                    Console.WriteLine($"{row.Check,-26} {Fit(row.Shape, 52),-52} {row.Error,9:E2} {row.Tolerance,7:0e0}  {(row.Pass ? "PASS" : "FAIL")} {row.Milliseconds,9:F1}"
                        + (row.Failure is null ? "" : $"  ({row.Failure})"));
            }
            int failed = rows.Count(x => !x.Pass);
            if (asJson)
            {
                var doc = new
                {
                    device = backend.Name,
                    description = backend.Description,
                    passed = failed == 0,
                    failed,
                    rows = rows.Select(x => new
                    {
                        check = x.Check, shape = x.Shape, error = Finite(x.Error), tolerance = x.Tolerance, pass = x.Pass,
                        ms = Math.Round(x.Milliseconds, 3), failure = x.Failure,
                    }),
                };
                Console.WriteLine(JsonSerializer.Serialize(doc));
            }
            else Console.WriteLine(failed == 0 ? $"PASS ({rows.Count} checks)" : $"FAIL ({failed} of {rows.Count} checks over the bound)");
            return failed == 0 ? 0 : 1;
        });
        return cmd;
    }

    static string Fit(string s, int width) => s.Length <= width ? s : s[..(width - 3)] + "...";

    // JSON has no NaN or infinity: an error that is not finite is written as null
    static double? Finite(double v) => double.IsFinite(v) ? v : null;
}
