namespace Ctmsr.Autograd;

/// <summary>Group normalisation over NCHW (PyTorch nn.GroupNorm, affine): "weight" and "bias" [channels].</summary>
public sealed class GroupNorm : Module
{
    public Tensor Weight { get; }
    public Tensor Bias { get; }
    public int Groups { get; }
    public float Eps { get; }

    public GroupNorm(Context ctx, int channels, int groups, float eps = 1e-5f) : base(ctx)
    {
        Groups = groups; Eps = eps;
        Weight = RegisterParameter("weight", channels);
        Bias = RegisterParameter("bias", channels);
    }

    public Tensor Forward(Tensor x) => F.GroupNorm(x, Groups, Weight, Bias, Eps);

    /// <summary>SiLU(Forward(x)), one fused op at inference (see <see cref="F.GroupNormSilu"/>).</summary>
    public Tensor ForwardSilu(Tensor x) => F.GroupNormSilu(x, Groups, Weight, Bias, Eps);
}
