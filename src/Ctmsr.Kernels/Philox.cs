namespace Ctmsr.Kernels;

/// <summary>
/// Philox4x32-10 (Salmon et al., SC'11), the counter-based generator every backend implements
/// identically, so a seed gives the same numbers on CPU, OpenCL and CUDA.
/// Element e of a stream: uniform = word[e % 4] of philox((e / 4, 0), seed) >> 8, times 2^-24, in [0, 1);
/// normal = Box-Muller of words 0 and 1 of philox((e, 1), seed).
/// </summary>
public static class Philox
{
    internal const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57, W0 = 0x9E3779B9, W1 = 0xBB67AE85;
    /// <summary>A uniform is the word's top 24 bits times this.</summary>
    internal const float Inv24 = 1.0f / 16777216f;

    public static (uint, uint, uint, uint) Block(ulong counter, uint c2, ulong seed)
    {
        uint x0 = (uint)counter, x1 = (uint)(counter >> 32), x2 = c2, x3 = 0;
        uint k0 = (uint)seed, k1 = (uint)(seed >> 32);
        for (int r = 0; r < 10; r++)
        {
            ulong p0 = (ulong)M0 * x0, p1 = (ulong)M1 * x2;
            uint y0 = (uint)(p1 >> 32) ^ x1 ^ k0, y1 = (uint)p1, y2 = (uint)(p0 >> 32) ^ x3 ^ k1, y3 = (uint)p0;
            x0 = y0; x1 = y1; x2 = y2; x3 = y3;
            k0 += W0; k1 += W1;
        }
        return (x0, x1, x2, x3);
    }

    public static float Uniform(ulong seed, ulong e)
    {
        var (a, b, c, d) = Block(e >> 2, 0, seed);
        uint w = (e & 3) switch { 0 => a, 1 => b, 2 => c, _ => d };
        return (w >> 8) * Inv24;
    }

    public static float Normal(ulong seed, ulong e)
    {
        var (a, b, _, _) = Block(e, 1, seed);
        float u1 = ((a >> 8) + 1) * (1.0f / 16777216f); // (0, 1]
        float u2 = (b >> 8) * (1.0f / 16777216f);
        return MathF.Sqrt(-2f * MathF.Log(u1)) * MathF.Cos(2f * MathF.PI * u2);
    }
}
