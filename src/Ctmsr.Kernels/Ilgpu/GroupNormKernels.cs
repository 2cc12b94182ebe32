using ILGPU;
using static Ctmsr.Kernels.Ilgpu.KernelMath;

namespace Ctmsr.Kernels.Ilgpu;

/// <summary>
/// GroupNorm over x [n, c, hw] with `groups` groups of cg = c / groups channels: each (sample, group) is one contiguous
/// block of cg hw floats. mu, var over the block (biased, two passes), rstd = 1 / sqrt(var + eps),
/// y = (x - mu) rstd gamma + beta. Backward: dx (=/+=) rstd (dy gamma - mean(dy gamma) - xhat mean(dy gamma xhat));
/// dgamma += sum dy xhat, dbeta += sum dy (parameter gradients accumulate).
/// One group of <see cref="IlgpuBackend.Red"/> threads per (sample, group), resp. per channel; fixed-tree sums.
/// </summary>
static class GroupNormKernels
{
    public struct Args { public int N, C, Hw, Groups, Accumulate; public float Eps; }

    [IlgpuKernel]
    public static void Forward(ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> y,
        ArrayView<float> mean, ArrayView<float> rstd, Args a)
    {
        var red = SharedMemory.Allocate<float>(IlgpuBackend.Red);
        int sg = Grid.IdxX, g = sg % a.Groups, cg = a.C / a.Groups;
        long cnt = (long)cg * a.Hw, baseAt = ((long)(sg / a.Groups) * a.C + (long)g * cg) * a.Hw;
        float s = 0f;
        for (long i = Group.IdxX; i < cnt; i += Group.DimX) s += x[baseAt + i];
        float mu = GroupSum(red, s) / cnt;
        s = 0f;
        for (long i = Group.IdxX; i < cnt; i += Group.DimX) { float d = x[baseAt + i] - mu; s += d * d; }
        float var = GroupSum(red, s) / cnt;
        float r = 1f / MathF.Sqrt(var + a.Eps);
        if (Group.IdxX == 0) { mean[sg] = mu; rstd[sg] = r; }
        for (long i = Group.IdxX; i < cnt; i += Group.DimX)
        {
            int ch = g * cg + (int)(i / a.Hw);
            y[baseAt + i] = (x[baseAt + i] - mu) * r * gamma[ch] + beta[ch];
        }
    }

    [IlgpuKernel]
    public static void BackwardData(ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> mean, ArrayView<float> rstd,
        ArrayView<float> dy, ArrayView<float> dx, Args a)
    {
        var red = SharedMemory.Allocate<float>(IlgpuBackend.Red);
        int sg = Grid.IdxX, g = sg % a.Groups, cg = a.C / a.Groups;
        long cnt = (long)cg * a.Hw, baseAt = ((long)(sg / a.Groups) * a.C + (long)g * cg) * a.Hw;
        float mu = mean[sg], r = rstd[sg];
        float s1 = 0f, s2 = 0f;
        for (long i = Group.IdxX; i < cnt; i += Group.DimX)
        {
            float dg = dy[baseAt + i] * gamma[g * cg + (int)(i / a.Hw)];
            s1 += dg;
            s2 += dg * (x[baseAt + i] - mu) * r;
        }
        float m1 = GroupSum(red, s1) / cnt, m2 = GroupSum(red, s2) / cnt;
        for (long i = Group.IdxX; i < cnt; i += Group.DimX)
        {
            float xhat = (x[baseAt + i] - mu) * r;
            float v = r * (dy[baseAt + i] * gamma[g * cg + (int)(i / a.Hw)] - m1 - xhat * m2);
            dx[baseAt + i] = a.Accumulate != 0 ? dx[baseAt + i] + v : v;
        }
    }

    /// <summary>One group per channel: dgamma[ch] += sum_{s, i} dy xhat, dbeta[ch] += sum dy.</summary>
    [IlgpuKernel]
    public static void BackwardParams(ArrayView<float> x, ArrayView<float> mean, ArrayView<float> rstd, ArrayView<float> dy,
        ArrayView<float> dgamma, ArrayView<float> dbeta, Args a)
    {
        var red = SharedMemory.Allocate<float>(IlgpuBackend.Red);
        int ch = Grid.IdxX, g = ch / (a.C / a.Groups);
        float sgm = 0f, sb = 0f;
        for (int s = 0; s < a.N; s++)
        {
            long baseAt = ((long)s * a.C + ch) * a.Hw;
            float mu = mean[s * a.Groups + g], r = rstd[s * a.Groups + g];
            for (int i = Group.IdxX; i < a.Hw; i += Group.DimX)
            {
                float d = dy[baseAt + i];
                sgm += d * (x[baseAt + i] - mu) * r;
                sb += d;
            }
        }
        sgm = GroupSum(red, sgm);
        sb = GroupSum(red, sb);
        if (Group.IdxX == 0) { dgamma[ch] += sgm; dbeta[ch] += sb; }
    }
}

public sealed partial class IlgpuBackend
{
    public override void GroupNormForward(int n, int c, int hw, int groups, float eps,
        DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta, DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd)
    {
        if (n * groups == 0) return;
        Launch(GroupNormKernels.Forward, PerItem(n * groups), V(x), V(gamma), V(beta), V(y), V(mean), V(rstd),
            new GroupNormKernels.Args { N = n, C = c, Hw = hw, Groups = groups, Eps = eps });
    }

    public override void GroupNormBackward(int n, int c, int hw, int groups,
        DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer mean, DeviceBuffer rstd, DeviceBuffer dy,
        DeviceBuffer dx, bool accumulate, DeviceBuffer dgamma, DeviceBuffer dbeta)
    {
        if (n * groups == 0) return;
        var args = new GroupNormKernels.Args { N = n, C = c, Hw = hw, Groups = groups, Accumulate = Flag(accumulate) };
        Launch(GroupNormKernels.BackwardData, PerItem(n * groups), V(x), V(gamma), V(mean), V(rstd), V(dy), V(dx), args);
        Launch(GroupNormKernels.BackwardParams, PerItem(c), V(x), V(mean), V(rstd), V(dy), V(dgamma), V(dbeta), args);
    }
}
