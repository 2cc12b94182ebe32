using Ctmsr.Model.Checkpoints;
using Ctmsr.Model.Lpips;

namespace Ctmsr.Tests.Metrics;

/// <summary>
/// The backbone weights of the ops.safetensors LPIPS fixtures, from the formula in its metadata
/// (lpips.backbone_weights): for conv layer l (forward order) and flat index k,
/// h(k, l, o) = frac(sin(k*12.9898 + l*78.233 + o) * 43758.5453) in float64,
/// weight = sqrt(2/fan_in) sqrt(3) (2 h(k,l,0) - 1), bias = 0.01 (2 h(k,l,0.5) - 1), cast to float32.
/// </summary>
public static class LpipsFormulaWeights
{
    static double H(long k, int l, double o)
    {
        double v = Math.Sin(k * 12.9898 + l * 78.233 + o) * 43758.5453;
        return v - Math.Floor(v);
    }

    public static Dictionary<string, HostTensor> Build(LpipsBackbone backbone)
    {
        var sd = new Dictionary<string, HostTensor>();
        int l = 0;
        foreach (var c in LpipsLayout.Convs(backbone))
        {
            int fanIn = c.Cin * c.K * c.K;
            double amp = Math.Sqrt(2.0 / fanIn) * Math.Sqrt(3.0);
            var w = new float[(long)c.Cout * fanIn];
            int layer = l;
            Parallel.For(0, w.Length, k => w[k] = (float)(amp * (2 * H(k, layer, 0) - 1)));
            var b = new float[c.Cout];
            for (int k = 0; k < b.Length; k++) b[k] = (float)(0.01 * (2 * H(k, l, 0.5) - 1));
            sd[c.WeightKey] = HostTensor.FromFloats(w, c.Cout, c.Cin, c.K, c.K);
            sd[c.BiasKey] = HostTensor.FromFloats(b, c.Cout);
            l++;
        }
        return sd;
    }
}
