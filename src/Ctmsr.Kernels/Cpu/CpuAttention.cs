using System.Numerics;

namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// Fused window attention, one (window, head) per task.
/// qkv [windows, T, 3E] (E = heads*d); S = scale*Q K^T + bias; P = softmax_rows(S) (saved);
/// O = P V written to out [windows, T, E]. Backward: dV = P^T dO; dP = dO V^T;
/// dS = P * (dP - rowsum(dP*P)) (saved to dScores); dQ = scale dS K; dK = scale dS^T Q.
/// Q, K, V of the head are first gathered into contiguous [T, d] tiles so the inner loops are unit-stride.
/// </summary>
static class CpuAttention
{
    public static int RelIndex(int ws, int i, int j) =>
        (i / ws - j / ws + ws - 1) * (2 * ws - 1) + (i % ws - j % ws + ws - 1);

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

    public static void Forward(int windows, int ws, int heads, int d, float scale, float[] qkv, float[] table, float[] probs, float[] output)
    {
        int t = ws * ws, e = heads * d, row = 3 * e;
        var bias = new float[heads * t * t];
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < t; i++)
                for (int j = 0; j < t; j++) bias[(h * t + i) * t + j] = table[RelIndex(ws, i, j) * heads + h];
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

    public static void Backward(int windows, int ws, int heads, int d, float scale, float[] qkv, float[] probs, float[] dOut,
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
                Write(dq.Slice(i * d, d), dqkv.AsSpan((int)(r + h * d), d), accumulate);
                Write(dk.Slice(i * d, d), dqkv.AsSpan((int)(r + e + h * d), d), accumulate);
                Write(dv.Slice(i * d, d), dqkv.AsSpan((int)(r + 2 * e + h * d), d), accumulate);
            }
            return buf;
        }, _ => { });
    }

    static void Write(ReadOnlySpan<float> s, Span<float> t, bool acc)
    {
        if (!acc) { s.CopyTo(t); return; }
        for (int i = 0; i < s.Length; i++) t[i] += s[i];
    }
}
