using Ctmsr.Autograd;

namespace Ctmsr.Inference;

/// <summary>Which step a multi-step sample takes between grid points (spec/TRAJECTORY.md): deterministic, re-noising,
/// or the modulated stochastic step (M-SDE) with <see cref="SamplerSettings.Gamma"/>.</summary>
public enum SamplerKind { Ode, Consistency, Msde }

/// <summary>
/// Step functions on the CTMSR trajectory (spec/TRAJECTORY.md "Samplers on the CTMSR trajectory"):
/// x_t = x0 + alpha_t (y - x0) + sigma_t eps with y = lq_up and alpha_t = sigma_t = t. Given the model's estimate
/// x0_hat = D(x_t; sigma_t, lq):
///   eps_hat          = (x_t - x0_hat - alpha_t (y - x0_hat)) / sigma_t
///   ODE step         x_s = x0_hat + alpha_s (y - x0_hat) + sigma_s eps_hat
///   consistency step x_s = x0_hat + alpha_s (y - x0_hat) + sigma_s z,  z ~ N(0, I)
///   modulated step   c = gamma sigma_s sqrt(max(0, 1 - sigma_s^2 / sigma_t^2)),
///                    x_s = x0_hat + alpha_s (y - x0_hat) + sqrt(sigma_s^2 - c^2) eps_hat + c z
/// Every function returns a new tensor on the inputs' device and leaves its inputs alone, so the trajectory-alignment
/// stage can call them with gradients on. A K-step sample uses the grid t_k = T k / K (k = K..0; with T = 1 the spec's
/// t_n = n/(N-1) with N = K + 1 points), starts at x_T = y + sigma_T eps and evaluates D once per step; the last step
/// lands on t = 0, where every step above is x0_hat itself, so K = 1, T = 1 is the one-step sampler of CTMSR.md section 6.
/// </summary>
public static class Trajectory
{
    public static double Alpha(double t) => t;
    public static double Sigma(double t) => t;

    /// <summary>The K + 1 grid points of a K-step sample, from t = <paramref name="start"/> (default 1) down to t = 0
    /// in equal steps (start * (K - k) / K; with start 1 exactly (K - k) / K).</summary>
    public static double[] Grid(int steps, double start = 1)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), $"--steps {steps}: need at least 1 step");
        if (!(start is > 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(start), $"--start {start} must be in (0, 1]");
        var g = new double[steps + 1];
        for (int k = 0; k <= steps; k++) g[k] = start * ((double)(steps - k) / steps);
        return g;
    }

    /// <summary>Negative guidance with the input: x0_g = x0_hat + w (x0_hat - y) = (1 + w) x0_hat - w y.</summary>
    public static Tensor Guide(Tensor x0Hat, Tensor y, double w) => F.AddScaled(x0Hat, (float)(1 + w), y, (float)-w);

    /// <summary>eps_hat(x_t) = (x_t - x0_hat - alpha_t (y - x0_hat)) / sigma_t (needs sigma_t &gt; 0).</summary>
    public static Tensor EpsHat(Tensor xt, Tensor x0Hat, Tensor y, double t)
    {
        double st = Sigma(t);
        if (!(st > 0)) throw new ArgumentOutOfRangeException(nameof(t), $"eps_hat needs sigma_t > 0, got t = {t}");
        using var r = F.Sub(xt, x0Hat);     // x_t - x0_hat
        using var d = F.Sub(y, x0Hat);      // y - x0_hat
        return F.AddScaled(r, (float)(1 / st), d, (float)(-Alpha(t) / st));
    }

    /// <summary>x0_hat + alpha_s (y - x0_hat): the point on the trajectory at s with zero noise.</summary>
    static Tensor Mean(Tensor x0Hat, Tensor y, double s)
    {
        using var d = F.Sub(y, x0Hat);
        return F.AddScaled(x0Hat, 1f, d, (float)Alpha(s));
    }

    /// <summary>Deterministic (DDIM-like) step t -&gt; s: x_s = x0_hat + alpha_s (y - x0_hat) + sigma_s eps_hat.</summary>
    public static Tensor OdeStep(Tensor xt, Tensor x0Hat, Tensor y, double t, double s)
    {
        using var e = EpsHat(xt, x0Hat, y, t);
        using var m = Mean(x0Hat, y, s);
        return F.AddScaled(m, 1f, e, (float)Sigma(s));
    }

    /// <summary>Re-noising step to s: x_s = x0_hat + alpha_s (y - x0_hat) + sigma_s z.</summary>
    public static Tensor ConsistencyStep(Tensor x0Hat, Tensor y, double s, Tensor z)
    {
        using var m = Mean(x0Hat, y, s);
        return F.AddScaled(m, 1f, z, (float)Sigma(s));
    }

    /// <summary>c = gamma sigma_s sqrt(max(0, 1 - sigma_s^2 / sigma_t^2)): the noise weight of the modulated step.</summary>
    public static double ModulatedNoise(double t, double s, double gamma)
    {
        double ss = Sigma(s), st = Sigma(t);
        return gamma * ss * Math.Sqrt(Math.Max(0, 1 - ss * ss / (st * st)));
    }

    /// <summary>The paper's modulated stochastic step (M-SDE); gamma = 0 (c = 0) is the ODE step, bit for bit.</summary>
    public static Tensor ModulatedStep(Tensor xt, Tensor x0Hat, Tensor y, double t, double s, double gamma, Tensor z)
    {
        if (gamma < 0) throw new ArgumentOutOfRangeException(nameof(gamma), $"gamma {gamma} must be >= 0");
        double ss = Sigma(s);
        double c = ModulatedNoise(t, s, gamma);
        if (c == 0) return OdeStep(xt, x0Hat, y, t, s);
        using var e = EpsHat(xt, x0Hat, y, t);
        using var m = Mean(x0Hat, y, s);
        using var a = F.AddScaled(m, 1f, e, (float)Math.Sqrt(Math.Max(0, ss * ss - c * c)));
        return F.AddScaled(a, 1f, z, (float)c);
    }

    /// <summary>The historical form: <paramref name="steps"/> steps of <paramref name="kind"/> from t = 1, no guidance.</summary>
    public static Tensor Sample(Func<Tensor, double, Tensor> denoise, Tensor y, Tensor eps, float noiseScale, int steps,
        SamplerKind kind, Func<int, Tensor>? noise = null, CancellationToken ct = default) =>
        Sample(denoise, y, eps, noiseScale, new SamplerSettings { Steps = steps, Kind = kind }, noise, ct);

    /// <summary>
    /// A K-step sample: x = y + noiseScale * sigma_T * eps at the start T, then for each grid interval t -&gt; s one
    /// evaluation x0_hat = denoise(x, sigma_t), guided when w &gt; 0, and one step. The step that lands on t = 0 returns
    /// the (guided) estimate itself (which is what every step formula gives there), so one step from T = 1 without
    /// guidance is exactly D(y + eps; 1). <paramref name="noise"/>(k) supplies the fresh z of the stochastic step leaving
    /// grid point k (k = 1 .. K-1); it is not called by the ODE sampler or by msde with gamma = 0.
    /// Returns a new tensor; intermediate states are disposed as soon as they are used.
    /// </summary>
    public static Tensor Sample(Func<Tensor, double, Tensor> denoise, Tensor y, Tensor eps, float noiseScale, SamplerSettings settings,
        Func<int, Tensor>? noise = null, CancellationToken ct = default)
    {
        settings.Validate();
        int steps = settings.Steps;
        var grid = Grid(steps, settings.Start);
        var x = F.AddScaled(y, 1f, eps, (float)(noiseScale * Sigma(grid[0])));
        for (int k = 0; k < steps; k++)
        {
            ct.ThrowIfCancellationRequested();
            double t = grid[k], s = grid[k + 1];
            var x0 = denoise(x, Sigma(t));
            if (settings.Guidance != 0)
            {
                var g = Guide(x0, y, settings.Guidance);
                x0.Dispose();
                x0 = g;
            }
            if (s == 0) { x.Dispose(); return x0; }
            Tensor next;
            var kind = settings.Kind == SamplerKind.Msde && ModulatedNoise(t, s, settings.Gamma) == 0 ? SamplerKind.Ode : settings.Kind;
            if (kind == SamplerKind.Ode) next = OdeStep(x, x0, y, t, s);
            else
            {
                if (noise is null) throw new ArgumentNullException(nameof(noise), $"the {kind.ToString().ToLowerInvariant()} sampler needs a noise source");
                using var z = noise(steps - k - 1);
                next = kind == SamplerKind.Consistency ? ConsistencyStep(x0, y, s, z) : ModulatedStep(x, x0, y, t, s, settings.Gamma, z);
            }
            x0.Dispose();
            x.Dispose();
            x = next;
        }
        return x; // not reached: the grid ends at 0
    }
}
