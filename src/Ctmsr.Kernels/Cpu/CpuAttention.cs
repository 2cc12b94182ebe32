using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// Fused window attention, one (window, head) per task.
/// qkv [windows, T, 3E] (E = heads*d); S = scale*Q K^T + bias; P = softmax_rows(S) (saved to probs [windows, heads, T, T]);
/// O = P V written to out [windows, T, E]. Backward: dV = P^T dO; dP = dO V^T;
/// dS = P * (dP - rowsum(dP*P)) (saved to dScores); dQ = scale dS K; dK = scale dS^T Q.
/// Blocked path (AVX-512, T a multiple of 16): the head's Q, K, V (and dO) are gathered into per-thread tiles, rows
/// padded to whole vectors, with K^T (V^T in backward) transposed to [d, T]; the T x T products run in register-blocked
/// micro-kernels (4 rows x 64 columns for S and dP, 8 rows x 32 columns for P V, dS K, P^T dO and dS^T Q), the softmax
/// and dS rows right after their 8-row block while it is in L1. Other shapes take the unblocked per-row path.
/// </summary>
public static unsafe class CpuAttention
{
    public static int RelIndex(int ws, int i, int j) =>
        (i / ws - j / ws + ws - 1) * (2 * ws - 1) + (i % ws - j % ws + ws - 1);

    static bool Blocked(int t) => Vector512.IsHardwareAccelerated && t % 16 == 0;

    /// <summary>RelIndex for every (i, j) of the last window size asked, [T, T] (the same for every call of a model); one
    /// reference, so a call on another thread sees the window size and its table together, never torn.</summary>
    sealed record RelTable(int Ws, int[] Index);
    static RelTable? s_rel;

    static int[] RelIndexTable(int ws)
    {
        if (s_rel is { } r && r.Ws == ws) return r.Index;
        int t = ws * ws;
        var idx = new int[t * t];
        for (int i = 0; i < t; i++)
            for (int j = 0; j < t; j++) idx[i * t + j] = RelIndex(ws, i, j);
        s_rel = new RelTable(ws, idx);
        return idx;
    }

    /// <summary>bias[h, i, j] = table[RelIndex(i, j), h] into <paramref name="bias"/> (heads * T * T floats).</summary>
    static void Bias(int ws, int heads, float[] table, float[] bias)
    {
        int t = ws * ws;
        var idx = RelIndexTable(ws);
        for (int h = 0; h < heads; h++)
        {
            var b = bias.AsSpan(h * t * t, t * t);
            for (int k = 0; k < b.Length; k++) b[k] = table[idx[k] * heads + h];
        }
    }

    /// <summary>This thread's pinned tile buffer of at least <paramref name="floats"/> floats, kept between calls.</summary>
    [ThreadStatic] static float[]? t_tiles;

    static float* Tiles(long floats)
    {
        var buf = t_tiles;
        if (buf is null || buf.Length < floats + 16) t_tiles = buf = GC.AllocateArray<float>((int)floats + 16, pinned: true);
        return (float*)(((nint)Unsafe.AsPointer(ref buf[0]) + 63) & ~(nint)63);
    }

    static int Pad(int d) => (d + 15) & ~15;

    /// <param name="perRow">Run the unblocked per-row path whatever the shape (the kernel lab's baseline variant).</param>
    public static void Forward(int windows, int ws, int heads, int d, float scale, float[] qkv, float[] table, float[] probs, float[] output,
        bool perRow = false)
    {
        int t = ws * ws;
        using var scratch = Scratch<float>.Rent((long)heads * t * t, "window attention bias");
        var bias = scratch.Array;
        Bias(ws, heads, table, bias);
        if (perRow || !Blocked(t)) { ForwardRows(windows, ws, heads, d, scale, qkv, bias, probs, output); return; }
        int e = heads * d, row = 3 * e, dp = Pad(d);
        // Q [T, d], K^T [d, T], V [T, dp], O [T, dp]
        Parallel.For(0, windows * heads, CpuThreads.Options, wh =>
        {
            int w = wh / heads, h = wh % heads;
            float* q = Tiles(2L * t * d + 2L * t * dp), kt = q + t * d, v = kt + t * d, o = v + t * dp;
            fixed (float* pqkv = qkv, pb = bias, pprobs = probs, pout = output)
            {
                float* src = pqkv + (long)w * t * row + h * d;
                for (int i = 0; i < t; i++)
                {
                    float* r = src + (long)i * row;
                    Copy(r, q + i * d, d);
                    Copy(r + 2 * e, v + i * dp, d);
                }
                Transpose(src + e, row, t, d, kt);
                float* p = pprobs + ((long)w * heads + h) * t * t, b = pb + (long)h * t * t;
                for (int i0 = 0; i0 < t; i0 += 8)
                {
                    for (int i = i0; i < i0 + 8; i += 4) Rows4(q + i * d, d, kt, t, d, scale, b + i * t, p + i * t);
                    for (int i = i0; i < i0 + 8; i++) Softmax(p + i * t, t);
                    Rows8(p + i0 * t, t, 1, v, dp, t, dp, 1f, o + i0 * dp, dp);
                }
                float* dst = pout + (long)w * t * e + h * d;
                for (int i = 0; i < t; i++) Copy(o + i * dp, dst + (long)i * e, d);
            }
        });
    }

    /// <param name="perRow">As for <see cref="Forward"/>.</param>
    public static void Backward(int windows, int ws, int heads, int d, float scale, float[] qkv, float[] probs, float[] dOut,
        float[] dqkv, bool accumulate, float[] dScores, bool perRow = false)
    {
        int t = ws * ws;
        if (perRow || !Blocked(t)) { BackwardRows(windows, ws, heads, d, scale, qkv, probs, dOut, dqkv, accumulate, dScores); return; }
        int e = heads * d, row = 3 * e, dp = Pad(d);
        // Q, K, dO, dQ, dK, dV [T, dp]; V^T [d, T]; dP [8, T]
        Parallel.For(0, windows * heads, CpuThreads.Options, wh =>
        {
            int w = wh / heads, h = wh % heads;
            float* q = Tiles(6L * t * dp + (long)d * t + 8L * t), k = q + t * dp, dO = k + t * dp, dq = dO + t * dp, dk = dq + t * dp, dv = dk + t * dp;
            float* vt = dv + t * dp, dP = vt + d * t;
            fixed (float* pqkv = qkv, pprobs = probs, pdo = dOut, pdqkv = dqkv, pds = dScores)
            {
                long rb = (long)w * t * row + h * d;
                float* src = pqkv + rb, gsrc = pdo + (long)w * t * e + h * d;
                for (int i = 0; i < t; i++)
                {
                    float* r = src + (long)i * row;
                    Copy(r, q + i * dp, d);
                    Copy(r + e, k + i * dp, d);
                    Copy(gsrc + (long)i * e, dO + i * dp, d);
                }
                Transpose(src + 2 * e, row, t, d, vt);
                long pb = ((long)w * heads + h) * t * t;
                float* p = pprobs + pb, ds = pds + pb;
                for (int i0 = 0; i0 < t; i0 += 8)
                {
                    for (int i = i0; i < i0 + 8; i += 4) Rows4(dO + i * dp, dp, vt, t, d, 1f, null, dP + (i - i0) * t);
                    for (int i = i0; i < i0 + 8; i++) SoftmaxGrad(p + i * t, dP + (i - i0) * t, ds + i * t, t);
                    Rows8(ds + i0 * t, t, 1, k, dp, t, dp, scale, dq + i0 * dp, dp);
                }
                for (int j0 = 0; j0 < t; j0 += 8)
                {
                    Rows8(p + j0, 1, t, dO, dp, t, dp, 1f, dv + j0 * dp, dp);
                    Rows8(ds + j0, 1, t, q, dp, t, dp, scale, dk + j0 * dp, dp);
                }
                float* dst = pdqkv + rb;
                for (int i = 0; i < t; i++)
                {
                    float* r = dst + (long)i * row;
                    Write(dq + i * dp, r, d, accumulate);
                    Write(dk + i * dp, r + e, d, accumulate);
                    Write(dv + i * dp, r + 2 * e, d, accumulate);
                }
            }
        });
    }

    /// <summary>
    /// dst[r, 0:n] = alpha * sum_c a[r*lda + c] b[c*n + 0:n] (+ bias[r*n + 0:n] when given) for 4 rows, n a multiple
    /// of 16: 64 columns at a time in 16 accumulators, broadcasts of a against vector loads of b.
    /// </summary>
    static void Rows4(float* a, nint lda, float* b, int n, int kn, float alpha, float* bias, float* dst)
    {
        int j = 0;
        for (; j + 64 <= n; j += 64) Rows4x64(a, lda, b + j, n, kn, alpha, bias == null ? null : bias + j, dst + j, n);
        for (; j < n; j += 16) Rows4x16(a, lda, b + j, n, kn, alpha, bias == null ? null : bias + j, dst + j, n);
    }

    static void Rows4x64(float* a, nint lda, float* b, nint ldb, int kn, float alpha, float* bias, float* dst, nint ldd)
    {
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
        float* a1 = a + lda, a2 = a1 + lda, a3 = a2 + lda;
        for (int c = 0; c < kn; c++, b += ldb)
        {
            var b0 = Vector512.Load(b); var b1 = Vector512.Load(b + 16); var b2 = Vector512.Load(b + 32); var b3 = Vector512.Load(b + 48);
            var x = Vector512.Create(a[c]);
            c00 = Avx512F.FusedMultiplyAdd(x, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x, b1, c01); c02 = Avx512F.FusedMultiplyAdd(x, b2, c02); c03 = Avx512F.FusedMultiplyAdd(x, b3, c03);
            x = Vector512.Create(a1[c]);
            c10 = Avx512F.FusedMultiplyAdd(x, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x, b1, c11); c12 = Avx512F.FusedMultiplyAdd(x, b2, c12); c13 = Avx512F.FusedMultiplyAdd(x, b3, c13);
            x = Vector512.Create(a2[c]);
            c20 = Avx512F.FusedMultiplyAdd(x, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x, b1, c21); c22 = Avx512F.FusedMultiplyAdd(x, b2, c22); c23 = Avx512F.FusedMultiplyAdd(x, b3, c23);
            x = Vector512.Create(a3[c]);
            c30 = Avx512F.FusedMultiplyAdd(x, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x, b1, c31); c32 = Avx512F.FusedMultiplyAdd(x, b2, c32); c33 = Avx512F.FusedMultiplyAdd(x, b3, c33);
        }
        Out4(c00, c01, c02, c03, alpha, bias, dst);
        Out4(c10, c11, c12, c13, alpha, bias == null ? null : bias + ldd, dst + ldd);
        Out4(c20, c21, c22, c23, alpha, bias == null ? null : bias + 2 * ldd, dst + 2 * ldd);
        Out4(c30, c31, c32, c33, alpha, bias == null ? null : bias + 3 * ldd, dst + 3 * ldd);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Out4(Vector512<float> c0, Vector512<float> c1, Vector512<float> c2, Vector512<float> c3, float alpha, float* bias, float* dst)
    {
        var s = Vector512.Create(alpha);
        if (bias == null) { (c0 * s).Store(dst); (c1 * s).Store(dst + 16); (c2 * s).Store(dst + 32); (c3 * s).Store(dst + 48); return; }
        Avx512F.FusedMultiplyAdd(c0, s, Vector512.Load(bias)).Store(dst);
        Avx512F.FusedMultiplyAdd(c1, s, Vector512.Load(bias + 16)).Store(dst + 16);
        Avx512F.FusedMultiplyAdd(c2, s, Vector512.Load(bias + 32)).Store(dst + 32);
        Avx512F.FusedMultiplyAdd(c3, s, Vector512.Load(bias + 48)).Store(dst + 48);
    }

    static void Rows4x16(float* a, nint lda, float* b, nint ldb, int kn, float alpha, float* bias, float* dst, nint ldd)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        float* a1 = a + lda, a2 = a1 + lda, a3 = a2 + lda;
        for (int c = 0; c < kn; c++, b += ldb)
        {
            var b0 = Vector512.Load(b);
            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[c]), b0, c0); c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a1[c]), b0, c1);
            c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(a2[c]), b0, c2); c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(a3[c]), b0, c3);
        }
        var s = Vector512.Create(alpha);
        ReadOnlySpan<Vector512<float>> acc = [c0, c1, c2, c3];
        for (int r = 0; r < 4; r++)
        {
            var y = acc[r] * s;
            if (bias != null) y += Vector512.Load(bias + r * ldd);
            y.Store(dst + r * ldd);
        }
    }

    /// <summary>
    /// dst[r*ldd + 0:n] = alpha * sum_k a[r*rs + k*ks] b[k*ldb + 0:n] for 8 rows r, n a multiple of 16 (P V, dS K with
    /// rs = T, ks = 1; P^T dO, dS^T Q with rs = 1, ks = T): 32 columns at a time in 16 accumulators.
    /// </summary>
    static void Rows8(float* a, nint rs, nint ks, float* b, nint ldb, int kn, int n, float alpha, float* dst, nint ldd)
    {
        int j = 0;
        for (; j + 32 <= n; j += 32) Rows8x32(a, rs, ks, b + j, ldb, kn, alpha, dst + j, ldd);
        if (j < n) Rows8x16(a, rs, ks, b + j, ldb, kn, alpha, dst + j, ldd);
    }

    static void Rows8x32(float* a, nint rs, nint ks, float* b, nint ldb, int kn, float alpha, float* dst, nint ldd)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        nint r2 = 2 * rs, r3 = 3 * rs;
        float* a4 = a + 4 * rs;
        for (int k = 0; k < kn; k++, a += ks, a4 += ks, b += ldb)
        {
            var b0 = Vector512.Load(b); var b1 = Vector512.Load(b + 16);
            var x = Vector512.Create(a[0]); c00 = Avx512F.FusedMultiplyAdd(x, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a[rs]); c10 = Avx512F.FusedMultiplyAdd(x, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a[r2]); c20 = Avx512F.FusedMultiplyAdd(x, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a[r3]); c30 = Avx512F.FusedMultiplyAdd(x, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a4[0]); c40 = Avx512F.FusedMultiplyAdd(x, b0, c40); c41 = Avx512F.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a4[rs]); c50 = Avx512F.FusedMultiplyAdd(x, b0, c50); c51 = Avx512F.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a4[r2]); c60 = Avx512F.FusedMultiplyAdd(x, b0, c60); c61 = Avx512F.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a4[r3]); c70 = Avx512F.FusedMultiplyAdd(x, b0, c70); c71 = Avx512F.FusedMultiplyAdd(x, b1, c71);
        }
        var s = Vector512.Create(alpha);
        (c00 * s).Store(dst); (c01 * s).Store(dst + 16); dst += ldd;
        (c10 * s).Store(dst); (c11 * s).Store(dst + 16); dst += ldd;
        (c20 * s).Store(dst); (c21 * s).Store(dst + 16); dst += ldd;
        (c30 * s).Store(dst); (c31 * s).Store(dst + 16); dst += ldd;
        (c40 * s).Store(dst); (c41 * s).Store(dst + 16); dst += ldd;
        (c50 * s).Store(dst); (c51 * s).Store(dst + 16); dst += ldd;
        (c60 * s).Store(dst); (c61 * s).Store(dst + 16); dst += ldd;
        (c70 * s).Store(dst); (c71 * s).Store(dst + 16);
    }

    static void Rows8x16(float* a, nint rs, nint ks, float* b, nint ldb, int kn, float alpha, float* dst, nint ldd)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        nint r2 = 2 * rs, r3 = 3 * rs;
        float* a4 = a + 4 * rs;
        for (int k = 0; k < kn; k++, a += ks, a4 += ks, b += ldb)
        {
            var b0 = Vector512.Load(b);
            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[0]), b0, c0); c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[rs]), b0, c1);
            c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[r2]), b0, c2); c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[r3]), b0, c3);
            c4 = Avx512F.FusedMultiplyAdd(Vector512.Create(a4[0]), b0, c4); c5 = Avx512F.FusedMultiplyAdd(Vector512.Create(a4[rs]), b0, c5);
            c6 = Avx512F.FusedMultiplyAdd(Vector512.Create(a4[r2]), b0, c6); c7 = Avx512F.FusedMultiplyAdd(Vector512.Create(a4[r3]), b0, c7);
        }
        var s = Vector512.Create(alpha);
        (c0 * s).Store(dst); (c1 * s).Store(dst + ldd); (c2 * s).Store(dst + 2 * ldd); (c3 * s).Store(dst + 3 * ldd);
        (c4 * s).Store(dst + 4 * ldd); (c5 * s).Store(dst + 5 * ldd); (c6 * s).Store(dst + 6 * ldd); (c7 * s).Store(dst + 7 * ldd);
    }

    /// <summary>
    /// dst[c*t + i] = src[i*ld + c] for i &lt; t (a multiple of 16), c &lt; d: 16x16 blocks transposed in registers
    /// (unpack, 64-bit shuffles, two rounds of 128-bit lane shuffles), the d % 16 last columns one by one.
    /// </summary>
    static void Transpose(float* src, nint ld, int t, int d, float* dst)
    {
        int c0 = 0;
        var r = stackalloc Vector512<float>[16];
        for (; c0 + 16 <= d; c0 += 16)
            for (int i0 = 0; i0 < t; i0 += 16)
            {
                float* s = src + i0 * ld + c0;
                for (int k = 0; k < 8; k++)
                {
                    var a = Vector512.Load(s + 2 * k * ld); var b = Vector512.Load(s + (2 * k + 1) * ld);
                    r[2 * k] = Avx512F.UnpackLow(a, b); r[2 * k + 1] = Avx512F.UnpackHigh(a, b);
                }
                for (int k = 0; k < 4; k++)
                {
                    Vector512<float> t0 = r[4 * k], t1 = r[4 * k + 1], t2 = r[4 * k + 2], t3 = r[4 * k + 3];
                    r[4 * k] = Avx512F.Shuffle(t0, t2, 0x44); r[4 * k + 1] = Avx512F.Shuffle(t0, t2, 0xEE);
                    r[4 * k + 2] = Avx512F.Shuffle(t1, t3, 0x44); r[4 * k + 3] = Avx512F.Shuffle(t1, t3, 0xEE);
                }
                float* o = dst + c0 * t + i0;
                for (int m = 0; m < 4; m++)
                {
                    var v = Avx512F.Shuffle4x128(r[m], r[4 + m], 0x88); var w = Avx512F.Shuffle4x128(r[8 + m], r[12 + m], 0x88);
                    var v2 = Avx512F.Shuffle4x128(r[m], r[4 + m], 0xDD); var w2 = Avx512F.Shuffle4x128(r[8 + m], r[12 + m], 0xDD);
                    Avx512F.Shuffle4x128(v, w, 0x88).Store(o + m * t);
                    Avx512F.Shuffle4x128(v2, w2, 0x88).Store(o + (4 + m) * t);
                    Avx512F.Shuffle4x128(v, w, 0xDD).Store(o + (8 + m) * t);
                    Avx512F.Shuffle4x128(v2, w2, 0xDD).Store(o + (12 + m) * t);
                }
            }
        for (int i = 0; i < t; i++)
            for (int c = c0; c < d; c++) dst[c * t + i] = src[i * ld + c];
    }

    /// <summary>p[0:n] = softmax(p[0:n]) in place, n a multiple of 16.</summary>
    static void Softmax(float* p, int n)
    {
        var m = Vector512.Load(p);
        for (int j = 16; j < n; j += 16) m = Avx512F.Max(m, Vector512.Load(p + j));
        var m8 = Vector256.Max(m.GetLower(), m.GetUpper());
        var m4 = Vector128.Max(m8.GetLower(), m8.GetUpper());
        var vm = Vector512.Create(MathF.Max(MathF.Max(m4[0], m4[1]), MathF.Max(m4[2], m4[3])));
        var z = Vector512<float>.Zero;
        for (int j = 0; j < n; j += 16)
        {
            var x = CpuExp.Exp(Vector512.Load(p + j) - vm);
            x.Store(p + j);
            z += x;
        }
        var inv = Vector512.Create(1f / Vector512.Sum(z));
        for (int j = 0; j < n; j += 16) (Vector512.Load(p + j) * inv).Store(p + j);
    }

    /// <summary>ds[0:n] = p * (dp - sum(dp * p)), n a multiple of 16.</summary>
    static void SoftmaxGrad(float* p, float* dp, float* ds, int n)
    {
        var acc = Vector512<float>.Zero;
        for (int j = 0; j < n; j += 16) acc = Avx512F.FusedMultiplyAdd(Vector512.Load(dp + j), Vector512.Load(p + j), acc);
        var dot = Vector512.Create(Vector512.Sum(acc));
        for (int j = 0; j < n; j += 16) (Vector512.Load(p + j) * (Vector512.Load(dp + j) - dot)).Store(ds + j);
    }

    // rows of d floats: inline vector moves (RowMoves; a memmove call costs as much as a 32-float row)
    static void Copy(float* s, float* t, int n) => RowMoves.Copy(s, t, n);

    static void Write(float* s, float* t, int n, bool acc)
    {
        if (!acc) { Copy(s, t, n); return; }
        int i = 0;
        for (; i + 16 <= n; i += 16) (Vector512.Load(t + i) + Vector512.Load(s + i)).Store(t + i);
        for (; i < n; i++) t[i] += s[i];
    }

    // ---- unblocked path: any T, d; one (window, head) per task, rows of S at a time ----

    static void Gather(float[] qkv, long rowBase, int row, int col, int t, int d, Span<float> dst)
    {
        for (int i = 0; i < t; i++) qkv.AsSpan((int)(rowBase + (long)i * row + col), d).CopyTo(dst.Slice(i * d, d));
    }

    static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int i = 0, vw = Vector<float>.Count;
        var acc = Vector<float>.Zero;
        for (; i <= a.Length - vw; i += vw) acc += new Vector<float>(a.Slice(i)) * new Vector<float>(b.Slice(i));
        float s = Vector.Sum(acc);
        for (; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    static void Axpy(float a, ReadOnlySpan<float> x, Span<float> y)
    {
        int i = 0, vw = Vector<float>.Count;
        var va = new Vector<float>(a);
        for (; i <= x.Length - vw; i += vw) (new Vector<float>(y.Slice(i)) + va * new Vector<float>(x.Slice(i))).CopyTo(y.Slice(i));
        for (; i < x.Length; i++) y[i] += a * x[i];
    }

    static void ForwardRows(int windows, int ws, int heads, int d, float scale, float[] qkv, float[] bias, float[] probs, float[] output)
    {
        int t = ws * ws, e = heads * d, row = 3 * e;
        Parallel.For(0, windows * heads, CpuThreads.Options, () => new float[4 * t * d], (wh, _, buf) =>
        {
            int w = wh / heads, h = wh % heads;
            long rb = (long)w * t * row;
            var q = buf.AsSpan(0, t * d); var k = buf.AsSpan(t * d, t * d); var v = buf.AsSpan(2 * t * d, t * d); var o = buf.AsSpan(3 * t * d, t * d);
            Gather(qkv, rb, row, h * d, t, d, q); Gather(qkv, rb, row, e + h * d, t, d, k); Gather(qkv, rb, row, 2 * e + h * d, t, d, v);
            o.Clear();
            for (int i = 0; i < t; i++)
            {
                var p = probs.AsSpan((int)(((long)w * heads + h) * t + i) * t, t);
                var qi = q.Slice(i * d, d);
                float mx = float.NegativeInfinity;
                for (int j = 0; j < t; j++) { float s = Dot(qi, k.Slice(j * d, d)) * scale + bias[(h * t + i) * t + j]; p[j] = s; if (s > mx) mx = s; }
                float z = 0;
                for (int j = 0; j < t; j++) { float ex = MathF.Exp(p[j] - mx); p[j] = ex; z += ex; }
                float inv = 1f / z;
                var oi = o.Slice(i * d, d);
                for (int j = 0; j < t; j++) { p[j] *= inv; Axpy(p[j], v.Slice(j * d, d), oi); }
            }
            for (int i = 0; i < t; i++) o.Slice(i * d, d).CopyTo(output.AsSpan((int)(((long)w * t + i) * e + h * d), d));
            return buf;
        }, _ => { });
    }

    static void BackwardRows(int windows, int ws, int heads, int d, float scale, float[] qkv, float[] probs, float[] dOut,
        float[] dqkv, bool accumulate, float[] dScores)
    {
        int t = ws * ws, e = heads * d, row = 3 * e;
        Parallel.For(0, windows * heads, CpuThreads.Options, () => new float[7 * t * d + t], (wh, _, buf) =>
        {
            int w = wh / heads, h = wh % heads;
            long rb = (long)w * t * row;
            var q = buf.AsSpan(0, t * d); var k = buf.AsSpan(t * d, t * d); var v = buf.AsSpan(2 * t * d, t * d);
            var dO = buf.AsSpan(3 * t * d, t * d); var dq = buf.AsSpan(4 * t * d, t * d); var dk = buf.AsSpan(5 * t * d, t * d);
            var dv = buf.AsSpan(6 * t * d, t * d); var dp = buf.AsSpan(7 * t * d, t);
            Gather(qkv, rb, row, h * d, t, d, q); Gather(qkv, rb, row, e + h * d, t, d, k); Gather(qkv, rb, row, 2 * e + h * d, t, d, v);
            for (int i = 0; i < t; i++) dOut.AsSpan((int)(((long)w * t + i) * e + h * d), d).CopyTo(dO.Slice(i * d, d));
            dq.Clear(); dk.Clear(); dv.Clear();
            for (int i = 0; i < t; i++)
            {
                long pr = (((long)w * heads + h) * t + i) * t;
                var p = probs.AsSpan((int)pr, t);
                var ds = dScores.AsSpan((int)pr, t);
                var doi = dO.Slice(i * d, d);
                float dot = 0;
                for (int j = 0; j < t; j++)
                {
                    dp[j] = Dot(doi, v.Slice(j * d, d));
                    dot += dp[j] * p[j];
                    Axpy(p[j], doi, dv.Slice(j * d, d));
                }
                var dqi = dq.Slice(i * d, d); var qi = q.Slice(i * d, d);
                for (int j = 0; j < t; j++)
                {
                    float g = p[j] * (dp[j] - dot);
                    ds[j] = g;
                    g *= scale;
                    Axpy(g, k.Slice(j * d, d), dqi);
                    Axpy(g, qi, dk.Slice(j * d, d));
                }
            }
            for (int i = 0; i < t; i++)
            {
                long r = rb + (long)i * row;
                WriteSpan(dq.Slice(i * d, d), dqkv.AsSpan((int)(r + h * d), d), accumulate);
                WriteSpan(dk.Slice(i * d, d), dqkv.AsSpan((int)(r + e + h * d), d), accumulate);
                WriteSpan(dv.Slice(i * d, d), dqkv.AsSpan((int)(r + 2 * e + h * d), d), accumulate);
            }
            return buf;
        }, _ => { });
    }

    static void WriteSpan(ReadOnlySpan<float> s, Span<float> t, bool acc)
    {
        if (!acc) { s.CopyTo(t); return; }
        for (int i = 0; i < s.Length; i++) t[i] += s[i];
    }
}
