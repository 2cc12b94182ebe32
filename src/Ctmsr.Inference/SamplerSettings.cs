namespace Ctmsr.Inference;

/// <summary>
/// How a sample walks the CTMSR trajectory (spec/TRAJECTORY.md): <see cref="Steps"/> model evaluations on an equal
/// grid from <see cref="Start"/> down to 0, the step taken between grid points, the modulation <see cref="Gamma"/> of
/// the stochastic step (msde only) and the weight <see cref="Guidance"/> of negative guidance with the input
/// (x0_g = x0_hat + w (x0_hat - y), applied to every estimate, the last one included). The defaults (one step from
/// t = 1, no guidance) are the paper's one-step inference of CTMSR.md section 6.
/// </summary>
public sealed record SamplerSettings
{
    public int Steps { get; init; } = 1;
    public SamplerKind Kind { get; init; } = SamplerKind.Ode;
    /// <summary>c = gamma sigma_s sqrt(1 - sigma_s^2 / sigma_t^2); 0 is the ODE step. Used by <see cref="SamplerKind.Msde"/>.</summary>
    public double Gamma { get; init; }
    public double Guidance { get; init; }
    /// <summary>The first grid point T: x_T = y + sigma_T eps (the paper's interpolated initial state for T &lt; 1).</summary>
    public double Start { get; init; } = 1;

    public const int MaxSteps = 200;
    public const double MaxGuidance = 10;

    /// <summary>A short human description, e.g. "4 msde steps (gamma 0.05) from T 0.8, guidance 0.3".</summary>
    public string Describe()
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        string d = Steps == 1 ? "1 step" : $"{Steps} {Kind.ToString().ToLowerInvariant()} steps" + (Kind == SamplerKind.Msde ? string.Create(inv, $" (gamma {Gamma})") : "");
        if (Start != 1) d += string.Create(inv, $" from T {Start}");
        if (Guidance != 0) d += string.Create(inv, $", guidance {Guidance}");
        return d;
    }

    /// <summary>Checks ranges; the messages name the command-line flag to fix.</summary>
    public void Validate()
    {
        if (Steps is < 1 or > MaxSteps) throw new ArgumentException($"--steps {Steps} must be 1..{MaxSteps}");
        // gamma <= 1 keeps c <= sigma_s, the condition under which the step keeps the marginals
        if (!(Gamma is >= 0 and <= 1)) throw new ArgumentException($"--gamma {Gamma} must be in [0, 1] (0 is the ODE step; the paper favours about 0.05)");
        if (Gamma != 0 && Kind != SamplerKind.Msde) throw new ArgumentException($"--gamma {Gamma} modulates the msde step only: add --sampler msde or drop --gamma");
        if (!(Guidance is >= 0 and <= MaxGuidance)) throw new ArgumentException($"--guidance {Guidance} must be in [0, {MaxGuidance}] (0 is no guidance)");
        if (!(Start is > 0 and <= 1)) throw new ArgumentException($"--start {Start} must be in (0, 1] (1 starts from y + eps, the paper's default)");
    }
}
