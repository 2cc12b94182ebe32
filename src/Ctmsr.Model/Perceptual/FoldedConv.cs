using Ctmsr.Autograd;

namespace Ctmsr.Model.Perceptual;

/// <summary>
/// A convolution whose BatchNorm is folded into its weight and bias at load (inference statistics are constants:
/// y = gamma (conv(x) - mean) / sqrt(var + eps) + beta = conv'(x) + b'), with ONNX's separate begin/end padding.
/// Fixed weights: they never take gradients (the network is a loss, not a model being trained).
/// </summary>
public sealed class FoldedConv : Module
{
    public Tensor Weight { get; }
    public Tensor Bias { get; }
    public int K { get; }
    public int Stride { get; }
    /// <summary>Zero rows/columns before (top, left) and after (bottom, right) the image; torchvision uses K/2 on both sides.</summary>
    public int PadBegin { get; set; }
    public int PadEnd { get; set; }

    public FoldedConv(Context ctx, int cin, int cout, int k, int stride) : base(ctx)
    {
        K = k; Stride = stride; PadBegin = PadEnd = k / 2;
        Weight = RegisterParameter("weight", cout, cin, k, k);
        Bias = RegisterParameter("bias", cout);
        Weight.RequiresGrad = false; Bias.RequiresGrad = false;
    }

    public Tensor Forward(Tensor x) => Padding.Conv(x, Weight, Bias, Stride, PadBegin, PadEnd);
}

/// <summary>Convolution and max pooling with (begin, end) padding, on the symmetric kernels where that is exact.</summary>
public static class Padding
{
    static int Out(int n, int k, int s, int begin, int end) => (n + begin + end - k) / s + 1;

    /// <summary>
    /// Symmetric padding by <paramref name="begin"/> reads the same windows as (begin, end) when it gives as many
    /// outputs and end &lt;= begin: the windows start at the same places and the extra rows are never reached.
    /// </summary>
    public static bool SymmetricIsExact(int h, int w, int k, int s, int begin, int end) =>
        begin == end || (end <= begin && Out(h, k, s, begin, begin) == Out(h, k, s, begin, end) && Out(w, k, s, begin, begin) == Out(w, k, s, begin, end));

    public static Tensor Conv(Tensor x, Tensor w, Tensor b, int stride, int begin, int end)
    {
        int k = w[2];
        if (SymmetricIsExact(x[2], x[3], k, stride, begin, end)) return F.Conv2d(x, w, b, stride, begin);
        using var p = F.Pad2d(x, begin, begin, end, end, 0f);
        return F.Conv2d(p, w, b, stride, 0);
    }

    /// <summary>Max pool k x k, stride s, padded with -infinity (ONNX MaxPool: padding never wins).</summary>
    public static Tensor MaxPool(Tensor x, int k, int stride, int begin, int end)
    {
        if (begin == 0 && end == 0) return F.MaxPool2d(x, k, stride);
        using var p = F.Pad2d(x, begin, begin, end, end, float.NegativeInfinity);
        return F.MaxPool2d(p, k, stride);
    }
}
