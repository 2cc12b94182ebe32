using Ctmsr.Autograd;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Inference;

namespace Ctmsr.Tests.Inference;

/// <summary>The distillation-cost diagnostic against a float64 hand computation on a stub denoiser, the cheapest
/// schedule against brute force over every schedule, and a consistent denoiser (x0_hat independent of x_t) costing
/// nothing, as the chord of its trajectory is its step.</summary>
public class TrajectoryCostTests
{
    const int N = 97;

    static double[] Rand(int seed) { var r = new Random(seed); return Enumerable.Range(0, N).Select(_ => 2 * r.NextDouble() - 1).ToArray(); }

    static double Stub(double x, double t, double b) => 0.5 * x + (0.2 + 0.6 * t * t) * b;

    [Test]
    public void CostsFollowTheHandComputationAndTheCheapestScheduleIsTheBruteForceOne()
    {
        const int J = 6;
        double[] y = Rand(1).Select(v => (double)(float)v).ToArray(), eps = Rand(2).Select(v => (double)(float)v).ToArray(), b = Rand(3).Select(v => (double)(float)v).ToArray();
        using var ctx = new Context(new CpuBackend());
        using var scope = Tape.Scope();
        var bT = Tensor.From(ctx, b.Select(v => (float)v).ToArray(), 1, 1, 1, N);
        var tc = new TrajectoryCost(J);
        tc.Add((x, t) => F.AddScaled(x, 0.5f, bT, (float)(0.2 + 0.6 * t * t)),
            Tensor.From(ctx, y.Select(v => (float)v).ToArray(), 1, 1, 1, N), Tensor.From(ctx, eps.Select(v => (float)v).ToArray(), 1, 1, 1, N));

        // float64: dense states x_j, directions v_j = (x_j - x0_j) / t_j, x_{j+1} = x0_j + (t_{j+1} / t_j)(x_j - x0_j)
        double T(int j) => (double)(J - j) / J;
        var xs = new double[J + 1][]; var vs = new double[J][];
        xs[0] = y.Select((v, i) => v + eps[i]).ToArray();
        for (int j = 0; j < J; j++)
        {
            var x0 = xs[j].Select((v, i) => Stub(v, T(j), b[i])).ToArray();
            vs[j] = xs[j].Select((v, i) => (v - x0[i]) / T(j)).ToArray();
            xs[j + 1] = j + 1 == J ? x0 : xs[j].Select((v, i) => x0[i] + T(j + 1) / T(j) * (v - x0[i])).ToArray();
        }
        double Hand(int a, int c) => Math.Sqrt(Enumerable.Range(0, N).Average(i => Math.Pow((xs[c][i] - xs[a][i]) / (T(c) - T(a)) - vs[a][i], 2)));
        for (int a = 0; a < J; a++)
            for (int c = a + 1; c <= J; c++)
            {
                double h = Hand(a, c);
                Assert.That(tc.Cost(a, c), Is.EqualTo(h).Within(1e-5 + 1e-4 * h), $"cost({a},{c})");
            }
        Assert.That(tc.Cost(0, 1), Is.LessThan(1e-5), "a dense step is its own chord");

        for (int k = 1; k <= 4; k++)
        {
            // brute force: every increasing sequence 0 < i_1 < ... < i_{k-1} < J
            double best = double.PositiveInfinity;
            foreach (var inner in Choose(Enumerable.Range(1, J - 1).ToArray(), k - 1))
            {
                var s = new[] { 0 }.Concat(inner).Append(J).ToArray();
                best = Math.Min(best, tc.StepCosts(s).Sum());
            }
            var cheapest = tc.Cheapest(k);
            Assert.That(cheapest[0], Is.EqualTo(0)); Assert.That(cheapest[^1], Is.EqualTo(J)); Assert.That(cheapest, Is.Ordered.Ascending);
            Assert.That(cheapest.Distinct().Count(), Is.EqualTo(k + 1));
            Assert.That(tc.StepCosts(cheapest).Sum(), Is.EqualTo(best).Within(1e-12), $"k = {k}");
        }
        Assert.That(tc.Uniform(3), Is.EqualTo(new[] { 0, 2, 4, 6 }));
    }

    static IEnumerable<int[]> Choose(int[] items, int k)
    {
        if (k == 0) { yield return []; yield break; }
        for (int i = 0; i <= items.Length - k; i++)
            foreach (var rest in Choose(items[(i + 1)..], k - 1)) yield return [items[i], .. rest];
    }

    [Test]
    public void AConsistentDenoiserCostsNothing()
    {
        // x0_hat = b whatever x_t: every ODE state lies on the straight line from b, so every chord is the step direction
        using var ctx = new Context(new CpuBackend());
        using var scope = Tape.Scope();
        var bT = Tensor.From(ctx, Rand(4).Select(v => (float)v).ToArray(), 1, 1, 1, N);
        var tc = new TrajectoryCost(8);
        tc.Add((x, t) => F.Scale(bT, 1f), Tensor.From(ctx, Rand(5).Select(v => (float)v).ToArray(), 1, 1, 1, N),
            Tensor.From(ctx, Rand(6).Select(v => (float)v).ToArray(), 1, 1, 1, N));
        for (int a = 0; a < 8; a++) Assert.That(tc.Cost(a, 8), Is.LessThan(1e-5), $"one step from t_{a} to 0");
        Assert.That(tc.StepCosts(tc.Uniform(4)).Sum(), Is.LessThan(1e-5));
    }
}
