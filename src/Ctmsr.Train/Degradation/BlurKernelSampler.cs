namespace Ctmsr.Train.Degradation;

/// <summary>Distribution of one stage's random blur kernel (spec section 7).</summary>
public sealed record BlurKernelSettings
{
    /// <summary>Odd kernel sizes, drawn uniformly.</summary>
    public IReadOnlyList<int> Sizes { get; init; } = [3, 5, 7, 9, 11, 13, 15, 17, 19];
    /// <summary>Every kernel is zero-padded to this size (so a batch shares one kernel shape).</summary>
    public int PadTo { get; init; } = 21;
    /// <summary>Probabilities of Iso, Aniso, GeneralizedIso, GeneralizedAniso, PlateauIso, PlateauAniso.</summary>
    public IReadOnlyList<double> TypeProbabilities { get; init; } = [0.45, 0.25, 0.12, 0.03, 0.12, 0.03];
    public (double Min, double Max) Sigma { get; init; } = (0.2, 3.0);
    public (double Min, double Max) BetaGeneralized { get; init; } = (0.5, 4.0);
    public (double Min, double Max) BetaPlateau { get; init; } = (1.0, 2.0);
    public (double Min, double Max) Rotation { get; init; } = (-Math.PI, Math.PI);
    /// <summary>Probability of a circular low-pass (sinc) kernel instead of the mixed families.</summary>
    public double SincProbability { get; init; } = 0.1;

    /// <summary>First-stage kernel: sizes 3..19 padded to 21, sigma [0.2, 3].</summary>
    public static BlurKernelSettings FirstStage => new();

    /// <summary>Second-stage kernel: sizes 3..13 padded to 15, sigma [0.2, 1.5].</summary>
    public static BlurKernelSettings SecondStage => new()
    {
        Sizes = [3, 5, 7, 9, 11, 13], PadTo = 15, Sigma = (0.2, 1.5),
    };
}

/// <summary>Random Real-ESRGAN kernels (random_mixed_kernels and the dataset's sinc branch).</summary>
public static class BlurKernelSampler
{
    /// <summary>
    /// A stage kernel: size uniform from Sizes; with SincProbability a circular low-pass with cutoff
    /// U[pi/3, pi] for size &lt; 13 else U[pi/5, pi]; otherwise RandomMixedKernel. Padded to PadTo.
    /// </summary>
    public static BlurKernel Sample(DegradationRandom rng, BlurKernelSettings s)
    {
        int size = rng.Pick(s.Sizes);
        BlurKernel k;
        if (rng.NextDouble() < s.SincProbability)
        {
            double cutoff = size < 13 ? rng.Uniform(Math.PI / 3, Math.PI) : rng.Uniform(Math.PI / 5, Math.PI);
            k = BlurKernels.CircularLowpass(cutoff, size);
        }
        else
        {
            k = RandomMixedKernel(rng, s, size);
        }
        return BlurKernels.Pad(k, s.PadTo);
    }

    /// <summary>The final sinc kernel: with probability `probability` a circular low-pass (size from Sizes,
    /// cutoff U[pi/3, pi], padded to PadTo), else the identity (delta) kernel of size PadTo.</summary>
    public static BlurKernel SampleFinalSinc(DegradationRandom rng, BlurKernelSettings s, double probability)
    {
        if (rng.NextDouble() < probability)
        {
            int size = rng.Pick(s.Sizes);
            double cutoff = rng.Uniform(Math.PI / 3, Math.PI);
            return BlurKernels.CircularLowpass(cutoff, size, s.PadTo);
        }
        return BlurKernel.Delta(s.PadTo);
    }

    /// <summary>
    /// Real-ESRGAN random_mixed_kernels (no multiplicative noise): the type by TypeProbabilities; sigma_x
    /// (and for anisotropic types sigma_y, rotation) uniform; beta drawn, as Real-ESRGAN does, with
    /// probability 1/2 from U[beta_min, 1] and else from U[1, beta_max].
    /// </summary>
    public static BlurKernel RandomMixedKernel(DegradationRandom rng, BlurKernelSettings s, int size)
    {
        var probs = s.TypeProbabilities;
        if (probs.Count != 6)
            throw new ArgumentException($"TypeProbabilities has {probs.Count} entries; it needs 6 (iso, aniso, generalized_iso, generalized_aniso, plateau_iso, plateau_aniso)");
        Span<double> p = stackalloc double[6];
        for (int i = 0; i < 6; i++) p[i] = probs[i];
        var type = (BlurKernelType)rng.Choice(p);
        bool iso = type is BlurKernelType.Iso or BlurKernelType.GeneralizedIso or BlurKernelType.PlateauIso;
        double sx = rng.Uniform(s.Sigma.Min, s.Sigma.Max);
        double sy = sx, theta = 0;
        if (!iso)
        {
            sy = rng.Uniform(s.Sigma.Min, s.Sigma.Max);
            theta = rng.Uniform(s.Rotation.Min, s.Rotation.Max);
        }
        double beta = 1;
        if (type is BlurKernelType.GeneralizedIso or BlurKernelType.GeneralizedAniso)
            beta = SampleBeta(rng, s.BetaGeneralized);
        else if (type is BlurKernelType.PlateauIso or BlurKernelType.PlateauAniso)
            beta = SampleBeta(rng, s.BetaPlateau);
        return BlurKernels.Make(type, size, sx, sy, theta, beta);
    }

    static double SampleBeta(DegradationRandom rng, (double Min, double Max) r) =>
        rng.NextDouble() < 0.5 ? rng.Uniform(r.Min, Math.Min(1.0, r.Max)) : rng.Uniform(Math.Max(1.0, r.Min), r.Max);
}
