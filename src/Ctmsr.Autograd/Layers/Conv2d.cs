using Ctmsr.Kernels;

namespace Ctmsr.Autograd;

/// <summary>2-D convolution (PyTorch nn.Conv2d): parameters "weight" [cout, cin, k, k] and "bias" [cout]; square kernel,
/// equal stride and zero padding on both axes (padding k/2 by default, which keeps the size at stride 1).</summary>
public class Conv2d : Module
{
    public Tensor Weight { get; }
    public Tensor? Bias { get; }
    public int K { get; }
    public int Stride { get; }
    public int Padding { get; }

    public Conv2d(Context ctx, int cin, int cout, int k, int stride = 1, int? padding = null, bool bias = true) : base(ctx)
    {
        K = k; Stride = stride; Padding = padding ?? k / 2;
        Weight = RegisterParameter("weight", cout, cin, k, k);
        if (bias) Bias = RegisterParameter("bias", cout);
    }

    public Tensor Forward(Tensor x) => F.Conv2d(x, Weight, Bias, Stride, Padding);

    /// <summary>act(this convolution of x) (<see cref="F.Conv2dAct"/>: one op at inference).</summary>
    public Tensor ForwardAct(Tensor x, Activation act) => F.Conv2dAct(x, Weight, Bias, act, Stride, Padding);

    /// <summary>This convolution of the nearest x2 upsampling of x (stride 1; <see cref="F.UpsampleConv2d"/>).</summary>
    public Tensor ForwardUpsampled(Tensor x) =>
        Stride == 1 ? F.UpsampleConv2d(x, Weight, Bias, Padding) : throw new InvalidOperationException($"an upsampled convolution needs stride 1, this one has {Stride}");
}
