namespace Ctmsr.Train.Degradation;

/// <summary>
/// Seeded random source for the degradation pipeline: xoshiro256** seeded through SplitMix64, so a
/// seed gives the same stream on every machine and .NET version. Normals by Box-Muller; Poisson by
/// Knuth's product method for lambda &lt; 10 and Hörmann's PTRS (transformed rejection) above.
/// </summary>
public sealed class DegradationRandom
{
    ulong _s0, _s1, _s2, _s3;
    double _spareNormal;
    bool _hasSpare;

    public DegradationRandom(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x); _s1 = SplitMix(ref x); _s2 = SplitMix(ref x); _s3 = SplitMix(ref x);
    }

    static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [lo, hi).</summary>
    public double Uniform(double lo, double hi) => lo + (hi - lo) * NextDouble();

    /// <summary>Uniform integer in [0, n).</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "NextInt needs n > 0");
        return (int)((NextUInt64() >> 33) * (ulong)n >> 31);
    }

    /// <summary>Uniform integer in [lo, hi] (both inclusive).</summary>
    public int NextIntInclusive(int lo, int hi) => lo + NextInt(hi - lo + 1);

    /// <summary>Index drawn with probability proportional to weights[i] (Python's random.choices).</summary>
    public int Choice(ReadOnlySpan<double> weights)
    {
        double total = 0;
        foreach (var wt in weights) total += wt;
        if (!(total > 0)) throw new ArgumentException("Choice: the weights must have a positive sum");
        double u = NextDouble() * total, acc = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            acc += weights[i];
            if (u < acc) return i;
        }
        return weights.Length - 1;
    }

    public T Pick<T>(IReadOnlyList<T> items) => items[NextInt(items.Count)];

    /// <summary>Standard normal (Box-Muller, both values used).</summary>
    public double NextGaussian()
    {
        if (_hasSpare) { _hasSpare = false; return _spareNormal; }
        double u1 = 1.0 - NextDouble(); // (0, 1]
        double u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        _spareNormal = r * Math.Sin(2 * Math.PI * u2);
        _hasSpare = true;
        return r * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Poisson(lambda) sample; lambda &lt;= 0 gives 0.</summary>
    public int NextPoisson(double lambda)
    {
        if (!(lambda > 0)) return 0;
        if (lambda < 10) return PoissonKnuth(lambda);
        return PoissonPtrs(lambda);
    }

    int PoissonKnuth(double lambda)
    {
        double limit = Math.Exp(-lambda), p = 1.0;
        int k = -1;
        do { k++; p *= NextDouble(); } while (p > limit);
        return k;
    }

    // Hörmann (1993), "The transformed rejection method for generating Poisson random variables".
    int PoissonPtrs(double lambda)
    {
        double slam = Math.Sqrt(lambda), loglam = Math.Log(lambda);
        double b = 0.931 + 2.53 * slam;
        double a = -0.059 + 0.02483 * b;
        double invAlpha = 1.1239 + 1.1328 / (b - 3.4);
        double vr = 0.9277 - 3.6224 / (b - 2);
        while (true)
        {
            double u = NextDouble() - 0.5;
            double v = NextDouble();
            double us = 0.5 - Math.Abs(u);
            long k = (long)Math.Floor((2 * a / us + b) * u + lambda + 0.43);
            if (us >= 0.07 && v <= vr) return (int)k;
            if (k < 0 || (us < 0.013 && v > us)) continue;
            if (Math.Log(v) + Math.Log(invAlpha) - Math.Log(a / (us * us) + b) <= -lambda + k * loglam - LogFactorial(k))
                return (int)k;
        }
    }

    static readonly double[] LogFactorialTable = BuildLogFactorials(64);

    static double[] BuildLogFactorials(int n)
    {
        var t = new double[n];
        for (int i = 1; i < n; i++) t[i] = t[i - 1] + Math.Log(i);
        return t;
    }

    /// <summary>ln(k!) exactly from a table for k &lt; 64, else by Stirling's series (error &lt; 1e-14).</summary>
    internal static double LogFactorial(long k)
    {
        if (k < LogFactorialTable.Length) return LogFactorialTable[k];
        double x = k + 1.0; // ln Gamma(x)
        double ix = 1.0 / x, ix2 = ix * ix;
        return (x - 0.5) * Math.Log(x) - x + 0.5 * Math.Log(2 * Math.PI)
             + ix * (1.0 / 12 - ix2 * (1.0 / 360 - ix2 * (1.0 / 1260 - ix2 / 1680)));
    }
}
