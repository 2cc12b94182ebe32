namespace Ctmsr.Autograd;

/// <summary>y = x W^T + b over the last axis (PyTorch nn.Linear): "weight" [out, in], "bias" [out].</summary>
public sealed class Linear : Module
{
    public Tensor Weight { get; }
    public Tensor? Bias { get; }

    public Linear(Context ctx, int inFeatures, int outFeatures, bool bias = true) : base(ctx)
    {
        Weight = RegisterParameter("weight", outFeatures, inFeatures);
        if (bias) Bias = RegisterParameter("bias", outFeatures);
    }

    public Tensor Forward(Tensor x) => F.Linear(x, Weight, Bias);
}
