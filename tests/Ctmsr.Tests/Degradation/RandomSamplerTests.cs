using Ctmsr.Train.Degradation;

namespace Ctmsr.Tests.Degradation;

public class RandomSamplerTests
{
    [TestCase(0.3)]
    [TestCase(3.0)]
    [TestCase(9.9)]    // Knuth
    [TestCase(10.0)]   // PTRS from here
    [TestCase(37.5)]
    [TestCase(256.0)]
    public void PoissonMeanAndVariance(double lambda)
    {
        const int n = 200_000;
        var rng = new DegradationRandom(2024);
        double sum = 0, sum2 = 0;
        var counts = new Dictionary<int, int>();
        for (int i = 0; i < n; i++)
        {
            int k = rng.NextPoisson(lambda);
            Assert.That(k, Is.GreaterThanOrEqualTo(0));
            sum += k; sum2 += (double)k * k;
            counts[k] = counts.GetValueOrDefault(k) + 1;
        }
        double mean = sum / n, variance = sum2 / n - mean * mean;
        // Standard errors: mean sqrt(lambda/n); sample variance sqrt((lambda + 2 lambda^2)/n).
        Assert.That(mean, Is.EqualTo(lambda).Within(5 * Math.Sqrt(lambda / n)), "mean");
        Assert.That(variance, Is.EqualTo(lambda).Within(5 * Math.Sqrt((lambda + 2 * lambda * lambda) / n)), "variance");
        // The pmf itself, around the mode: each frequency within 5 binomial standard errors of the exact pmf.
        int lo = Math.Max(0, (int)(lambda - 2 * Math.Sqrt(lambda))), hi = (int)(lambda + 2 * Math.Sqrt(lambda)) + 1;
        for (int k = lo; k <= hi; k++)
        {
            double logP = -lambda + k * Math.Log(lambda);
            for (int j = 2; j <= k; j++) logP -= Math.Log(j);
            double pk = Math.Exp(logP), freq = counts.GetValueOrDefault(k) / (double)n;
            Assert.That(freq, Is.EqualTo(pk).Within(5 * Math.Sqrt(pk * (1 - pk) / n) + 1e-9), $"P(X = {k})");
        }
    }

    [Test]
    public void GaussianMomentsAndDeterminism()
    {
        const int n = 200_000;
        var a = new DegradationRandom(5);
        var b = new DegradationRandom(5);
        var c = new DegradationRandom(6);
        double s = 0, s2 = 0, s4 = 0;
        int same = 0;
        for (int i = 0; i < n; i++)
        {
            double x = a.NextGaussian();
            Assert.That(b.NextGaussian(), Is.EqualTo(x));
            if (c.NextGaussian() == x) same++;
            s += x; s2 += x * x; s4 += x * x * x * x;
        }
        Assert.That(s / n, Is.EqualTo(0).Within(5 / Math.Sqrt(n)));
        Assert.That(s2 / n, Is.EqualTo(1).Within(5 * Math.Sqrt(2.0 / n)));
        Assert.That(s4 / n, Is.EqualTo(3).Within(5 * Math.Sqrt(96.0 / n)));
        Assert.That(same, Is.LessThan(5));
    }

    [Test]
    public void UniformIntegersAndChoices()
    {
        var rng = new DegradationRandom(77);
        var hist = new int[7];
        for (int i = 0; i < 70_000; i++) hist[rng.NextIntInclusive(30, 36) - 30]++;
        foreach (var h in hist) Assert.That(h, Is.EqualTo(10_000).Within(500));
        var ch = new int[3];
        for (int i = 0; i < 100_000; i++) ch[rng.Choice([0.2, 0.7, 0.1])]++;
        Assert.That(ch[0], Is.EqualTo(20_000).Within(700));
        Assert.That(ch[1], Is.EqualTo(70_000).Within(800));
        Assert.That(ch[2], Is.EqualTo(10_000).Within(500));
    }

    [Test]
    public void LogFactorialMatchesSum()
    {
        double acc = 0;
        for (int k = 1; k <= 400; k++)
        {
            acc += Math.Log(k);
            Assert.That(PoissonLogFactorial(k), Is.EqualTo(acc).Within(1e-10 * Math.Max(1, acc)), $"ln {k}!");
        }
    }

    // LogFactorial is internal; the PTRS acceptance uses it. Reach it through the pmf of a large-lambda draw instead
    // would be indirect, so use reflection on the internal helper.
    static double PoissonLogFactorial(long k) =>
        (double)typeof(DegradationRandom).GetMethod("LogFactorial", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .Invoke(null, [k])!;
}
