namespace Ctmsr.Kernels;

/// <summary>
/// The arithmetic of GEMM and the three convolution passes (everything else stays float32):
/// Fp32 multiplies float32 operands (the default, held to the golden bounds); Tf32 rounds both operands to TF32
/// (10-bit mantissa, round to nearest, ties away: PTX cvt.rna.tf32.f32) and Bf16 to bfloat16 (7-bit mantissa, round to
/// nearest even: cvt.rn.bf16x2.f32), and both accumulate the exact products in float32, as tensor cores' mma.sync does.
/// </summary>
public enum MatmulPrecision { Fp32, Tf32, Bf16 }

/// <summary>Parsing and naming of <see cref="MatmulPrecision"/> (the CLI's --precision) and the operand rounding of
/// each, bit for bit as the tensor cores' conversions do it (host side: the emulation and its tests).</summary>
public static class Precision
{
    public static string Name(MatmulPrecision p) => p switch { MatmulPrecision.Tf32 => "tf32", MatmulPrecision.Bf16 => "bf16", _ => "fp32" };

    /// <summary>"fp32", "tf32" or "bf16" (case-insensitive; null or empty is fp32); anything else is an ArgumentException.</summary>
    public static MatmulPrecision Parse(string? s) => s?.Trim().ToLowerInvariant() switch
    {
        null or "" or "fp32" => MatmulPrecision.Fp32,
        "tf32" => MatmulPrecision.Tf32,
        "bf16" => MatmulPrecision.Bf16,
        _ => throw new ArgumentException($"--precision {s}: use fp32, tf32 or bf16"),
    };

    /// <summary>x rounded to TF32 (sign, 8-bit exponent, 10-bit mantissa) as PTX cvt.rna.tf32.f32 does: to nearest, ties
    /// away from zero; the low 13 bits end up zero. NaN and infinity pass unchanged; a carry out of the largest finite
    /// values gives infinity, as it must.</summary>
    public static float RoundTf32(float x)
    {
        uint u = BitConverter.SingleToUInt32Bits(x);
        if ((u & 0x7F80_0000u) == 0x7F80_0000u) return x;
        return BitConverter.UInt32BitsToSingle((u + 0x1000u) & 0xFFFF_E000u);
    }

    /// <summary>x rounded to bfloat16 (sign, 8-bit exponent, 7-bit mantissa), to nearest, ties to even, as PTX
    /// cvt.rn.bf16x2.f32 does; returned widened to float32 (the low 16 bits zero). NaN stays NaN, infinity stays.</summary>
    public static float RoundBf16(float x)
    {
        uint u = BitConverter.SingleToUInt32Bits(x);
        if ((u & 0x7F80_0000u) == 0x7F80_0000u) return (u & 0x007F_FFFFu) != 0 ? BitConverter.UInt32BitsToSingle((u | 0x0040_0000u) & 0xFFFF_0000u) : x;
        return BitConverter.UInt32BitsToSingle((u + 0x7FFFu + ((u >> 16) & 1u)) & 0xFFFF_0000u);
    }

    /// <summary>Rounds <paramref name="v"/> in place to <paramref name="p"/>'s operand format (fp32: unchanged).</summary>
    public static void Round(MatmulPrecision p, Span<float> v)
    {
        if (p == MatmulPrecision.Tf32) for (int i = 0; i < v.Length; i++) v[i] = RoundTf32(v[i]);
        else if (p == MatmulPrecision.Bf16) for (int i = 0; i < v.Length; i++) v[i] = RoundBf16(v[i]);
    }

    /// <summary>The unit roundoff of <paramref name="p"/>'s operands: 2^-24 (fp32), 2^-11 (tf32), 2^-8 (bf16).</summary>
    public static double UnitRoundoff(MatmulPrecision p) => p switch { MatmulPrecision.Tf32 => Math.Pow(2, -11), MatmulPrecision.Bf16 => Math.Pow(2, -8), _ => Math.Pow(2, -24) };
}
