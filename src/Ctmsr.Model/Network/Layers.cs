using Ctmsr.Autograd;

namespace Ctmsr.Model.Network;

/// <summary>Conv2d with bias; stride 1, zero padding k/2 (as every conv of the network).</summary>
public sealed class Conv2dLayer : Module
{
    public Tensor Weight { get; }
    public Tensor Bias { get; }
    public int K { get; }

    /// <param name="resampleFilter">Registers EDM's [1,1,2,2] fp16 resample_filter buffer (all 0.25) that up/down convs carry
    /// in the official state dict; the compute itself does pooling / nearest upsampling without it.</param>
    public Conv2dLayer(Context ctx, int cin, int cout, int k, bool resampleFilter = false) : base(ctx)
    {
        K = k;
        Weight = RegisterParameter("weight", cout, cin, k, k);
        Bias = RegisterParameter("bias", cout);
        if (resampleFilter) RegisterBuffer("resample_filter", [0.25f, 0.25f, 0.25f, 0.25f], "F16", 1, 1, 2, 2);
    }

    public Tensor Forward(Tensor x) => F.Conv2d(x, Weight, Bias, 1, K / 2);
}

public sealed class LinearLayer : Module
{
    public Tensor Weight { get; }
    public Tensor Bias { get; }

    public LinearLayer(Context ctx, int inF, int outF) : base(ctx)
    {
        Weight = RegisterParameter("weight", outF, inF);
        Bias = RegisterParameter("bias", outF);
    }

    public Tensor Forward(Tensor x) => F.Linear(x, Weight, Bias);
}

public sealed class GroupNormLayer : Module
{
    public Tensor Weight { get; }
    public Tensor Bias { get; }
    public int Groups { get; }
    public float Eps { get; }

    public GroupNormLayer(Context ctx, int channels, int groups, float eps) : base(ctx)
    {
        Groups = groups; Eps = eps;
        Weight = RegisterParameter("weight", channels);
        Bias = RegisterParameter("bias", channels);
    }

    public Tensor Forward(Tensor x) => F.GroupNorm(x, Groups, Weight, Bias, Eps);
}
