using Ctmsr.Autograd;

namespace Ctmsr.Model.Network;

/// <summary>EDM's Conv2d on an up/down path: a plain 3x3 or 1x1 convolution that also carries the [1,1,2,2] fp16
/// resample_filter buffer (all 0.25) of the official state dict; the compute does the pooling / nearest upsampling
/// without it.</summary>
public sealed class ResampleConv2d : Conv2d
{
    public ResampleConv2d(Context ctx, int cin, int cout, int k) : base(ctx, cin, cout, k)
        => RegisterBuffer("resample_filter", [0.25f, 0.25f, 0.25f, 0.25f], "F16", 1, 1, 2, 2);
}
