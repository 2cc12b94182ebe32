using Ctmsr.Imaging.Resampling;

namespace Ctmsr.Train.Degradation;

/// <summary>Noise of one degradation stage.</summary>
public sealed record NoiseSettings
{
    public double GaussianProbability { get; init; } = 0.5;
    /// <summary>Gaussian sigma range in 8-bit units (divided by 255).</summary>
    public (double Min, double Max) GaussianSigma255 { get; init; } = (1, 30);
    public (double Min, double Max) PoissonScale { get; init; } = (0.05, 3);
    public double GreyProbability { get; init; } = 0.4;
}

/// <summary>Random resize of one stage: up / down / keep.</summary>
public sealed record ResizeSettings
{
    public IReadOnlyList<double> UpDownKeepProbabilities { get; init; } = [0.2, 0.7, 0.1];
    /// <summary>Down scales are U[Min, 1], up scales U[1, Max].</summary>
    public (double Min, double Max) Range { get; init; } = (0.15, 1.5);
    /// <summary>Interpolation modes, drawn uniformly.</summary>
    public IReadOnlyList<ResizeMode> Modes { get; init; } = [ResizeMode.Area, ResizeMode.Bilinear, ResizeMode.Bicubic];
}

/// <summary>The Real-ESRGAN second-order degradation as spec section 7 describes it (defaults = the spec).</summary>
public sealed record DegradationSettings
{
    public int Scale { get; init; } = 4;
    public BlurKernelSettings Kernel1 { get; init; } = BlurKernelSettings.FirstStage;
    public BlurKernelSettings Kernel2 { get; init; } = BlurKernelSettings.SecondStage;
    /// <summary>Final sinc: drawn from FinalSincKernel sizes (cutoff U[pi/3, pi]) with this probability, else identity.</summary>
    public double FinalSincProbability { get; init; } = 0.8;
    public BlurKernelSettings FinalSincKernel { get; init; } = BlurKernelSettings.SecondStage;

    public ResizeSettings Resize1 { get; init; } = new();
    public NoiseSettings Noise1 { get; init; } = new();
    public (int Min, int Max) Jpeg1 { get; init; } = (30, 95);

    public double SecondOrderProbability { get; init; } = 0.5;
    public double SecondBlurProbability { get; init; } = 0.8;
    public ResizeSettings Resize2 { get; init; } = new() { UpDownKeepProbabilities = [0.3, 0.4, 0.3], Range = (0.3, 1.2) };
    public NoiseSettings Noise2 { get; init; } = new() { GaussianSigma255 = (1, 25), PoissonScale = (0.05, 2.5) };
    public (int Min, int Max) Jpeg2 { get; init; } = (30, 95);
    /// <summary>Modes of the final resize to H/scale x W/scale, drawn uniformly.</summary>
    public IReadOnlyList<ResizeMode> FinalResizeModes { get; init; } = [ResizeMode.Area, ResizeMode.Bilinear, ResizeMode.Bicubic];
    /// <summary>Probability of the order (resize, sinc, JPEG) rather than (JPEG, resize, sinc) in the final step.</summary>
    public double ResizeFirstProbability { get; init; } = 0.5;

    /// <summary>
    /// Probability that a pair is "clean" instead: LR = MATLAB-style antialiased bicubic x1/scale of the HR crop, no
    /// blur, noise or JPEG (the operator of bicubic benchmark sets). 0 (the spec) draws nothing, so the random stream
    /// and every degraded pair stay exactly as without it.
    /// </summary>
    public double CleanProbability { get; init; }

    /// <summary>The spec's settings.</summary>
    public static DegradationSettings Default => new();
}
