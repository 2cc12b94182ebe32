using ILGPU;
using ILGPU.Runtime;
using static Ctmsr.Kernels.Ilgpu.KernelMath;

namespace Ctmsr.Kernels.Ilgpu;

/// <summary>
/// Fused window attention, one group per (window, head); window side WS, T = WS^2 tokens, head dim HD and whether the
/// window's Q, K, V (and dO) rows are staged in dynamic shared memory are a specialisation.
/// qkv [windows, T, 3E] (E = heads HD; q, k, v blocks, each heads x HD), table [(2WS-1)^2, heads].
///   forward:  P[i, j] = softmax_j(scale q_i.k_j + table[rel(i,j), h]);  out_i = sum_j P[i, j] v_j.
///   backward: dP[i, j] = dO_i.v_j;  dS[i, j] = P[i, j] (dP[i, j] - sum_j' P[i, j'] dP[i, j']);
///             dq_i = scale sum_j dS[i, j] k_j;  dk_j = scale sum_i dS[i, j] q_i;  dv_j = sum_i P[i, j] dO_i.
///   rel(i, j) = (yi - yj + WS - 1)(2WS - 1) + (xi - xj + WS - 1).
/// Rows are owned by threads (i = Group.IdxX + k Group.DimX), so every output row has one writer and the softmax
/// sums run in a fixed order. The scores are parked in the probs row, so each dot product is computed once.
/// </summary>
static class AttentionKernels
{
    public struct Args { public int Heads, Accumulate; public float Scale; }

    public readonly record struct Consts(int Ws, int Hd, int Local);

    static int Rel(int ws, int i, int j) => (i / ws - j / ws + ws - 1) * (2 * ws - 1) + (i % ws - j % ws + ws - 1);

    /// <summary>Reads Q, K, V, dO rows of one (window, head) from shared memory (staged) or global memory.</summary>
    struct Rows
    {
        public ArrayView<float> Sh, Qkv, Dout;
        public long Base, DoBase;
        public int Row, E, Hd, T;
        public bool Local;
        public readonly float Q(int t, int c) => Local ? Sh[t * Hd + c] : Qkv[Base + (long)t * Row + c];
        public readonly float K(int t, int c) => Local ? Sh[(T + t) * Hd + c] : Qkv[Base + (long)t * Row + E + c];
        public readonly float V(int t, int c) => Local ? Sh[(2 * T + t) * Hd + c] : Qkv[Base + (long)t * Row + 2 * E + c];
        public readonly float DO(int t, int c) => Local ? Sh[(3 * T + t) * Hd + c] : Dout[DoBase + (long)t * E + c];

        /// <summary>Copies Q, K, V (and dO when <paramref name="withDout"/>) into shared memory; all threads call it.</summary>
        public readonly void Stage(bool withDout)
        {
            if (Local)
            {
                for (int e = Group.IdxX; e < T * Hd; e += Group.DimX)
                {
                    int t = e / Hd, c = e % Hd;
                    long at = Base + (long)t * Row + c;
                    Sh[e] = Qkv[at];
                    Sh[T * Hd + e] = Qkv[at + E];
                    Sh[2 * T * Hd + e] = Qkv[at + 2 * E];
                    if (withDout) Sh[3 * T * Hd + e] = Dout[DoBase + (long)t * E + c];
                }
            }
            Group.Barrier();
        }
    }

    static Rows Window(ArrayView<float> qkv, ArrayView<float> dout, int heads, Consts k)
    {
        int wh = Grid.IdxX, w = wh / heads, h = wh % heads, t = k.Ws * k.Ws, e = heads * k.Hd;
        return new Rows
        {
            Sh = SharedMemory.GetDynamic<float>(), Qkv = qkv, Dout = dout,
            Base = (long)w * t * 3 * e + h * k.Hd, DoBase = (long)w * t * e + h * k.Hd,
            Row = 3 * e, E = e, Hd = k.Hd, T = t, Local = k.Local != 0,
        };
    }

    [IlgpuKernel]
    public static void Forward(ArrayView<float> qkv, ArrayView<float> table, ArrayView<float> probs, ArrayView<float> output,
        Args a, SpecializedValue<Consts> consts)
    {
        var k = consts.Value;
        var rows = Window(qkv, qkv, a.Heads, k);
        rows.Stage(false);
        int wh = Grid.IdxX, w = wh / a.Heads, h = wh % a.Heads, t = rows.T;
        for (int i = Group.IdxX; i < t; i += Group.DimX)
        {
            long prow = ((long)wh * t + i) * t;
            float mx = float.NegativeInfinity;
            for (int j = 0; j < t; j++)
            {
                float s = 0f;
                for (int c = 0; c < k.Hd; c++) s = Fma(rows.Q(i, c), rows.K(j, c), s);
                s = s * a.Scale + table[Rel(k.Ws, i, j) * a.Heads + h];
                probs[prow + j] = s;
                mx = s > mx ? s : mx;
            }
            float z = 0f;
            for (int j = 0; j < t; j++)
            {
                float p = Exp(probs[prow + j] - mx);
                probs[prow + j] = p;
                z += p;
            }
            float inv = 1f / z;
            for (int j = 0; j < t; j++) probs[prow + j] *= inv;
            long orow = ((long)w * t + i) * rows.E + h * k.Hd;
            for (int c = 0; c < k.Hd; c++)
            {
                float o = 0f;
                for (int j = 0; j < t; j++) o = Fma(probs[prow + j], rows.V(j, c), o);
                output[orow + c] = o;
            }
        }
    }

    [IlgpuKernel]
    public static void Backward(ArrayView<float> qkv, ArrayView<float> probs, ArrayView<float> dout, ArrayView<float> dqkv,
        ArrayView<float> dscores, Args a, SpecializedValue<Consts> consts)
    {
        var k = consts.Value;
        var rows = Window(qkv, dout, a.Heads, k);
        rows.Stage(true);
        int wh = Grid.IdxX, t = rows.T;
        long pw = (long)wh * t * t;
        // phase 1: dS row i (dP parked in dscores, then overwritten by the same thread)
        for (int i = Group.IdxX; i < t; i += Group.DimX)
        {
            float dot = 0f;
            for (int j = 0; j < t; j++)
            {
                float dp = 0f;
                for (int c = 0; c < k.Hd; c++) dp = Fma(rows.DO(i, c), rows.V(j, c), dp);
                dscores[pw + i * t + j] = dp;
                dot = Fma(dp, probs[pw + i * t + j], dot);
            }
            for (int j = 0; j < t; j++) dscores[pw + i * t + j] = probs[pw + i * t + j] * (dscores[pw + i * t + j] - dot);
        }
        Group.Barrier();
        // phase 2: token u's dq, dk, dv
        for (int u = Group.IdxX; u < t; u += Group.DimX)
        {
            long drow = rows.Base + (long)u * rows.Row;
            for (int c = 0; c < k.Hd; c++)
            {
                float gq = 0f, gk = 0f, gv = 0f;
                for (int j = 0; j < t; j++)
                {
                    gq = Fma(dscores[pw + u * t + j], rows.K(j, c), gq);
                    gk = Fma(dscores[pw + j * t + u], rows.Q(j, c), gk);
                    gv = Fma(probs[pw + j * t + u], rows.DO(j, c), gv);
                }
                gq *= a.Scale;
                gk *= a.Scale;
                bool accum = a.Accumulate != 0;
                dqkv[drow + c] = accum ? dqkv[drow + c] + gq : gq;
                dqkv[drow + rows.E + c] = accum ? dqkv[drow + rows.E + c] + gk : gk;
                dqkv[drow + 2 * rows.E + c] = accum ? dqkv[drow + 2 * rows.E + c] + gv : gv;
            }
        }
    }

    /// <summary>dTable[rel, h] += sum of dBias[h, i, j] over the (i, j) with rel(i, j) = rel; one thread per (rel, h).</summary>
    [IlgpuKernel]
    public static void RelativeBiasBackward(ArrayView<float> dbias, ArrayView<float> dtable, Args a, SpecializedValue<int> ws)
    {
        int id = Grid.GlobalIndex.X, w = ws.Value, span = 2 * w - 1, t = w * w;
        if (id >= span * span * a.Heads) return;
        int rel = id / a.Heads, h = id % a.Heads;
        int dyo = rel / span - (w - 1), dxo = rel % span - (w - 1);
        float s = 0f;
        for (int yi = 0; yi < w; yi++)
        {
            int yj = yi - dyo;
            if (yj < 0 || yj >= w) continue;
            for (int xi = 0; xi < w; xi++)
            {
                int xj = xi - dxo;
                if (xj < 0 || xj >= w) continue;
                s += dbias[((long)h * t + yi * w + xi) * t + yj * w + xj];
            }
        }
        dtable[id] += s;
    }
}

public sealed partial class IlgpuBackend
{
    /// <summary>Bytes of shared memory a group may use for staging (the backward stages Q, K, V and dO).</summary>
    long SharedBytes => Math.Min(acc.MaxSharedMemoryPerGroup, 48 * 1024);

    KernelConfig AttentionConfig(int windows, int heads, int ws, int d, out AttentionKernels.Consts consts)
    {
        int t = ws * ws;
        bool local = 4L * t * d * sizeof(float) <= SharedBytes;
        consts = new AttentionKernels.Consts(ws, d, local ? 1 : 0);
        return new KernelConfig(new Index3D(windows * heads, 1, 1), new Index3D(Math.Min(t, Red), 1, 1),
            SharedMemoryConfig.RequestDynamic<float>(local ? 4 * t * d : 1));
    }

    public override void WindowAttentionForward(int windows, int ws, int heads, int d, float scale,
        DeviceBuffer qkv, DeviceBuffer table, DeviceBuffer probs, DeviceBuffer output)
    {
        if (windows * heads == 0) return;
        var cfg = AttentionConfig(windows, heads, ws, d, out var consts);
        Launch(AttentionKernels.Forward, cfg, V(qkv), V(table), V(probs), V(output),
            new AttentionKernels.Args { Heads = heads, Scale = scale }, new SpecializedValue<AttentionKernels.Consts>(consts));
    }

    public override void WindowAttentionBackward(int windows, int ws, int heads, int d, float scale,
        DeviceBuffer qkv, DeviceBuffer probs, DeviceBuffer dOutput, DeviceBuffer dqkv, bool accumulate, DeviceBuffer dScores)
    {
        if (windows * heads == 0) return;
        var cfg = AttentionConfig(windows, heads, ws, d, out var consts);
        Launch(AttentionKernels.Backward, cfg, V(qkv), V(probs), V(dOutput), V(dqkv), V(dScores),
            new AttentionKernels.Args { Heads = heads, Scale = scale, Accumulate = Flag(accumulate) },
            new SpecializedValue<AttentionKernels.Consts>(consts));
    }

    public override void RelativeBiasBackward(int ws, int heads, DeviceBuffer dBias, DeviceBuffer dTable)
    {
        int n = (2 * ws - 1) * (2 * ws - 1) * heads;
        if (n == 0) return;
        Launch(AttentionKernels.RelativeBiasBackward, new KernelConfig(Ceil(n, Red), Red), V(dBias), V(dTable),
            new AttentionKernels.Args { Heads = heads }, new SpecializedValue<int>(ws));
    }
}
