using Ctmsr.Kernels;

namespace Ctmsr.Autograd;

/// <summary>
/// Differentiable operations (torch.nn.functional's role). Each is one forward kernel call and,
/// when recording, one backward closure that calls the backward kernels. Input gradients use
/// <see cref="Tensor.GradSlot"/>: written by the first consumer, accumulated by later ones.
/// </summary>
public static partial class F
{
    static void SameCtx(Tensor a, Tensor b)
    {
        if (a.Ctx != b.Ctx) throw new ArgumentException($"tensors on different devices ({a.Backend.Name} and {b.Backend.Name})");
    }

    static string S(int[] shape) => "[" + string.Join(", ", shape) + "]";

    public static Tensor Reshape(Tensor x, params int[] shape)
    {
        long n = 1; int infer = -1;
        for (int i = 0; i < shape.Length; i++) { if (shape[i] == -1) infer = i; else n *= shape[i]; }
        if (infer >= 0) { shape = (int[])shape.Clone(); shape[infer] = (int)(x.Count / n); n *= shape[infer]; }
        if (n != x.Count) throw new ArgumentException($"cannot reshape {S(x.Shape)} to {S(shape)}");
        var y = Tensor.Empty(x.Ctx, shape);
        var be = x.Backend;
        be.CopyStrided([(int)x.Count], x.Buffer, 0, [1], y.Buffer, 0, [1], false);
        if (Tape.ShouldRecord(x))
            Tape.Record(y, () =>
            {
                var (g, acc) = x.GradSlot();
                be.CopyStrided([(int)x.Count], y.Grad!.Buffer, 0, [1], g.Buffer, 0, [1], acc);
            }); // a copy: x's values are not needed for the backward
        return y;
    }

    /// <summary>y = a * x + b * z.</summary>
    public static Tensor AddScaled(Tensor x, float a, Tensor z, float b)
    {
        SameCtx(x, z);
        if (x.Count != z.Count) throw new ArgumentException($"shapes {S(x.Shape)} and {S(z.Shape)} differ");
        var y = Tensor.Empty(x.Ctx, x.Shape);
        var be = x.Backend;
        be.AddScaled(x.Count, a, x.Buffer, b, z.Buffer, y.Buffer);
        if (Tape.ShouldRecord(x, z))
            Tape.Record(y, () =>
            {
                foreach (var (t, c) in new[] { (x, a), (z, b) })
                {
                    if (!t.RequiresGrad) continue;
                    var (g, acc) = t.GradSlot();
                    if (acc) be.AddScaled(t.Count, 1f, g.Buffer, c, y.Grad!.Buffer, g.Buffer);
                    else be.AddScaled(t.Count, c, y.Grad!.Buffer, 0f, y.Grad!.Buffer, g.Buffer);
                }
            }); // the backward reads only y's gradient: x and z are not saved, so their buffers can go back early
        return y;
    }

    public static Tensor Add(Tensor x, Tensor z) => AddScaled(x, 1f, z, 1f);
    public static Tensor Sub(Tensor x, Tensor z) => AddScaled(x, 1f, z, -1f);
    public static Tensor Scale(Tensor x, float a) => AddScaled(x, a, x, 0f);

    public static Tensor Mul(Tensor x, Tensor z)
    {
        SameCtx(x, z);
        if (x.Count != z.Count) throw new ArgumentException($"shapes {S(x.Shape)} and {S(z.Shape)} differ");
        var y = Tensor.Empty(x.Ctx, x.Shape);
        var be = x.Backend;
        be.Mul(x.Count, x.Buffer, z.Buffer, y.Buffer, false);
        if (Tape.ShouldRecord(x, z))
            Tape.Record(y, () =>
            {
                if (x.RequiresGrad) { var (g, acc) = x.GradSlot(); be.Mul(x.Count, y.Grad!.Buffer, z.Buffer, g.Buffer, acc); }
                if (z.RequiresGrad) { var (g, acc) = z.GradSlot(); be.Mul(z.Count, y.Grad!.Buffer, x.Buffer, g.Buffer, acc); }
            }, x, z);
        return y;
    }

    /// <summary>y[n, ...] = s[n] * x[n, ...] with constant per-sample scalars (no gradient to s).</summary>
    public static Tensor ScalePerSample(Tensor x, float[] s)
    {
        int n = x.Shape[0];
        if (s.Length != n) throw new ArgumentException($"{s.Length} scales for batch {n}");
        long inner = x.Count / n;
        var st = Tensor.From(x.Ctx, s, n);
        var y = Tensor.Empty(x.Ctx, x.Shape);
        var be = x.Backend;
        be.ScaleOuter(n, inner, st.Buffer, x.Buffer, y.Buffer, false);
        if (Tape.ShouldRecord(x))
            Tape.Record(y, () =>
            {
                var (g, acc) = x.GradSlot();
                be.ScaleOuter(n, inner, st.Buffer, y.Grad!.Buffer, g.Buffer, acc);
            }, x, st);
        return y;
    }

    /// <summary>y = act(x).</summary>
    public static Tensor Act(Tensor x, Activation act, float slope = 0f)
    {
        var y = Tensor.Empty(x.Ctx, x.Shape);
        var be = x.Backend;
        be.ActivationForward(act, slope, x.Count, x.Buffer, y.Buffer);
        if (Tape.ShouldRecord(x))
            Tape.Record(y, () =>
            {
                var (g, acc) = x.GradSlot();
                be.ActivationBackward(act, slope, x.Count, x.Buffer, y.Grad!.Buffer, g.Buffer, acc);
            }, x);
        return y;
    }

    public static Tensor Silu(Tensor x) => Act(x, Activation.SiLU);
    public static Tensor Gelu(Tensor x) => Act(x, Activation.Gelu);
    public static Tensor LeakyRelu(Tensor x, float slope) => Act(x, Activation.LeakyReLU, slope);
    public static Tensor Relu(Tensor x) => Act(x, Activation.ReLU);

    /// <summary>The geometry of x (convolved after a nearest x<paramref name="up"/> upsampling) with w [O, C, K, K]; pad &lt; 0
    /// means K / 2. Checks the ranks, the square kernel and the channel count.</summary>
    static ConvShape ConvShapeOf(Tensor x, Tensor w, int stride, int pad, int up)
    {
        SameCtx(x, w);
        if (x.Rank != 4 || w.Rank != 4 || w[2] != w[3]) throw new ArgumentException($"conv2d expects x [N,C,H,W] and w [O,C,K,K], got {S(x.Shape)} and {S(w.Shape)}");
        if (x[1] != w[1]) throw new ArgumentException($"conv2d: input has {x[1]} channels, weight expects {w[1]}");
        int k = w[2];
        return new ConvShape(x[0], x[1], up * x[2], up * x[3], w[0], k, stride, pad < 0 ? k / 2 : pad);
    }

    /// <summary>Conv2d, NCHW, weight [Cout, Cin, K, K], zero padding.</summary>
    public static Tensor Conv2d(Tensor x, Tensor w, Tensor? b, int stride = 1, int pad = -1)
    {
        var s = ConvShapeOf(x, w, stride, pad, 1);
        var y = Tensor.Empty(x.Ctx, x[0], w[0], s.OutH, s.OutW);
        var be = x.Backend;
        be.Conv2dForward(s, x.Buffer, w.Buffer, b?.Buffer, y.Buffer);
        if (Tape.ShouldRecord(x, w, b))
            Tape.Record(y, () =>
            {
                if (w.RequiresGrad || (b?.RequiresGrad ?? false))
                {
                    var gw = w.GradZeroed();
                    var gb = b is not null && b.RequiresGrad ? b.GradZeroed() : null;
                    be.Conv2dBackwardWeight(s, x.Buffer, y.Grad!.Buffer, gw.Buffer, gb?.Buffer);
                }
                if (x.RequiresGrad)
                {
                    var (g, acc) = x.GradSlot();
                    be.Conv2dBackwardData(s, y.Grad!.Buffer, w.Buffer, g.Buffer, acc);
                }
            }, x, w, b);
        return y;
    }

    /// <summary>Conv2d of the nearest x2 upsampling of x (stride 1): the same as Conv2d(UpsampleNearest2x(x), w, b). When no tape
    /// records, one backend op (<see cref="Backend.Conv2dUpsample2xForward"/>; the CPU never makes the upsampled map);
    /// otherwise the two ops, for their backward.</summary>
    public static Tensor UpsampleConv2d(Tensor x, Tensor w, Tensor? b, int pad = -1)
    {
        if (Tape.ShouldRecord(x, w, b))
        {
            using var u = UpsampleNearest2x(x);
            return Conv2d(u, w, b, 1, pad);
        }
        var s = ConvShapeOf(x, w, 1, pad, 2);
        var y = Tensor.Empty(x.Ctx, x[0], w[0], s.OutH, s.OutW);
        x.Backend.Conv2dUpsample2xForward(s, x.Buffer, w.Buffer, b?.Buffer, y.Buffer);
        return y;
    }

    /// <summary>act(Conv2d(x, w, b)): when no tape records, one backend op (<see cref="Backend.Conv2dActForward"/>; the CPU
    /// applies the bias and the activation in the GEMM's epilogue); otherwise the two ops, for their backward.</summary>
    public static Tensor Conv2dAct(Tensor x, Tensor w, Tensor? b, Activation act, int stride = 1, int pad = -1)
    {
        if (Tape.ShouldRecord(x, w, b))
        {
            using var c = Conv2d(x, w, b, stride, pad);
            return Act(c, act);
        }
        var s = ConvShapeOf(x, w, stride, pad, 1);
        var y = Tensor.Empty(x.Ctx, x[0], w[0], s.OutH, s.OutW);
        x.Backend.Conv2dActForward(s, x.Buffer, w.Buffer, b?.Buffer, y.Buffer, act, 0f);
        return y;
    }

    /// <summary>LeakyReLU written over x when no tape records it (inference): returns x itself, so a stage holds one tensor
    /// where it held input and output. With a tape, <see cref="LeakyRelu"/> (a new tensor; x is left as it is). The
    /// caller disposes x only when the result is another tensor.</summary>
    public static Tensor LeakyReluInPlace(Tensor x, float slope)
    {
        if (Tape.ShouldRecord(x) || x.Saved) return LeakyRelu(x, slope);
        x.Backend.ActivationForward(Activation.LeakyReLU, slope, x.Count, x.Buffer, x.Buffer);
        return x;
    }

    /// <summary>y = x W^T + b over the last axis; x [..., in], W [out, in].</summary>
    public static Tensor Linear(Tensor x, Tensor w, Tensor? b)
    {
        SameCtx(x, w);
        int inF = w[1], outF = w[0];
        if (x[-1] != inF) throw new ArgumentException($"linear: input {S(x.Shape)} does not end in {inF}");
        int rows = (int)(x.Count / inF);
        var shape = (int[])x.Shape.Clone(); shape[^1] = outF;
        var y = Tensor.Empty(x.Ctx, shape);
        var be = x.Backend;
        be.Gemm(false, true, rows, outF, inF, 1f, x.Buffer, 0, inF, 0, w.Buffer, 0, inF, 0, 0f, y.Buffer, 0, outF, 0, 1);
        if (b is not null) be.AddInner(rows, outF, b.Buffer, y.Buffer);
        if (Tape.ShouldRecord(x, w, b))
            Tape.Record(y, () =>
            {
                var dy = y.Grad!.Buffer;
                if (w.RequiresGrad)
                {
                    var (gw, acc) = w.GradSlot();
                    be.Gemm(true, false, outF, inF, rows, 1f, dy, 0, outF, 0, x.Buffer, 0, inF, 0, acc ? 1f : 0f, gw.Buffer, 0, inF, 0, 1);
                }
                if (b is not null && b.RequiresGrad) { var (gb, acc) = b.GradSlot(); be.SumRows(rows, outF, dy, gb.Buffer, acc); }
                if (x.RequiresGrad)
                {
                    var (gx, acc) = x.GradSlot();
                    be.Gemm(false, false, rows, inF, outF, 1f, dy, 0, outF, 0, w.Buffer, 0, inF, 0, acc ? 1f : 0f, gx.Buffer, 0, inF, 0, 1);
                }
            }, x, w, b);
        return y;
    }

    public static Tensor GroupNorm(Tensor x, int groups, Tensor gamma, Tensor beta, float eps)
    {
        int n = x[0], c = x[1];
        if (c % groups != 0) throw new ArgumentException($"group norm: {c} channels do not split into {groups} groups");
        int hw = (int)(x.Count / ((long)n * c));
        var y = Tensor.Empty(x.Ctx, x.Shape);
        var mean = Tensor.Empty(x.Ctx, n * groups);
        var rstd = Tensor.Empty(x.Ctx, n * groups);
        var be = x.Backend;
        be.GroupNormForward(n, c, hw, groups, eps, x.Buffer, gamma.Buffer, beta.Buffer, y.Buffer, mean.Buffer, rstd.Buffer);
        if (Tape.ShouldRecord(x, gamma, beta))
            Tape.Record(y, () =>
            {
                var gg = gamma.GradZeroed();
                var gb = beta.GradZeroed();
                // the kernel always produces dx; route it to a scratch tensor when x needs none
                var (gx, acc) = x.RequiresGrad ? x.GradSlot() : (Tensor.Empty(x.Ctx, x.Shape), false);
                be.GroupNormBackward(n, c, hw, groups, x.Buffer, gamma.Buffer, mean.Buffer, rstd.Buffer, y.Grad!.Buffer, gx.Buffer, acc, gg.Buffer, gb.Buffer);
            }, x, gamma, beta, mean, rstd);
        else { mean.Dispose(); rstd.Dispose(); }
        return y;
    }

    /// <summary>
    /// y = SiLU(GroupNorm(x)). Without a tape (inference) one fused op: the normalised tensor is neither written nor read
    /// back. With a tape, the two recorded ops, whose backward needs the normalised tensor anyway.
    /// </summary>
    public static Tensor GroupNormSilu(Tensor x, int groups, Tensor gamma, Tensor beta, float eps)
    {
        if (Tape.ShouldRecord(x, gamma, beta))
        {
            using var nrm = GroupNorm(x, groups, gamma, beta, eps);
            return Silu(nrm);
        }
        int n = x[0], c = x[1];
        if (c % groups != 0) throw new ArgumentException($"group norm: {c} channels do not split into {groups} groups");
        int hw = (int)(x.Count / ((long)n * c));
        var y = Tensor.Empty(x.Ctx, x.Shape);
        using var mean = Tensor.Empty(x.Ctx, n * groups);
        using var rstd = Tensor.Empty(x.Ctx, n * groups);
        x.Backend.GroupNormSiluForward(n, c, hw, groups, eps, x.Buffer, gamma.Buffer, beta.Buffer, y.Buffer, mean.Buffer, rstd.Buffer);
        return y;
    }

    /// <summary>y[n, c, :] = x[n, c, :] + v[n, c] (a per-sample, per-channel offset).</summary>
    public static Tensor AddPerChannel(Tensor x, Tensor v)
    {
        int nc = x[0] * x[1];
        if (v.Count != nc) throw new ArgumentException($"per-channel offset of {v.Count} values for {S(x.Shape)}");
        long inner = x.Count / nc;
        var y = x.Detach();
        var be = x.Backend;
        be.AddOuter(nc, inner, v.Buffer, y.Buffer);
        if (Tape.ShouldRecord(x, v))
            Tape.Record(y, () =>
            {
                if (x.RequiresGrad) PassThrough(x, y.Grad!);
                if (v.RequiresGrad) { var (g, acc) = v.GradSlot(); be.SumInner(nc, inner, y.Grad!.Buffer, g.Buffer, acc); }
            }, x, v);
        return y;
    }

    /// <summary>x.grad (=/+=) dy, for ops whose derivative is the identity.</summary>
    static void PassThrough(Tensor x, Tensor dy)
    {
        var (g, acc) = x.GradSlot();
        if (acc) x.Backend.AddScaled(x.Count, 1f, g.Buffer, 1f, dy.Buffer, g.Buffer);
        else x.Backend.AddScaled(x.Count, 1f, dy.Buffer, 0f, dy.Buffer, g.Buffer);
    }

    public static Tensor AvgPool2x2(Tensor x)
    {
        int nc = x[0] * x[1], h = x[2], w = x[3];
        if (h % 2 != 0 || w % 2 != 0) throw new ArgumentException($"2x2 average pooling needs even sizes, got {h}x{w}");
        var y = Tensor.Empty(x.Ctx, x[0], x[1], h / 2, w / 2);
        var be = x.Backend;
        be.AvgPool2x2(nc, h, w, x.Buffer, y.Buffer);
        if (Tape.ShouldRecord(x))
            Tape.Record(y, () => { var (g, acc) = x.GradSlot(); be.AvgPool2x2Backward(nc, h, w, y.Grad!.Buffer, g.Buffer, acc); }, x);
        return y;
    }

    public static Tensor UpsampleNearest2x(Tensor x)
    {
        int nc = x[0] * x[1], h = x[2], w = x[3];
        var y = Tensor.Empty(x.Ctx, x[0], x[1], 2 * h, 2 * w);
        var be = x.Backend;
        be.UpsampleNearest2x(nc, h, w, x.Buffer, y.Buffer);
        if (Tape.ShouldRecord(x))
            Tape.Record(y, () => { var (g, acc) = x.GradSlot(); be.UpsampleNearest2xBackward(nc, h, w, y.Grad!.Buffer, g.Buffer, acc); }, x);
        return y;
    }

    public static Tensor MaxPool2d(Tensor x, int k, int s)
    {
        int nc = x[0] * x[1], h = x[2], w = x[3];
        var y = Tensor.Empty(x.Ctx, x[0], x[1], (h - k) / s + 1, (w - k) / s + 1);
        var be = x.Backend;
        be.MaxPool2d(nc, h, w, k, s, x.Buffer, y.Buffer);
        if (Tape.ShouldRecord(x))
            Tape.Record(y, () => { var (g, acc) = x.GradSlot(); be.MaxPool2dBackward(nc, h, w, k, s, x.Buffer, y.Grad!.Buffer, g.Buffer, acc); }, x);
        return y;
    }

    /// <summary>
    /// A permutation of elements: iterates <paramref name="iter"/> and copies x[sum i*srcStrides] to
    /// y[sum i*dstStrides]; y has shape <paramref name="outShape"/>. Backward is the same walk reversed.
    /// </summary>
    public static Tensor Permute(Tensor x, int[] iter, long[] srcStrides, long[] dstStrides, int[] outShape)
    {
        var y = Tensor.Empty(x.Ctx, outShape);
        if (y.Count != x.Count) throw new ArgumentException("permute must keep the element count");
        var be = x.Backend;
        be.CopyStrided(iter, x.Buffer, 0, srcStrides, y.Buffer, 0, dstStrides, false);
        if (Tape.ShouldRecord(x))
            Tape.Record(y, () =>
            {
                var (g, acc) = x.GradSlot();
                be.CopyStrided(iter, y.Grad!.Buffer, 0, dstStrides, g.Buffer, 0, srcStrides, acc);
            }, x);
        return y;
    }

    /// <summary>PixelUnshuffle: [N, C, rH, rW] -> [N, C r^2, H, W], out[c r^2 + i r + j, h, w] = in[c, r h + i, r w + j].</summary>
    public static Tensor PixelUnshuffle(Tensor x, int r)
    {
        int n = x[0], c = x[1], H = x[2], W = x[3];
        if (H % r != 0 || W % r != 0) throw new ArgumentException($"pixel unshuffle by {r} needs sizes divisible by {r}, got {H}x{W}");
        int h = H / r, w = W / r;
        return Permute(x, [n, c, r, r, h, w],
            [(long)c * H * W, (long)H * W, W, 1, (long)r * W, r],
            [(long)c * r * r * h * w, (long)r * r * h * w, (long)r * h * w, (long)h * w, w, 1],
            [n, c * r * r, h, w]);
    }

    /// <summary>Concatenates NCHW tensors along the channel axis (first tensor first).</summary>
    public static Tensor ConcatChannels(Tensor a, Tensor b)
    {
        SameCtx(a, b);
        int n = a[0], ca = a[1], cb = b[1];
        long hw = a.Count / ((long)n * ca);
        if (b[0] != n || b.Count / ((long)n * cb) != hw) throw new ArgumentException($"cannot concatenate {S(a.Shape)} and {S(b.Shape)} along channels");
        var shape = (int[])a.Shape.Clone(); shape[1] = ca + cb;
        var y = Tensor.Empty(a.Ctx, shape);
        var be = a.Backend;
        long yc = (long)(ca + cb) * hw;
        be.CopyStrided([n, (int)(ca * hw)], a.Buffer, 0, [ca * hw, 1], y.Buffer, 0, [yc, 1], false);
        be.CopyStrided([n, (int)(cb * hw)], b.Buffer, 0, [cb * hw, 1], y.Buffer, ca * hw, [yc, 1], false);
        if (Tape.ShouldRecord(a, b))
            Tape.Record(y, () =>
            {
                if (a.RequiresGrad) { var (g, acc) = a.GradSlot(); be.CopyStrided([n, (int)(ca * hw)], y.Grad!.Buffer, 0, [yc, 1], g.Buffer, 0, [ca * hw, 1], acc); }
                if (b.RequiresGrad) { var (g, acc) = b.GradSlot(); be.CopyStrided([n, (int)(cb * hw)], y.Grad!.Buffer, ca * hw, [yc, 1], g.Buffer, 0, [cb * hw, 1], acc); }
            }, a, b);
        return y;
    }

    /// <summary>Inverted dropout with a Philox mask recomputed in backward (nothing stored).</summary>
    public static Tensor Dropout(Tensor x, float p, ulong seed, ulong offset)
    {
        if (p <= 0f) return x;
        var y = Tensor.Empty(x.Ctx, x.Shape);
        var be = x.Backend;
        be.Dropout(x.Count, p, seed, offset, x.Buffer, y.Buffer);
        if (Tape.ShouldRecord(x))
            Tape.Record(y, () => { var (g, acc) = x.GradSlot(); be.DropoutBackward(x.Count, p, seed, offset, y.Grad!.Buffer, g.Buffer, acc); }, x);
        return y;
    }

    /// <summary>Sum of all elements, as a one-element tensor.</summary>
    public static Tensor Sum(Tensor x)
    {
        var y = Tensor.Empty(x.Ctx, 1);
        var be = x.Backend;
        be.SumInner(1, x.Count, x.Buffer, y.Buffer, false);
        if (Tape.ShouldRecord(x))
            Tape.Record(y, () =>
            {
                var (g, acc) = x.GradSlot();
                using var ones = Tensor.Full(x.Ctx, 1f, x.Shape);
                be.ScaleOuter(1, x.Count, y.Grad!.Buffer, ones.Buffer, g.Buffer, acc);
            }, x);
        return y;
    }

    public static Tensor Mean(Tensor x)
    {
        using var s = Sum(x);
        return Scale(s, 1f / x.Count);
    }

    /// <summary>Per-sample sum over all but the first axis: [N, ...] -> [N].</summary>
    public static Tensor SumPerSample(Tensor x)
    {
        int n = x[0];
        long inner = x.Count / n;
        var y = Tensor.Empty(x.Ctx, n);
        var be = x.Backend;
        be.SumInner(n, inner, x.Buffer, y.Buffer, false);
        if (Tape.ShouldRecord(x))
            Tape.Record(y, () =>
            {
                var (g, acc) = x.GradSlot();
                using var ones = Tensor.Full(x.Ctx, 1f, x.Shape);
                be.ScaleOuter(n, inner, y.Grad!.Buffer, ones.Buffer, g.Buffer, acc);
            }, x);
        return y;
    }

    /// <summary>Elementwise sqrt((a-b)^2 + eps); the gradient flows to a only when b does not require one, and to both otherwise.</summary>
    public static Tensor Charbonnier(Tensor a, Tensor b, float eps = 1e-12f)
    {
        SameCtx(a, b);
        var y = Tensor.Empty(a.Ctx, a.Shape);
        var be = a.Backend;
        be.CharbonnierForward(a.Count, eps, a.Buffer, b.Buffer, y.Buffer);
        if (Tape.ShouldRecord(a, b))
            Tape.Record(y, () =>
            {
                if (a.RequiresGrad) { var (g, acc) = a.GradSlot(); be.CharbonnierBackward(a.Count, eps, a.Buffer, b.Buffer, y.Grad!.Buffer, g.Buffer, acc); }
                if (b.RequiresGrad) { var (g, acc) = b.GradSlot(); be.CharbonnierBackward(b.Count, eps, b.Buffer, a.Buffer, y.Grad!.Buffer, g.Buffer, acc); }
            }, a, b);
        return y;
    }
}
