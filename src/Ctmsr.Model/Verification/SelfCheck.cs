using System.Diagnostics;
using Ctmsr.Autograd;
using Ctmsr.Kernels;
using Ctmsr.Kernels.Conformance;
using Ctmsr.Model.Checkpoints;

namespace Ctmsr.Model.Verification;

/// <summary>One line of a self-check: what was checked, at which shape, its relative L2 error, the bound, and the time.</summary>
public sealed record CheckRow(string Check, string Shape, double Error, double Tolerance, double Milliseconds, string? Failure = null)
{
    public bool Pass => Failure is null && Error < Tolerance;
}

/// <summary>
/// A backend's conformance check (`ctmsr selfcheck`): every case of <see cref="OpConformance"/> against the float64
/// reference and, given a golden model fixture, the <see cref="FixtureVerifier"/> comparison of the whole network
/// (summarised as the worst forward and the worst gradient tensor, plus one row per tensor over its bound).
/// </summary>
public static class SelfCheck
{
    public static IEnumerable<CheckRow> Run(Backend backend, string? fixturePath = null, Func<OpCase, bool>? filter = null)
    {
        foreach (var r in OpConformance.Run(backend, OpConformance.Cases.Where(c => filter?.Invoke(c) ?? true)))
            yield return new CheckRow(r.Case.Op, r.Case.Shape, r.Error, r.Case.Tolerance, r.Milliseconds, r.Failure);
        if (fixturePath is null) yield break;
        foreach (var row in Fixture(backend, fixturePath)) yield return row;
    }

    static List<CheckRow> Fixture(Backend backend, string fixturePath)
    {
        var name = Path.GetFileName(fixturePath);
        var sw = Stopwatch.StartNew();
        List<Comparison> all;
        var rows = new List<CheckRow>();
        if (HasParameterGradients(fixturePath))
        {
            // every parameter gradient, as `ctmsr verify`: LeakyReLU's slope at the few inputs within rounding of its kink
            // from a float64 forward (one element rounded across 0 moves a bias gradient past the bound)
            var inputs = FixtureVerifier.ReferenceKinkInputs(fixturePath);
            double refMs = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            (all, var kinks) = FixtureVerifier.RunKinkAligned(backend, fixturePath, inputs);
            string? problem = kinks.Problem();
            rows.Add(new CheckRow("golden kink alignment", kinks.Summary(), problem is null ? 0 : 1, 1, refMs, problem));
        }
        else
        {
            // not disposed: the backend belongs to the caller; the pooled buffers go back to it
            var ctx = new Context(backend);
            try { all = FixtureVerifier.Run(ctx, fixturePath).ToList(); }
            finally { ctx.Pool.Trim(); }
        }
        double ms = sw.Elapsed.TotalMilliseconds;
        foreach (var (label, bound) in new[] { ("golden forward", FixtureVerifier.ForwardBound), ("golden gradients", FixtureVerifier.GradientBound) })
        {
            var part = all.Where(c => c.Bound == bound).ToList();
            if (part.Count == 0) continue;
            var worst = part.MaxBy(c => double.IsNaN(c.RelativeError) ? double.PositiveInfinity : c.RelativeError)!;
            rows.Add(new CheckRow(label, $"{part.Count} in {name}, worst {worst.Name}", worst.RelativeError, bound, ms));
            rows.AddRange(part.Where(c => !c.Pass).Select(c => new CheckRow(label, c.Name, c.RelativeError, bound, 0)));
        }
        return rows;
    }

    /// <summary>Whether the fixture holds parameter gradients (the full fixture; the lite one has output.D and grad.x only).</summary>
    static bool HasParameterGradients(string fixturePath)
    {
        using var fx = SafetensorsFile.Open(fixturePath);
        return fx.Names.Any(n => n.StartsWith("grad.model.", StringComparison.Ordinal));
    }
}
