using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// Philox4x32-10 uniforms for a run of elements, bit for bit <see cref="Philox.Uniform"/>:
/// u[i] = word (e &amp; 3) of Block(e >> 2, 0, seed) as (w >> 8) / 2^24, e = offset + i.
/// One block serves four consecutive elements (the scalar form recomputes it for each), and with AVX-512 eight blocks
/// run at once, one counter per 64-bit lane holding a 32-bit word (vpmuludq gives the 32x32 -> 64 products).
/// </summary>
static class CpuPhilox
{
    const uint M0 = Philox.M0, M1 = Philox.M1, W0 = Philox.W0, W1 = Philox.W1;
    const float Inv24 = Philox.Inv24;

    public static void Uniform(ulong seed, ulong offset, Span<float> dst)
    {
        int i = 0, n = dst.Length;
        // Head: elements up to the next block boundary.
        while (i < n && ((offset + (ulong)i) & 3) != 0) { dst[i] = Philox.Uniform(seed, offset + (ulong)i); i++; }
        ulong block = (offset + (ulong)i) >> 2;
        if (Avx512F.IsSupported)
            for (; i + 32 <= n; i += 32, block += 8)
            {
                var (lo, hi) = Blocks8(block, seed);
                lo.CopyTo(dst.Slice(i, 16)); hi.CopyTo(dst.Slice(i + 16, 16));
            }
        for (; i + 4 <= n; i += 4, block++)
        {
            var (a, b, c, d) = Philox.Block(block, 0, seed);
            dst[i] = (a >> 8) * Inv24; dst[i + 1] = (b >> 8) * Inv24; dst[i + 2] = (c >> 8) * Inv24; dst[i + 3] = (d >> 8) * Inv24;
        }
        for (; i < n; i++) dst[i] = Philox.Uniform(seed, offset + (ulong)i);
    }

    /// <summary>Elements 4 block .. 4 block + 31: eight Philox blocks at once, as two vectors of 16 uniforms.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector512<float> Lo, Vector512<float> Hi) Blocks8(ulong block, ulong seed)
    {
        var lo32 = Vector512.Create(0xFFFFFFFFUL);
        var ctr = Vector512.Create(block) + Vector512.Create(0UL, 1, 2, 3, 4, 5, 6, 7);
        Vector512<ulong> x0 = ctr & lo32, x1 = ctr >> 32, x2 = Vector512<ulong>.Zero, x3 = Vector512<ulong>.Zero;
        var m0 = Vector512.Create((ulong)M0).AsUInt32();
        var m1 = Vector512.Create((ulong)M1).AsUInt32();
        uint k0 = (uint)seed, k1 = (uint)(seed >> 32);
        for (int r = 0; r < 10; r++)
        {
            var p0 = Avx512F.Multiply(m0, x0.AsUInt32());
            var p1 = Avx512F.Multiply(m1, x2.AsUInt32());
            var y0 = (p1 >> 32) ^ x1 ^ Vector512.Create((ulong)k0);
            var y1 = p1 & lo32;
            var y2 = (p0 >> 32) ^ x3 ^ Vector512.Create((ulong)k1);
            var y3 = p0 & lo32;
            x0 = y0; x1 = y1; x2 = y2; x3 = y3;
            k0 += W0; k1 += W1;
        }
        // Element 4j + k is word k of lane j: pair words (0, 1) and (2, 3) of each lane in 64 bits, then interleave the pairs.
        var a = x0 | (x1 << 32);
        var b = x2 | (x3 << 32);
        var lo = Avx512F.PermuteVar8x64x2(a, Vector512.Create(0UL, 8, 1, 9, 2, 10, 3, 11), b).AsInt32();
        var hi = Avx512F.PermuteVar8x64x2(a, Vector512.Create(4UL, 12, 5, 13, 6, 14, 7, 15), b).AsInt32();
        var inv = Vector512.Create(Inv24);
        // w >> 8 < 2^24: exact in float, and the power-of-two scale is exact (bitwise the scalar form)
        return (Vector512.ConvertToSingle(Vector512.ShiftRightLogical(lo, 8)) * inv, Vector512.ConvertToSingle(Vector512.ShiftRightLogical(hi, 8)) * inv);
    }
}
