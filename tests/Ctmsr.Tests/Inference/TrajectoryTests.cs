using Ctmsr.Autograd;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Inference;

namespace Ctmsr.Tests.Inference;

/// <summary>The step formulas of spec/TRAJECTORY.md against closed forms evaluated in float64. Tolerance: 1e-5
/// absolute on values of order 1 (a handful of float32 operations per element).</summary>
public class TrajectoryTests
{
    const int N = 257;
    const double Tol = 1e-5;

    static double[] Random(int seed, double scale = 1)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, N).Select(_ => scale * (2 * r.NextDouble() - 1)).ToArray();
    }

    static Tensor T(Context ctx, double[] v) => Tensor.From(ctx, v.Select(x => (float)x).ToArray(), 1, 1, 1, v.Length);

    /// <summary>The forward process of CTMSR.md section 1 in float64.</summary>
    static double[] Q(double[] x0, double[] y, double[] eps, double t) => x0.Select((v, i) => v + t * (y[i] - v) + t * eps[i]).ToArray();

    [Test]
    public void GridRunsFromOneToZeroInEqualSteps()
    {
        Assert.That(Trajectory.Grid(1), Is.EqualTo(new[] { 1.0, 0.0 }));
        Assert.That(Trajectory.Grid(3), Is.EqualTo(new[] { 1.0, 2.0 / 3, 1.0 / 3, 0.0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Trajectory.Grid(0));
    }

    [TestCase(1.0, 2.0 / 3)]
    [TestCase(2.0 / 3, 1.0 / 3)]
    [TestCase(0.75, 0.0)]
    [TestCase(0.5, 0.5)]
    public void OdeStepWithTheTrueX0LandsOnTheTrajectory(double t, double s)
    {
        // with x0_hat = x0 and x_t on the trajectory, eps_hat = eps and x_s = x0 + alpha_s (y - x0) + sigma_s eps
        using var ctx = new Context(new CpuBackend());
        double[] x0 = Random(1), y = Random(2), eps = Random(3, 2);
        using var xt = T(ctx, Q(x0, y, eps, t));
        using var x0T = T(ctx, x0);
        using var yT = T(ctx, y);
        var e = Trajectory.EpsHat(xt, x0T, yT, t).ToArray();
        var xs = Trajectory.OdeStep(xt, x0T, yT, t, s).ToArray();
        var expect = Q(x0, y, eps, s);
        for (int i = 0; i < N; i++)
        {
            Assert.That(e[i], Is.EqualTo(eps[i]).Within(Tol / t), $"eps_hat[{i}]");
            Assert.That(xs[i], Is.EqualTo(expect[i]).Within(Tol / t), $"x_s[{i}]");
        }
    }

    [Test]
    public void OdeStepWithAWrongX0FollowsTheFormula()
    {
        // x0_hat != x0: eps_hat = (x_t - x0_hat - t (y - x0_hat)) / t, x_s = x0_hat + s (y - x0_hat) + s eps_hat
        using var ctx = new Context(new CpuBackend());
        double t = 0.8, s = 0.3;
        double[] xt = Random(4, 2), x0h = Random(5), y = Random(6);
        using var a = T(ctx, xt); using var b = T(ctx, x0h); using var c = T(ctx, y);
        var got = Trajectory.OdeStep(a, b, c, t, s).ToArray();
        for (int i = 0; i < N; i++)
        {
            double eh = (xt[i] - x0h[i] - t * (y[i] - x0h[i])) / t;
            Assert.That(got[i], Is.EqualTo(x0h[i] + s * (y[i] - x0h[i]) + s * eh).Within(Tol));
        }
    }

    [Test]
    public void ConsistencyStepRenoisesAroundTheEstimate()
    {
        using var ctx = new Context(new CpuBackend());
        double s = 0.4;
        double[] x0h = Random(7), y = Random(8), z = Random(9, 2);
        using var a = T(ctx, x0h); using var b = T(ctx, y); using var c = T(ctx, z);
        var got = Trajectory.ConsistencyStep(a, b, s, c).ToArray();
        for (int i = 0; i < N; i++) Assert.That(got[i], Is.EqualTo(x0h[i] + s * (y[i] - x0h[i]) + s * z[i]).Within(Tol));
    }

    [Test]
    public void ModulatedStepIsTheOdeStepAtGammaZeroAndMixesNoiseOtherwise()
    {
        using var ctx = new Context(new CpuBackend());
        double t = 0.9, s = 0.45, gamma = 0.5;
        double[] xt = Random(10, 2), x0h = Random(11), y = Random(12), z = Random(13, 2);
        using var a = T(ctx, xt); using var b = T(ctx, x0h); using var c = T(ctx, y); using var d = T(ctx, z);
        var ode = Trajectory.OdeStep(a, b, c, t, s).ToArray();
        Assert.That(Trajectory.ModulatedStep(a, b, c, t, s, 0, d).ToArray(), Is.EqualTo(ode).Within(1e-6));
        var got = Trajectory.ModulatedStep(a, b, c, t, s, gamma, d).ToArray();
        double cc = gamma * s * Math.Sqrt(1 - s * s / (t * t)), k = Math.Sqrt(s * s - cc * cc);
        for (int i = 0; i < N; i++)
        {
            double eh = (xt[i] - x0h[i] - t * (y[i] - x0h[i])) / t;
            Assert.That(got[i], Is.EqualTo(x0h[i] + s * (y[i] - x0h[i]) + k * eh + cc * z[i]).Within(Tol));
        }
    }

    [TestCase(SamplerKind.Ode, 1)]
    [TestCase(SamplerKind.Ode, 4)]
    [TestCase(SamplerKind.Consistency, 4)]
    public void SampleCallsTheDenoiserOncePerGridPointAndReturnsItsLastEstimate(SamplerKind kind, int steps)
    {
        // a stub denoiser that always knows x0: every state stays on the trajectory of (x0, y, eps) under ODE steps,
        // the sample is x0, and D sees sigma = 1, (K-1)/K, ..., 1/K in that order
        using var ctx = new Context(new CpuBackend());
        double[] x0 = Random(14), y = Random(15), eps = Random(16, 2);
        using var x0T = T(ctx, x0); using var yT = T(ctx, y); using var epsT = T(ctx, eps);
        var sigmas = new List<double>();
        var states = new List<float[]>();
        Tensor Denoise(Tensor x, double sigma)
        {
            sigmas.Add(sigma);
            states.Add(x.ToArray());
            return F.Scale(x0T, 1f);
        }
        int noiseCalls = 0;
        Tensor Noise(int n) { noiseCalls++; return T(ctx, Random(100 + n, 2)); }
        var outp = Trajectory.Sample(Denoise, yT, epsT, 1f, steps, kind, Noise).ToArray();
        Assert.That(outp, Is.EqualTo(x0.Select(v => (float)v).ToArray()), "the last step lands on t = 0, i.e. on x0_hat");
        Assert.That(sigmas, Is.EqualTo(Trajectory.Grid(steps).Take(steps)));
        Assert.That(noiseCalls, Is.EqualTo(kind == SamplerKind.Consistency ? steps - 1 : 0));
        Assert.That(states[0], Is.EqualTo(Q(x0, y, eps, 1).Select(v => (float)v).ToArray()).Within(1e-6), "x_1 = y + eps");
        for (int k = 1; k < steps; k++)
        {
            double t = sigmas[k];
            var expect = kind == SamplerKind.Ode ? Q(x0, y, eps, t) : Q(x0, y, Random(100 + steps - k, 2), t);
            for (int i = 0; i < N; i++) Assert.That(states[k][i], Is.EqualTo(expect[i]).Within(Tol * steps), $"step {k}, element {i}");
        }
    }
}
