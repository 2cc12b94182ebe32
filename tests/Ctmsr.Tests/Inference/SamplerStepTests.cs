using Ctmsr.Autograd;
using Ctmsr.Kernels;
using Ctmsr.Inference;

namespace Ctmsr.Tests.Inference;

/// <summary>
/// The samplers of spec/TRAJECTORY.md on each backend against float64 hand computations: every step formula, the
/// modulated step at gamma = 0 being the ODE step bit for bit, the guidance identity (x0_g in the step equals guiding
/// eps_hat away from the input's eps), and whole samples from an interpolated start with guidance and stochastic
/// steps, driven by a stub denoiser whose output is a fixed function of its input. Tolerance 1e-5 absolute on values
/// of order 1 (a handful of float32 operations per element; 1e-5 per step for the whole samples).
/// </summary>
[TestFixture("cpu"), TestFixture("opencl"), TestFixture("reference"), NonParallelizable]
public sealed class SamplerStepTests(string device)
{
    const int N = 211;
    const double Tol = 1e-5;
    Context _ctx = null!;

    [OneTimeSetUp]
    public void Setup() => _ctx = new Context(device switch
    {
        "cpu" => new Ctmsr.Kernels.Cpu.CpuBackend(),
        "reference" => new Ctmsr.Kernels.Reference.ReferenceBackend(),
        _ => TestDevices.OpenClOrSkip(),
    });

    [OneTimeTearDown] public void TearDown() => _ctx?.Dispose();

    static double[] Rand(int seed, double scale = 1)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, N).Select(_ => scale * (2 * r.NextDouble() - 1)).ToArray();
    }

    /// <summary>Values rounded to float32 first, so the hand computation starts from exactly what the device holds.</summary>
    static double[] F32(double[] v) => v.Select(x => (double)(float)x).ToArray();

    Tensor T(double[] v) => Tensor.From(_ctx, v.Select(x => (float)x).ToArray(), 1, 1, 1, v.Length);

    static void Near(float[] got, Func<int, double> expect, double tol, string what)
    {
        double worst = 0; int at = 0;
        for (int i = 0; i < got.Length; i++)
        {
            double d = Math.Abs(got[i] - expect(i));
            if (d > worst) { worst = d; at = i; }
        }
        Assert.That(worst, Is.LessThan(tol), $"{what}: worst |error| {worst:E2} at element {at}");
    }

    static double EpsHat(double xt, double x0, double y, double t) => (xt - x0 - t * (y - x0)) / t;

    [Test]
    public void OdeAndConsistencyStepsFollowTheirFormulas()
    {
        double t = 0.8, s = 0.3;
        double[] xt = F32(Rand(1, 2)), x0 = F32(Rand(2)), y = F32(Rand(3)), z = F32(Rand(4, 2));
        using var scope = Tape.Scope();
        var ode = Trajectory.OdeStep(T(xt), T(x0), T(y), t, s).ToArray();
        Near(ode, i => x0[i] + s * (y[i] - x0[i]) + s * EpsHat(xt[i], x0[i], y[i], t), Tol, "ODE step");
        var cons = Trajectory.ConsistencyStep(T(x0), T(y), s, T(z)).ToArray();
        Near(cons, i => x0[i] + s * (y[i] - x0[i]) + s * z[i], Tol, "consistency step");
    }

    [TestCase(0.05)]
    [TestCase(0.5)]
    [TestCase(1.0)]
    public void ModulatedStepFollowsItsFormula(double gamma)
    {
        double t = 0.9, s = 0.45;
        double[] xt = F32(Rand(5, 2)), x0 = F32(Rand(6)), y = F32(Rand(7)), z = F32(Rand(8, 2));
        using var scope = Tape.Scope();
        var got = Trajectory.ModulatedStep(T(xt), T(x0), T(y), t, s, gamma, T(z)).ToArray();
        double c = gamma * s * Math.Sqrt(1 - s * s / (t * t)), k = Math.Sqrt(s * s - c * c);
        Near(got, i => x0[i] + s * (y[i] - x0[i]) + k * EpsHat(xt[i], x0[i], y[i], t) + c * z[i], Tol, $"M-SDE step, gamma {gamma}");
    }

    [Test]
    public void ModulatedStepAtGammaZeroIsTheOdeStepBitForBit()
    {
        double t = 0.75, s = 0.5;
        using var scope = Tape.Scope();
        Tensor xt = T(Rand(9, 2)), x0 = T(Rand(10)), y = T(Rand(11)), z = T(Rand(12, 2));
        Assert.That(Trajectory.ModulatedStep(xt, x0, y, t, s, 0, z).ToArray(), Is.EqualTo(Trajectory.OdeStep(xt, x0, y, t, s).ToArray()));
    }

    [Test]
    public void GuidedEstimateInTheStepIsGuidingEpsAwayFromTheInput()
    {
        // Eq. 19-20: eps(x0) = (x_t - t y - (1 - t) x0) / t is affine in x0, so the step with x0_g = x0 + w (x0 - y) is
        // the step with x0_g and eps_g = eps_hat + w (eps_hat - eps(y)), eps(y) = (x_t - y) / t: written out here
        double t = 0.7, s = 0.35, w = 0.4;
        double[] xt = F32(Rand(13, 2)), x0 = F32(Rand(14)), y = F32(Rand(15));
        using var scope = Tape.Scope();
        Tensor yT = T(y), xtT = T(xt);
        var g = Trajectory.Guide(T(x0), yT, w);
        Near(g.ToArray(), i => x0[i] + w * (x0[i] - y[i]), Tol, "x0_g");
        var got = Trajectory.OdeStep(xtT, g, yT, t, s).ToArray();
        Near(got, i =>
        {
            double e = EpsHat(xt[i], x0[i], y[i], t), ey = (xt[i] - y[i]) / t, eg = e + w * (e - ey);
            double x0g = x0[i] + w * (x0[i] - y[i]);
            return x0g + s * (y[i] - x0g) + s * eg;
        }, 2 * Tol, "ODE step with guidance");
    }

    /// <summary>A stub denoiser: D(x; sigma) = a x + b(sigma) with a fixed per-element b, so every state matters.</summary>
    static double StubD(double x, double sigma, double b) => 0.6 * x + (0.3 - 0.2 * sigma) * b;

    [TestCase(SamplerKind.Ode, 3, 1.0, 0.0, 0.0)]
    [TestCase(SamplerKind.Ode, 4, 0.6, 0.0, 0.0)]
    [TestCase(SamplerKind.Ode, 1, 0.6, 0.3, 0.0)]
    [TestCase(SamplerKind.Consistency, 3, 0.8, 0.2, 0.0)]
    [TestCase(SamplerKind.Msde, 4, 0.7, 0.25, 0.3)]
    [TestCase(SamplerKind.Msde, 2, 1.0, 0.0, 1.0)]
    public void SamplesFromAnInterpolatedStartWithGuidanceFollowTheHandComputation(SamplerKind kind, int steps, double start, double w, double gamma)
    {
        double[] y = F32(Rand(20)), eps = F32(Rand(21, 2)), b = F32(Rand(22));
        var zs = Enumerable.Range(0, steps).Select(k => F32(Rand(100 + k, 2))).ToArray();
        using var scope = Tape.Scope();
        Tensor yT = T(y), epsT = T(eps), bT = T(b);
        var sigmas = new List<double>();
        Tensor Denoise(Tensor x, double sigma)
        {
            sigmas.Add(sigma);
            return F.AddScaled(x, 0.6f, bT, (float)(0.3 - 0.2 * sigma));
        }
        var settings = new SamplerSettings { Steps = steps, Kind = kind, Start = start, Guidance = w, Gamma = gamma };
        var got = Trajectory.Sample(Denoise, yT, epsT, 1f, settings, n => T(zs[n])).ToArray();

        // float64: x_T = y + T eps; per grid point x0 = D(x; t), x0_g = x0 + w (x0 - y), then the step
        var grid = Enumerable.Range(0, steps + 1).Select(k => start * (steps - k) / steps).ToArray();
        Assert.That(sigmas, Is.EqualTo(grid.Take(steps)).Within(1e-15), "D is evaluated at sigma = T (K - k) / K");
        var x = y.Select((v, i) => v + start * eps[i]).ToArray();
        var result = new double[N];
        for (int k = 0; k < steps; k++)
        {
            double t = grid[k], s = grid[k + 1];
            for (int i = 0; i < N; i++)
            {
                double x0 = StubD(x[i], t, b[i]);
                x0 += w * (x0 - y[i]);
                if (s == 0) { result[i] = x0; continue; }
                double e = EpsHat(x[i], x0, y[i], t), z = zs[steps - k - 1][i];
                x[i] = kind switch
                {
                    SamplerKind.Ode => x0 + s * (y[i] - x0) + s * e,
                    SamplerKind.Consistency => x0 + s * (y[i] - x0) + s * z,
                    _ => ModulatedHand(x0, y[i], e, z, t, s, gamma),
                };
            }
        }
        Near(got, i => result[i], Tol * steps * (1 + w), $"{kind} x{steps} from T {start}, w {w}, gamma {gamma}");
    }

    static double ModulatedHand(double x0, double y, double e, double z, double t, double s, double gamma)
    {
        double c = gamma * s * Math.Sqrt(Math.Max(0, 1 - s * s / (t * t)));
        return x0 + s * (y - x0) + Math.Sqrt(s * s - c * c) * e + c * z;
    }

    [Test]
    public void MsdeAtGammaZeroIsTheOdeSamplerAndDrawsNoNoise()
    {
        double[] y = Rand(30), eps = Rand(31, 2), b = Rand(32);
        using var scope = Tape.Scope();
        Tensor yT = T(y), epsT = T(eps), bT = T(b);
        Tensor Denoise(Tensor x, double sigma) => F.AddScaled(x, 0.6f, bT, (float)(0.3 - 0.2 * sigma));
        int draws = 0;
        var msde = Trajectory.Sample(Denoise, yT, epsT, 1f, new SamplerSettings { Steps = 4, Kind = SamplerKind.Msde, Gamma = 0, Start = 0.9, Guidance = 0.1 },
            n => { draws++; return T(Rand(50 + n)); }).ToArray();
        var ode = Trajectory.Sample(Denoise, yT, epsT, 1f, new SamplerSettings { Steps = 4, Kind = SamplerKind.Ode, Start = 0.9, Guidance = 0.1 }).ToArray();
        Assert.That(msde, Is.EqualTo(ode), "bit for bit");
        Assert.That(draws, Is.Zero);
    }

    [Test]
    public void DefaultSettingsAreOneEvaluationAtSigmaOneOfYPlusEps()
    {
        // steps 1, start 1, guidance 0: D(y + eps; 1) with the same AddScaled(y, 1, eps, 1) as the one-step path
        using var scope = Tape.Scope();
        Tensor yT = T(Rand(40)), epsT = T(Rand(41, 2));
        float[]? seen = null;
        var got = Trajectory.Sample((x, sigma) => { Assert.That(sigma, Is.EqualTo(1.0)); seen = x.ToArray(); return F.Scale(x, 0.5f); },
            yT, epsT, 1f, new SamplerSettings()).ToArray();
        var direct = F.AddScaled(yT, 1f, epsT, 1f).ToArray();
        Assert.That(seen, Is.EqualTo(direct), "x_1 bit for bit");
        Assert.That(got, Is.EqualTo(direct.Select(v => v * 0.5f).ToArray()));
    }
}

/// <summary>Ranges of the sampler settings (CPU only: no device work).</summary>
public class SamplerSettingsTests
{
    [TestCase(0, 0.0, 0.0, 1.0, SamplerKind.Ode, "--steps")]
    [TestCase(2, -0.1, 0.0, 1.0, SamplerKind.Msde, "--gamma")]
    [TestCase(2, 1.5, 0.0, 1.0, SamplerKind.Msde, "--gamma")]
    [TestCase(2, 0.1, 0.0, 1.0, SamplerKind.Ode, "--sampler msde")]
    [TestCase(2, 0.0, -1.0, 1.0, SamplerKind.Ode, "--guidance")]
    [TestCase(2, 0.0, 0.0, 0.0, SamplerKind.Ode, "--start")]
    [TestCase(2, 0.0, 0.0, 1.2, SamplerKind.Ode, "--start")]
    public void BadValuesNameTheFlag(int steps, double gamma, double w, double start, SamplerKind kind, string flag)
    {
        var s = new SamplerSettings { Steps = steps, Gamma = gamma, Guidance = w, Start = start, Kind = kind };
        Assert.That(Assert.Throws<ArgumentException>(s.Validate)!.Message, Does.Contain(flag));
    }

    [Test]
    public void GridFromAnInterpolatedStart()
    {
        Assert.That(Trajectory.Grid(4, 0.5), Is.EqualTo(new[] { 0.5, 0.375, 0.25, 0.125, 0.0 }));
        Assert.That(Trajectory.Grid(3, 1), Is.EqualTo(Trajectory.Grid(3)));
    }
}
