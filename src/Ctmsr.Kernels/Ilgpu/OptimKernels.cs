using ILGPU;

namespace Ctmsr.Kernels.Ilgpu;

/// <summary>
/// AdamW (PyTorch, decoupled weight decay), grid-stride over the parameters:
/// m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2, p = p decay - stepSize m / (sqrt(v) / bc2Sqrt + eps), with
/// decay = 1 - lr wd, stepSize = lr / (1 - b1^t), bc2Sqrt = sqrt(1 - b2^t) computed on the host in float32 (as on the CPU).
/// </summary>
static class OptimKernels
{
    public struct Args { public long N; public float Beta1, Beta2, Eps, StepSize, Bc2Sqrt, Decay; }

    [IlgpuKernel]
    public static void AdamW(ArrayView<float> p, ArrayView<float> g, ArrayView<float> m, ArrayView<float> v, Args a)
    {
        for (long i = Grid.GlobalIndex.X; i < a.N; i += (long)Grid.DimX * Group.DimX)
        {
            float gi = g[i];
            float mi = a.Beta1 * m[i] + (1f - a.Beta1) * gi, vi = a.Beta2 * v[i] + (1f - a.Beta2) * gi * gi;
            m[i] = mi;
            v[i] = vi;
            p[i] = p[i] * a.Decay - a.StepSize * mi / (MathF.Sqrt(vi) / a.Bc2Sqrt + a.Eps);
        }
    }
}

public sealed partial class IlgpuBackend
{
    public override void AdamWStep(long count, DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v,
        float lr, float beta1, float beta2, float eps, float weightDecay, int step)
    {
        if (count == 0) return;
        float bc1 = 1f - MathF.Pow(beta1, step), bc2Sqrt = MathF.Sqrt(1f - MathF.Pow(beta2, step));
        Launch(OptimKernels.AdamW, Linear(count), V(param), V(grad), V(m), V(v), new OptimKernels.Args
        {
            N = count, Beta1 = beta1, Beta2 = beta2, Eps = eps, StepSize = lr / bc1, Bc2Sqrt = bc2Sqrt, Decay = 1f - lr * weightDecay,
        });
    }
}
