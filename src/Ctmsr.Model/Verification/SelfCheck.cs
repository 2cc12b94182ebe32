using System.Diagnostics;
using Ctmsr.Autograd;
using Ctmsr.Kernels;
using Ctmsr.Kernels.Conformance;

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
        // not disposed: the backend belongs to the caller; the pooled buffers go back to it
        var ctx = new Context(backend);
        try { all = FixtureVerifier.Run(ctx, fixturePath).ToList(); }
        finally { ctx.Pool.Trim(); }
        double ms = sw.Elapsed.TotalMilliseconds;
        var rows = new List<CheckRow>();
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
}
