using ILGPU;

namespace Ctmsr.Kernels.Ilgpu;

/// <summary>
/// Pooling and nearest upsampling over planes [nc, h, w]; one thread per output element (grid-stride).
/// Backward ops gather (each dx element sums the dy entries that read it), so no atomics are needed.
/// MaxPool's backward routes dy to the first maximum of each window in row-major order (PyTorch's tie rule).
/// </summary>
static class PoolKernels
{
    public struct Args { public int Nc, H, W, K, S, Accumulate; }

    static long Start => Grid.GlobalIndex.X;
    static long Step => (long)Grid.DimX * Group.DimX;

    [IlgpuKernel]
    public static void AvgPool(ArrayView<float> x, ArrayView<float> y, Args a)
    {
        int oh = a.H / 2, ow = a.W / 2;
        long n = (long)a.Nc * oh * ow;
        for (long o = Start; o < n; o += Step)
        {
            long p = o / (oh * ow);
            int r = (int)(o % (oh * ow)), i = r / ow, j = r % ow;
            long b = (p * a.H + 2 * i) * a.W + 2 * j;
            y[o] = 0.25f * (x[b] + x[b + 1] + x[b + a.W] + x[b + a.W + 1]);
        }
    }

    [IlgpuKernel]
    public static void AvgPoolBackward(ArrayView<float> dy, ArrayView<float> dx, Args a)
    {
        int oh = a.H / 2, ow = a.W / 2;
        long n = (long)a.Nc * a.H * a.W;
        for (long o = Start; o < n; o += Step)
        {
            long p = o / (a.H * a.W);
            int r = (int)(o % (a.H * a.W)), i = r / a.W, j = r % a.W;
            float g = 0.25f * dy[(p * oh + i / 2) * ow + j / 2];
            dx[o] = a.Accumulate != 0 ? dx[o] + g : g;
        }
    }

    [IlgpuKernel]
    public static void Upsample(ArrayView<float> x, ArrayView<float> y, Args a)
    {
        long n = 4L * a.Nc * a.H * a.W;
        for (long o = Start; o < n; o += Step)
        {
            long p = o / (4 * a.H * a.W);
            int r = (int)(o % (4 * a.H * a.W)), i = r / (2 * a.W), j = r % (2 * a.W);
            y[o] = x[(p * a.H + i / 2) * a.W + j / 2];
        }
    }

    [IlgpuKernel]
    public static void UpsampleBackward(ArrayView<float> dy, ArrayView<float> dx, Args a)
    {
        long n = (long)a.Nc * a.H * a.W;
        for (long o = Start; o < n; o += Step)
        {
            long p = o / (a.H * a.W);
            int r = (int)(o % (a.H * a.W)), i = r / a.W, j = r % a.W;
            long b = (p * 2 * a.H + 2 * i) * 2 * a.W + 2 * j;
            float g = dy[b] + dy[b + 1] + dy[b + 2 * a.W] + dy[b + 2 * a.W + 1];
            dx[o] = a.Accumulate != 0 ? dx[o] + g : g;
        }
    }

    [IlgpuKernel]
    public static void MaxPool(ArrayView<float> x, ArrayView<float> y, Args a)
    {
        int oh = (a.H - a.K) / a.S + 1, ow = (a.W - a.K) / a.S + 1;
        long n = (long)a.Nc * oh * ow;
        for (long o = Start; o < n; o += Step)
        {
            long p = o / (oh * ow);
            int r = (int)(o % (oh * ow)), i = r / ow, j = r % ow;
            float m = float.NegativeInfinity;
            for (int u = 0; u < a.K; u++)
                for (int v = 0; v < a.K; v++)
                {
                    float val = x[(p * a.H + i * a.S + u) * a.W + j * a.S + v];
                    m = val > m ? val : m;
                }
            y[o] = m;
        }
    }

    /// <summary>dx[p, yy, xx] = sum of dy over the windows whose first maximum (row-major scan) is (yy, xx).</summary>
    [IlgpuKernel]
    public static void MaxPoolBackward(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx, Args a)
    {
        int oh = (a.H - a.K) / a.S + 1, ow = (a.W - a.K) / a.S + 1;
        long n = (long)a.Nc * a.H * a.W;
        for (long o = Start; o < n; o += Step)
        {
            long p = o / (a.H * a.W);
            int r = (int)(o % (a.H * a.W)), yy = r / a.W, xx = r % a.W;
            int i0 = yy - a.K + 1 > 0 ? (yy - a.K + a.S) / a.S : 0, j0 = xx - a.K + 1 > 0 ? (xx - a.K + a.S) / a.S : 0;
            int i1 = yy / a.S < oh - 1 ? yy / a.S : oh - 1, j1 = xx / a.S < ow - 1 ? xx / a.S : ow - 1;
            float g = 0f;
            for (int i = i0; i <= i1; i++)
                for (int j = j0; j <= j1; j++)
                {
                    float m = float.NegativeInfinity;
                    int at = -1;
                    for (int u = 0; u < a.K; u++)
                        for (int v = 0; v < a.K; v++)
                        {
                            float val = x[(p * a.H + i * a.S + u) * a.W + j * a.S + v];
                            if (val > m) { m = val; at = (i * a.S + u) * a.W + j * a.S + v; }
                        }
                    if (at == r) g += dy[(p * oh + i) * ow + j];
                }
            dx[o] = a.Accumulate != 0 ? dx[o] + g : g;
        }
    }
}

public sealed partial class IlgpuBackend
{
    public override void AvgPool2x2(int nc, int h, int w, DeviceBuffer x, DeviceBuffer y)
    {
        long n = (long)nc * (h / 2) * (w / 2);
        if (n == 0) return;
        Launch(PoolKernels.AvgPool, Linear(n), V(x), V(y), new PoolKernels.Args { Nc = nc, H = h, W = w });
    }

    public override void AvgPool2x2Backward(int nc, int h, int w, DeviceBuffer dy, DeviceBuffer dx, bool accumulate)
    {
        long n = (long)nc * h * w;
        if (n == 0) return;
        Launch(PoolKernels.AvgPoolBackward, Linear(n), V(dy), V(dx), new PoolKernels.Args { Nc = nc, H = h, W = w, Accumulate = Flag(accumulate) });
    }

    public override void UpsampleNearest2x(int nc, int h, int w, DeviceBuffer x, DeviceBuffer y)
    {
        long n = 4L * nc * h * w;
        if (n == 0) return;
        Launch(PoolKernels.Upsample, Linear(n), V(x), V(y), new PoolKernels.Args { Nc = nc, H = h, W = w });
    }

    public override void UpsampleNearest2xBackward(int nc, int h, int w, DeviceBuffer dy, DeviceBuffer dx, bool accumulate)
    {
        long n = (long)nc * h * w;
        if (n == 0) return;
        Launch(PoolKernels.UpsampleBackward, Linear(n), V(dy), V(dx), new PoolKernels.Args { Nc = nc, H = h, W = w, Accumulate = Flag(accumulate) });
    }

    public override void MaxPool2d(int nc, int h, int w, int k, int s, DeviceBuffer x, DeviceBuffer y)
    {
        long n = (long)nc * ((h - k) / s + 1) * ((w - k) / s + 1);
        if (n <= 0) return;
        Launch(PoolKernels.MaxPool, Linear(n), V(x), V(y), new PoolKernels.Args { Nc = nc, H = h, W = w, K = k, S = s });
    }

    public override void MaxPool2dBackward(int nc, int h, int w, int k, int s, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, bool accumulate)
    {
        long n = (long)nc * h * w;
        if (n == 0) return;
        Launch(PoolKernels.MaxPoolBackward, Linear(n), V(x), V(dy), V(dx),
            new PoolKernels.Args { Nc = nc, H = h, W = w, K = k, S = s, Accumulate = Flag(accumulate) });
    }
}
