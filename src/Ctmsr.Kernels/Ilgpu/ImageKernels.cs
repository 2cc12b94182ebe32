using ILGPU;
using ILGPU.Runtime;

namespace Ctmsr.Kernels.Ilgpu;

/// <summary>
/// Image filters of the data pipeline and inference (no backward); one thread per output element (grid-stride).
/// Resample2d: separable tap tables (<see cref="ResampleAxis"/>: int indices, float weights), summed in the CPU
/// kernel's order (for each row tap, the column taps first; zero row weights skipped).
/// Filter2dReflect: per-sample k x k correlation with reflect-101 padding of k/2 (Real-ESRGAN's filter2D),
/// x, y [batch, channels, h, w], kernels [batch, k, k].
/// </summary>
static class ImageKernels
{
    public struct ResampleArgs { public int Planes, H, W, OH, OW, TY, TX; }
    public struct FilterArgs { public int Planes, Channels, H, W, K; }

    [IlgpuKernel]
    public static void Resample(ArrayView<int> ryIndex, ArrayView<float> ryWeight, ArrayView<int> rxIndex, ArrayView<float> rxWeight,
        ArrayView<float> x, ArrayView<float> y, ResampleArgs a)
    {
        long n = (long)a.Planes * a.OH * a.OW;
        for (long o = Grid.GlobalIndex.X; o < n; o += (long)Grid.DimX * Group.DimX)
        {
            long p = o / ((long)a.OH * a.OW);
            int r = (int)(o % ((long)a.OH * a.OW)), i = r / a.OW, j = r % a.OW;
            float acc = 0f;
            for (int u = 0; u < a.TY; u++)
            {
                float wu = ryWeight[i * a.TY + u];
                if (wu == 0f) continue;
                long row = (p * a.H + ryIndex[i * a.TY + u]) * a.W;
                float s = 0f;
                for (int v = 0; v < a.TX; v++) s += rxWeight[j * a.TX + v] * x[row + rxIndex[j * a.TX + v]];
                acc += wu * s;
            }
            y[o] = acc;
        }
    }

    static int Reflect101(int i, int n)
    {
        if (n == 1) return 0;
        int period = 2 * (n - 1);
        i %= period;
        if (i < 0) i += period;
        return i < n ? i : period - i;
    }

    [IlgpuKernel]
    public static void Filter2dReflect(ArrayView<float> kernels, ArrayView<float> x, ArrayView<float> y, FilterArgs a)
    {
        int hk = a.K / 2;
        long n = (long)a.Planes * a.H * a.W;
        for (long o = Grid.GlobalIndex.X; o < n; o += (long)Grid.DimX * Group.DimX)
        {
            long p = o / ((long)a.H * a.W);
            int r = (int)(o % ((long)a.H * a.W)), row = r / a.W, col = r % a.W;
            long kern = p / a.Channels * a.K * a.K, plane = p * a.H * a.W;
            float acc = 0f;
            for (int u = 0; u < a.K; u++)
            {
                long src = plane + (long)Reflect101(row + u - hk, a.H) * a.W;
                for (int v = 0; v < a.K; v++)
                {
                    float kv = kernels[kern + u * a.K + v];
                    if (kv != 0f) acc += kv * x[src + Reflect101(col + v - hk, a.W)];
                }
            }
            y[o] = acc;
        }
    }
}

public sealed partial class IlgpuBackend
{
    public override void Resample2d(int planes, ResampleAxis rows, ResampleAxis cols, DeviceBuffer x, DeviceBuffer y)
    {
        long n = (long)planes * rows.OutSize * cols.OutSize;
        if (n == 0) return;
        CheckRange(x, 0, (long)planes * rows.InSize * cols.InSize, nameof(x));
        CheckRange(y, 0, n, nameof(y));
        // The tap tables are small; they live only for this launch (synchronised before they are freed).
        using var ryi = acc.Allocate1D(rows.Index);
        using var ryw = acc.Allocate1D(rows.Weight);
        using var rxi = acc.Allocate1D(cols.Index);
        using var rxw = acc.Allocate1D(cols.Weight);
        Launch(ImageKernels.Resample, Linear(n), (ArrayView<int>)ryi.View, (ArrayView<float>)ryw.View, (ArrayView<int>)rxi.View,
            (ArrayView<float>)rxw.View, V(x), V(y),
            new ImageKernels.ResampleArgs { Planes = planes, H = rows.InSize, W = cols.InSize, OH = rows.OutSize, OW = cols.OutSize, TY = rows.Taps, TX = cols.Taps });
        Synchronize();
    }

    public override void Filter2dReflect(int batch, int channels, int h, int w, int k, DeviceBuffer kernels, DeviceBuffer x, DeviceBuffer y)
    {
        if (k <= 0 || k % 2 == 0) throw new ArgumentException($"Filter2dReflect: kernel size {k} must be odd and positive");
        long n = (long)batch * channels * h * w;
        if (n == 0) return;
        CheckRange(kernels, 0, (long)batch * k * k, nameof(kernels));
        CheckRange(x, 0, n, nameof(x));
        CheckRange(y, 0, n, nameof(y));
        Launch(ImageKernels.Filter2dReflect, Linear(n), V(kernels), V(x), V(y),
            new ImageKernels.FilterArgs { Planes = batch * channels, Channels = channels, H = h, W = w, K = k });
    }
}
