using System.CommandLine;
using System.Globalization;
using Ctmsr.Inference;

namespace Ctmsr.Cli;

/// <summary>
/// The sampler flags `upscale` and `eval --model` share (spec/TRAJECTORY.md): --steps, --sampler ode|consistency|msde,
/// --gamma, --guidance, --start. Values are parsed here, so a bad one is a one-line usage error (exit 2).
/// </summary>
sealed class SamplerFlags
{
    public readonly Option<string?> Steps = new("--steps") { Description = $"model evaluations per tile (default 1, the paper's one-step inference; at most {SamplerSettings.MaxSteps})" };
    public readonly Option<string?> Sampler = new("--sampler") { Description = "step between grid points for --steps > 1: ode (default, deterministic), consistency (re-noise with fresh z) or msde (the modulated stochastic step; --gamma)" };
    public readonly Option<string?> Gamma = new("--gamma") { Description = "msde modulation in [0, 1]: noise c = gamma sigma_s sqrt(1 - sigma_s^2/sigma_t^2) per step (default 0.05 with --sampler msde; 0 is exactly the ODE sampler)" };
    public readonly Option<string?> Guidance = new("--guidance") { Description = "negative guidance with the input, weight w in [0, 10]: every estimate becomes x0 + w (x0 - lq_up) (default 0, none)" };
    public readonly Option<string?> Start = new("--start") { Description = "start time T in (0, 1]: x_T = lq_up + T eps, D first at sigma T, the grid runs from T to 0 (default 1; T < 1 is the paper's interpolated initial state)" };

    /// <summary>The default gamma of --sampler msde: the paper's fixed value that comes close to its learned one.</summary>
    public const double DefaultMsdeGamma = 0.05;

    public IEnumerable<Option> All => [Steps, Sampler, Gamma, Guidance, Start];

    public void AddTo(Command c) { foreach (var o in All) c.Options.Add(o); }

    /// <summary>Whether any sampler flag was given.</summary>
    public bool Given(ParseResult r) => All.Any(o => r.GetResult(o) is { Implicit: false });

    /// <summary><paramref name="o"/> with the sampler the flags describe; notes on flags that have no effect go to stderr.</summary>
    public UpscaleOptions Apply(ParseResult r, UpscaleOptions o)
    {
        var kind = r.GetValue(Sampler) is { } k
            ? k.Trim().ToLowerInvariant() switch
            {
                "ode" => SamplerKind.Ode, "consistency" => SamplerKind.Consistency, "msde" => SamplerKind.Msde,
                _ => throw new ArgumentException($"--sampler {k}: use ode, consistency or msde"),
            }
            : SamplerKind.Ode;
        double? gamma = r.GetValue(Gamma) is { } g ? Number("--gamma", g) : null;
        if (gamma is not null && kind != SamplerKind.Msde)
            throw new ArgumentException($"--gamma modulates the msde step only: add --sampler msde or drop --gamma");
        var result = o with
        {
            Steps = r.GetValue(Steps) is { } n ? Int("--steps", n, 1, SamplerSettings.MaxSteps) : 1,
            Sampler = kind,
            Gamma = kind == SamplerKind.Msde ? gamma ?? DefaultMsdeGamma : 0,
            Guidance = r.GetValue(Guidance) is { } w ? Number("--guidance", w) : 0,
            Start = r.GetValue(Start) is { } t ? Number("--start", t) : 1,
        };
        result.Sampling.Validate();
        if (r.GetValue(Sampler) is not null && result.Steps == 1)
            Console.Error.WriteLine("ctmsr: note: --sampler has no effect with one step; add --steps N (N > 1)");
        return result;
    }

    static int Int(string name, string s, int min, int max) =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= min && v <= max ? v
            : throw new ArgumentException($"{name} {s}: expected a whole number {min}..{max}");

    static double Number(string name, string s) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) ? v
            : throw new ArgumentException($"{name} {s}: expected a number");
}
