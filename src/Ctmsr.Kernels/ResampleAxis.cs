namespace Ctmsr.Kernels;

/// <summary>
/// One axis of a separable resampling: output i reads input samples Index[i * Taps + t] with weights
/// Weight[i * Taps + t]. Interpolation modes (nearest, bilinear, bicubic, area) are different tables
/// over the same kernel; the policy that builds them lives with the caller (Ctmsr.Imaging.Resampling).
/// </summary>
public sealed class ResampleAxis
{
    /// <summary>Largest input size whose indices travel exactly as float32 to the GPU kernels (2^24).</summary>
    public const int MaxInSize = 1 << 24;

    public int InSize { get; }
    public int OutSize { get; }
    public int Taps { get; }
    public int[] Index { get; }
    public float[] Weight { get; }

    public ResampleAxis(int inSize, int outSize, int taps, int[] index, float[] weight)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(weight);
        if (inSize <= 0 || inSize > MaxInSize || outSize <= 0 || taps <= 0)
            throw new ArgumentException($"ResampleAxis: sizes {inSize} -> {outSize} with {taps} taps are invalid (1 <= in <= {MaxInSize}, out >= 1, taps >= 1)");
        if (index.Length != (long)outSize * taps || weight.Length != index.Length)
            throw new ArgumentException($"ResampleAxis: {outSize} outputs x {taps} taps need {(long)outSize * taps} indices and weights, got {index.Length} and {weight.Length}");
        foreach (int i in index)
            if ((uint)i >= (uint)inSize) throw new ArgumentException($"ResampleAxis: tap index {i} is outside the input [0, {inSize})");
        InSize = inSize; OutSize = outSize; Taps = taps; Index = index; Weight = weight;
    }

    /// <summary>The indices as float32 (exact below 2^24), the form the GPU kernels read.</summary>
    public float[] IndexAsFloat() => Array.ConvertAll(Index, i => (float)i);
}
