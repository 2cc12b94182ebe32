using Ctmsr.Kernels;
using Ctmsr.Kernels.Cpu;

namespace Ctmsr.Train.Degradation;

/// <summary>
/// Real-ESRGAN filter2D on planar float32 images: reflect padding by k/2 (PyTorch 'reflect', the
/// edge sample not repeated) then a correlation (conv2d, kernel not flipped):
///   out[y, x] = sum_{i, j} k[i, j] * in_pad[y + i, x + j],   in_pad[r, c] = in[refl(r - k/2), refl(c - k/2)].
/// The loops are the backends' <see cref="Backend.Filter2dReflect"/>; host arrays go through the CPU kernel.
/// </summary>
public static class Filter2D
{
    /// <summary>Filters every plane of src [planes, h, w] with the same k x k kernel.</summary>
    public static float[] Apply(float[] src, int planes, int h, int w, BlurKernel kernel)
    {
        ArgumentNullException.ThrowIfNull(src);
        ArgumentNullException.ThrowIfNull(kernel);
        Check(kernel);
        if (src.Length < (long)planes * h * w)
            throw new ArgumentException($"Filter2D: the source holds {src.Length} values but [{planes}, {h}, {w}] needs {(long)planes * h * w}");
        var dst = new float[(long)planes * h * w];
        CpuImageFilters.Filter2dReflect(src, dst, 1, planes, h, w, kernel.Size, kernel.Weights);
        return dst;
    }

    /// <summary>Batch [b, c, h, w] with one kernel per sample (as Real-ESRGAN's batched filter2D).</summary>
    public static float[] ApplyBatch(float[] src, int batch, int channels, int h, int w, IReadOnlyList<BlurKernel> kernels)
    {
        ArgumentNullException.ThrowIfNull(src);
        var (packed, k) = Pack(kernels, batch);
        if (src.Length < (long)batch * channels * h * w)
            throw new ArgumentException($"Filter2D: the source holds {src.Length} values but [{batch}, {channels}, {h}, {w}] needs {(long)batch * channels * h * w}");
        var dst = new float[(long)batch * channels * h * w];
        CpuImageFilters.Filter2dReflect(src, dst, batch, channels, h, w, k, packed);
        return dst;
    }

    /// <summary>The batched filter on a backend: x, y [batch, channels, h, w] are that backend's buffers.</summary>
    public static void ApplyBatch(Backend backend, DeviceBuffer x, DeviceBuffer y, int batch, int channels, int h, int w, IReadOnlyList<BlurKernel> kernels)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var (packed, k) = Pack(kernels, batch);
        using var kb = backend.Allocate(packed.Length);
        backend.Upload(packed, kb);
        backend.Filter2dReflect(batch, channels, h, w, k, kb, x, y);
        backend.Synchronize();
    }

    /// <summary>[batch, K, K] with K the largest size; smaller kernels are zero-padded around the centre, which leaves their result unchanged.</summary>
    static (float[] Packed, int K) Pack(IReadOnlyList<BlurKernel> kernels, int batch)
    {
        ArgumentNullException.ThrowIfNull(kernels);
        if (kernels.Count != batch || batch == 0)
            throw new ArgumentException($"Filter2D: {kernels.Count} kernels for a batch of {batch}; pass one kernel per sample");
        foreach (var kern in kernels) Check(kern);
        int big = kernels.Max(x => x.Size);
        var packed = new float[batch * big * big];
        for (int b = 0; b < batch; b++)
        {
            int k = kernels[b].Size, off = (big - k) / 2;
            for (int i = 0; i < k; i++)
                kernels[b].Weights.AsSpan(i * k, k).CopyTo(packed.AsSpan(b * big * big + (i + off) * big + off, k));
        }
        return (packed, big);
    }

    static void Check(BlurKernel kernel)
    {
        int k = kernel.Size;
        if (k <= 0 || k % 2 == 0 || kernel.Weights.Length != k * k)
            throw new ArgumentException($"Filter2D: kernel size {k} with {kernel.Weights.Length} weights; it needs an odd size and size^2 weights");
    }
}
