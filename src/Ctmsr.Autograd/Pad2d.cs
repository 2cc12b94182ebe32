namespace Ctmsr.Autograd;

public static partial class F
{
    /// <summary>
    /// Constant padding of the two spatial axes of x [N, C, H, W]: <paramref name="top"/>/<paramref name="bottom"/> rows
    /// and <paramref name="left"/>/<paramref name="right"/> columns of <paramref name="value"/> (zero for a convolution,
    /// -infinity for a max pool). Asymmetric padding is what ONNX graphs exported from CNTK and TensorFlow carry.
    /// Backward: the gradient of the interior, copied back (the padding has none).
    /// </summary>
    public static Tensor Pad2d(Tensor x, int top, int left, int bottom, int right, float value)
    {
        if (x.Rank != 4) throw new ArgumentException($"pad2d expects [N, C, H, W], got {S(x.Shape)}");
        if (top < 0 || left < 0 || bottom < 0 || right < 0) throw new ArgumentException($"pad2d: negative padding ({top}, {left}, {bottom}, {right})");
        int nc = x[0] * x[1], h = x[2], w = x[3];
        int oh = h + top + bottom, ow = w + left + right;
        var y = Tensor.Empty(x.Ctx, x[0], x[1], oh, ow);
        var be = x.Backend;
        be.Fill(y.Buffer, value, 0, y.Count);
        long interior = (long)top * ow + left;
        int[] iter = [nc, h, w];
        long[] xs = [(long)h * w, w, 1], ys = [(long)oh * ow, ow, 1];
        be.CopyStrided(iter, x.Buffer, 0, xs, y.Buffer, interior, ys, false);
        if (Tape.ShouldRecord(x))
            Tape.Record(y, () =>
            {
                var (g, acc) = x.GradSlot();
                be.CopyStrided(iter, y.Grad!.Buffer, interior, ys, g.Buffer, 0, xs, acc);
            }); // a copy: x's values are not needed for the backward
        return y;
    }
}
