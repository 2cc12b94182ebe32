namespace Ctmsr.Autograd;

public static partial class F
{
    /// <summary>
    /// Splits x [B, E, H, W] into ws x ws windows: [B * (H/ws) * (W/ws), ws*ws, E], windows ordered
    /// (batch, window-row, window-col), tokens row-major inside a window.
    /// </summary>
    public static Tensor WindowPartition(Tensor x, int ws)
    {
        int b = x[0], e = x[1], h = x[2], w = x[3];
        if (h % ws != 0 || w % ws != 0)
            throw new ArgumentException($"window attention needs height and width that are multiples of the window {ws}, got {h}x{w}");
        int ny = h / ws, nx = w / ws, t = ws * ws;
        // iterate (b, wy, wx, ty, e, tx): tx innermost keeps the source contiguous
        return Permute(x, [b, ny, nx, ws, e, ws],
            [(long)e * h * w, (long)ws * w, ws, w, (long)h * w, 1],
            [(long)ny * nx * t * e, (long)nx * t * e, (long)t * e, (long)ws * e, 1, e],
            [b * ny * nx, t, e]);
    }

    /// <summary>Inverse of <see cref="WindowPartition"/>: [B * nW, ws*ws, E] -> [B, E, H, W].</summary>
    public static Tensor WindowReverse(Tensor tokens, int ws, int b, int h, int w)
    {
        int e = tokens[2], ny = h / ws, nx = w / ws, t = ws * ws;
        return Permute(tokens, [b, ny, nx, ws, e, ws],
            [(long)ny * nx * t * e, (long)nx * t * e, (long)t * e, (long)ws * e, 1, e],
            [(long)e * h * w, (long)ws * w, ws, w, (long)h * w, 1],
            [b, e, h, w]);
    }

    /// <summary>
    /// Fused window attention: qkv [windows, T, 3E] -> [windows, T, E] with softmax(scale q k^T + B) v per head,
    /// B[head][i][j] = table[index(i, j)][head], table [(2ws-1)^2, heads].
    /// </summary>
    public static Tensor WindowAttention(Tensor qkv, Tensor table, int ws, int heads, float scale)
    {
        int windows = qkv[0], t = qkv[1], e3 = qkv[2];
        if (t != ws * ws || e3 % (3 * heads) != 0) throw new ArgumentException($"window attention: qkv [{windows}, {t}, {e3}] does not match window {ws} and {heads} heads");
        if (table[0] != (2 * ws - 1) * (2 * ws - 1) || table[1] != heads) throw new ArgumentException($"relative position table must be [{(2 * ws - 1) * (2 * ws - 1)}, {heads}]");
        int e = e3 / 3, d = e / heads;
        var y = Tensor.Empty(qkv.Ctx, windows, t, e);
        var probs = Tensor.Empty(qkv.Ctx, windows, heads, t, t);
        var be = qkv.Backend;
        be.WindowAttentionForward(windows, ws, heads, d, scale, qkv.Buffer, table.Buffer, probs.Buffer, y.Buffer);
        if (Tape.ShouldRecord(qkv, table))
            Tape.Record(y, () =>
            {
                using var dScores = Tensor.Empty(qkv.Ctx, windows, heads, t, t);
                var (gq, acc) = qkv.RequiresGrad ? qkv.GradSlot() : (Tensor.Empty(qkv.Ctx, qkv.Shape), false);
                be.WindowAttentionBackward(windows, ws, heads, d, scale, qkv.Buffer, probs.Buffer, y.Grad!.Buffer, gq.Buffer, acc, dScores.Buffer);
                if (table.RequiresGrad)
                {
                    using var dBias = Tensor.Empty(qkv.Ctx, heads, t, t);
                    be.SumRows(windows, heads * t * t, dScores.Buffer, dBias.Buffer, false);
                    be.RelativeBiasBackward(ws, heads, dBias.Buffer, table.GradZeroed().Buffer);
                }
            }, qkv, table, probs);
        else probs.Dispose();
        return y;
    }
}
