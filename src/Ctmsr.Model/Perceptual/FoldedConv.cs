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
