using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// A logical operand of the GEMM seen as element (x, p): x is the row of op(A) or the column of op(B), p the
/// reduction index. Pack writes element (x0 + i, k0 + p) to dst[p * w + i] for i &lt; count and zero for
/// count &lt;= i &lt; w (so edge tiles can run the full micro-kernel).
/// </summary>
unsafe interface IPanelSource
{
    void Pack(int x0, int count, int k0, int kc, float* dst, int w);

    /// <summary>The packed panel of elements (x0 .. x0 + count, k0 .. k0 + kc) as <see cref="Pack"/> lays it out: packed
    /// into dst and dst returned, or a pointer into the operand when it is already stored packed (<see cref="PackedPanels"/>).</summary>
    float* Panel(int x0, int count, int k0, int kc, float* dst, int w);

    /// <summary>Where element (x0, k0) lies when the operand is stored unscaled with element (x, p) at
    /// result[(x - x0) * rowStride + (p - k0) * kStride], so a 12-row A block can be read in place
    /// (<see cref="GemmRowKernels.Kernel12InPlaceA"/>); null otherwise.</summary>
    float* InPlace(int x0, int k0, out long rowStride, out long kStride);
}

/// <summary>Element (x, p) at data[p * ld + x]: op(A) = A^T (A stored [k, m]) or op(B) = B (stored [k, n]).</summary>
unsafe readonly struct ContigSource(float* data, long ld, float scale) : IPanelSource
{
    public float* InPlace(int x0, int k0, out long rowStride, out long kStride) { rowStride = 1; kStride = ld; return scale == 1f ? data + k0 * ld + x0 : null; }

    public float* Panel(int x0, int count, int k0, int kc, float* dst, int w) { Pack(x0, count, k0, kc, dst, w); return dst; }

    public void Pack(int x0, int count, int k0, int kc, float* dst, int w)
    {
        float** rows = stackalloc float*[kc];
        for (int p = 0; p < kc; p++) rows[p] = data + (k0 + p) * ld + x0;
        GemmPack.CopyRows(rows, kc, count, dst, w, scale);
    }
}

/// <summary>Element (x, p) at data[x * ld + p]: op(A) = A (stored [m, k]) or op(B) = B^T (B stored [n, k]).</summary>
unsafe readonly struct StridedSource(float* data, long ld, float scale) : IPanelSource
{
    public float* InPlace(int x0, int k0, out long rowStride, out long kStride) { rowStride = ld; kStride = 1; return scale == 1f ? data + x0 * ld + k0 : null; }

    public float* Panel(int x0, int count, int k0, int kc, float* dst, int w) { Pack(x0, count, k0, kc, dst, w); return dst; }

    public void Pack(int x0, int count, int k0, int kc, float* dst, int w)
    {
        float** rows = stackalloc float*[count];
        for (int i = 0; i < count; i++) rows[i] = data + (x0 + i) * ld + k0;
        GemmPack.TransposeRows(rows, count, kc, dst, w, scale);
    }
}

/// <summary>Element (x, p) at data[offs[p] + x]: reduction rows start at arbitrary offsets (implicit im2col, B operand).</summary>
unsafe readonly struct OffsetRowsSource(float* data, long* offs) : IPanelSource
{
    public float* InPlace(int x0, int k0, out long rowStride, out long kStride) { rowStride = kStride = 0; return null; }

    public float* Panel(int x0, int count, int k0, int kc, float* dst, int w) { Pack(x0, count, k0, kc, dst, w); return dst; }

    public void Pack(int x0, int count, int k0, int kc, float* dst, int w)
    {
        float** rows = stackalloc float*[kc];
        for (int p = 0; p < kc; p++) rows[p] = data + offs[k0 + p] + x0;
        GemmPack.CopyRows(rows, kc, count, dst, w, 1f);
    }
}

/// <summary>Element (x, p) at data[offs[x] + p]: each x is a contiguous run along p (implicit im2col transposed).</summary>
unsafe readonly struct OffsetColsSource(float* data, long* offs) : IPanelSource
{
    public float* InPlace(int x0, int k0, out long rowStride, out long kStride) { rowStride = kStride = 0; return null; }

    public float* Panel(int x0, int count, int k0, int kc, float* dst, int w) { Pack(x0, count, k0, kc, dst, w); return dst; }

    public void Pack(int x0, int count, int k0, int kc, float* dst, int w)
    {
        float** rows = stackalloc float*[count];
        for (int i = 0; i < count; i++) rows[i] = data + offs[x0 + i] + k0;
        GemmPack.TransposeRows(rows, count, kc, dst, w, 1f);
    }
}

/// <summary>
/// An operand stored already packed: panel q (elements x in [q w, q w + w)) is a [k][w] block at data + q k w, element
/// (x, p) at data[(x / w) k w + p w + x % w]. The driver reads its panels in place (no copy); x0 is always a multiple
/// of w there. Rows or columns past the operand's extent in its last panel may hold anything: the driver computes
/// them into scratch (or not at all) and never stores them into C.
/// </summary>
unsafe readonly struct PackedPanels(float* data, int k, int w) : IPanelSource
{
    public float* InPlace(int x0, int k0, out long rowStride, out long kStride) { rowStride = kStride = 0; return null; }

    public void Pack(int x0, int count, int k0, int kc, float* dst, int pw)
    {
        Buffer.MemoryCopy(Panel(x0, count, k0, kc, dst, pw), dst, (long)kc * w * 4, (long)kc * w * 4);
        for (int p = 0; p < kc; p++)
            for (int i = count; i < w; i++) dst[(nint)p * w + i] = 0f;
    }

    public float* Panel(int x0, int count, int k0, int kc, float* dst, int pw) =>
        pw == w ? data + ((long)(x0 / w) * k + k0) * w : throw new InvalidOperationException($"packed panels of width {w} read as width {pw}");
}

static unsafe class GemmPack
{
    /// <summary>dst[p * w + i] = scale * rows[p][i] for i &lt; count, 0 up to w.</summary>
    public static void CopyRows(float** rows, int kc, int count, float* dst, int w, float scale)
    {
        var vs = Vector256.Create(scale);
        for (int p = 0; p < kc; p++)
        {
            float* s = rows[p], d = dst + (nint)p * w;
            int i = 0;
            if (scale == 1f)
            {
                for (; i + 8 <= count; i += 8) Vector256.Store(Vector256.Load(s + i), d + i);
                for (; i < count; i++) d[i] = s[i];
            }
            else
            {
                for (; i + 8 <= count; i += 8) Vector256.Store(Vector256.Load(s + i) * vs, d + i);
                for (; i < count; i++) d[i] = s[i] * scale;
            }
            for (; i < w; i++) d[i] = 0f;
        }
    }

    /// <summary>dst[p * w + i] = scale * rows[i][p] for i &lt; count, 0 up to w (8x8 register transposes on AVX).</summary>
    public static void TransposeRows(float** rows, int count, int kc, float* dst, int w, float scale)
    {
        int i = 0;
        if (Avx.IsSupported)
        {
            for (; i + 8 <= count; i += 8) Transpose8(rows + i, 8, kc, dst + i, w, scale);
            if (i + 4 <= count) { Transpose8(rows + i, 4, kc, dst + i, w, scale); i += 4; }
        }
        for (; i < count; i++)
        {
            float* s = rows[i];
            for (int p = 0; p < kc; p++) dst[(nint)p * w + i] = s[p] * scale;
        }
        if (count < w)
            for (int p = 0; p < kc; p++)
                new Span<float>(dst + (nint)p * w + count, w - count).Clear();
    }

    /// <summary>Transposes 8 (or 4, duplicated) rows in 8x8 blocks along p.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Transpose8(float** rows, int nrows, int kc, float* dst, int w, float scale)
    {
        float* r0 = rows[0], r1 = rows[1], r2 = rows[2], r3 = rows[3];
        float* r4 = nrows == 8 ? rows[4] : r0, r5 = nrows == 8 ? rows[5] : r1;
        float* r6 = nrows == 8 ? rows[6] : r2, r7 = nrows == 8 ? rows[7] : r3;
        var vs = Vector256.Create(scale);
        int p = 0;
        for (; p + 8 <= kc; p += 8)
        {
            Vector256<float> a0 = Avx.LoadVector256(r0 + p), a1 = Avx.LoadVector256(r1 + p);
            Vector256<float> a2 = Avx.LoadVector256(r2 + p), a3 = Avx.LoadVector256(r3 + p);
            Vector256<float> a4 = Avx.LoadVector256(r4 + p), a5 = Avx.LoadVector256(r5 + p);
            Vector256<float> a6 = Avx.LoadVector256(r6 + p), a7 = Avx.LoadVector256(r7 + p);
            var t0 = Avx.UnpackLow(a0, a1); var t1 = Avx.UnpackHigh(a0, a1);
            var t2 = Avx.UnpackLow(a2, a3); var t3 = Avx.UnpackHigh(a2, a3);
            var t4 = Avx.UnpackLow(a4, a5); var t5 = Avx.UnpackHigh(a4, a5);
            var t6 = Avx.UnpackLow(a6, a7); var t7 = Avx.UnpackHigh(a6, a7);
            var s0 = Avx.Shuffle(t0, t2, 0x44); var s1 = Avx.Shuffle(t0, t2, 0xEE);
            var s2 = Avx.Shuffle(t1, t3, 0x44); var s3 = Avx.Shuffle(t1, t3, 0xEE);
            var s4 = Avx.Shuffle(t4, t6, 0x44); var s5 = Avx.Shuffle(t4, t6, 0xEE);
            var s6 = Avx.Shuffle(t5, t7, 0x44); var s7 = Avx.Shuffle(t5, t7, 0xEE);
            float* d = dst + (nint)p * w;
            if (scale != 1f)
            {
                s0 *= vs; s1 *= vs; s2 *= vs; s3 *= vs; s4 *= vs; s5 *= vs; s6 *= vs; s7 *= vs;
            }
            if (nrows == 8)
            {
                Avx.Store(d, Avx.Permute2x128(s0, s4, 0x20));
                Avx.Store(d + w, Avx.Permute2x128(s1, s5, 0x20));
                Avx.Store(d + 2 * w, Avx.Permute2x128(s2, s6, 0x20));
                Avx.Store(d + 3 * w, Avx.Permute2x128(s3, s7, 0x20));
                Avx.Store(d + 4 * w, Avx.Permute2x128(s0, s4, 0x31));
                Avx.Store(d + 5 * w, Avx.Permute2x128(s1, s5, 0x31));
                Avx.Store(d + 6 * w, Avx.Permute2x128(s2, s6, 0x31));
                Avx.Store(d + 7 * w, Avx.Permute2x128(s3, s7, 0x31));
            }
            else
            {
                s0.GetLower().Store(d); s1.GetLower().Store(d + w); s2.GetLower().Store(d + 2 * w); s3.GetLower().Store(d + 3 * w);
                s0.GetUpper().Store(d + 4 * w); s1.GetUpper().Store(d + 5 * w); s2.GetUpper().Store(d + 6 * w); s3.GetUpper().Store(d + 7 * w);
            }
        }
        for (; p < kc; p++)
        {
            float* d = dst + (nint)p * w;
            for (int i = 0; i < nrows; i++) d[i] = rows[i][p] * scale;
        }
    }
}
