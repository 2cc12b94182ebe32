using System.Numerics;

namespace Ctmsr.Train.Degradation;

/// <summary>
/// Real-ESRGAN filter2D on planar float32 images: reflect padding by k/2 (PyTorch 'reflect', the
/// edge sample not repeated) then a correlation (conv2d, kernel not flipped):
///   out[y, x] = sum_{i, j} k[i, j] * in_pad[y + i, x + j],   in_pad[r, c] = in[refl(r - k/2), refl(c - k/2)].
/// Zero border rows/columns of the kernel (the padding of small kernels to a common size) are
/// skipped, which does not change the result. Each vector of outputs accumulates all taps in a register.
/// </summary>
public static class Filter2D
{
    /// <summary>Reflect-101 index (…, 2, 1, 0, 1, 2, …, n-2, n-1, n-2, …), repeated for pads beyond n-1.</summary>
    public static int Reflect(int i, int n)
    {
        if (n == 1) return 0;
        int period = 2 * (n - 1);
        i %= period;
        if (i < 0) i += period;
        return i < n ? i : period - i;
    }

    /// <summary>Filters every plane of src [planes, h, w] with the same k x k kernel.</summary>
    public static float[] Apply(float[] src, int planes, int h, int w, BlurKernel kernel)
    {
        ArgumentNullException.ThrowIfNull(src);
        ArgumentNullException.ThrowIfNull(kernel);
        if (src.Length < (long)planes * h * w)
            throw new ArgumentException($"Filter2D: the source holds {src.Length} values but [{planes}, {h}, {w}] needs {(long)planes * h * w}");
        var dst = new float[(long)planes * h * w];
        Parallel.For(0, planes, new ParallelOptions { MaxDegreeOfParallelism = planes < 2 ? 1 : -1 },
            p => Plane(src.AsSpan(p * h * w, h * w), dst.AsSpan(p * h * w, h * w), h, w, kernel));
        return dst;
    }

    /// <summary>Batch [b, c, h, w] with one kernel per sample (as Real-ESRGAN's batched filter2D).</summary>
    public static float[] ApplyBatch(float[] src, int batch, int channels, int h, int w, IReadOnlyList<BlurKernel> kernels)
    {
        ArgumentNullException.ThrowIfNull(src);
        if (kernels.Count != batch)
            throw new ArgumentException($"Filter2D: {kernels.Count} kernels for a batch of {batch}; pass one kernel per sample");
        if (src.Length < (long)batch * channels * h * w)
            throw new ArgumentException($"Filter2D: the source holds {src.Length} values but [{batch}, {channels}, {h}, {w}] needs {(long)batch * channels * h * w}");
        var dst = new float[(long)batch * channels * h * w];
        int planes = batch * channels;
        Parallel.For(0, planes, p =>
            Plane(src.AsSpan(p * h * w, h * w), dst.AsSpan(p * h * w, h * w), h, w, kernels[p / channels]));
        return dst;
    }

    static void Plane(ReadOnlySpan<float> src, Span<float> dst, int h, int w, BlurKernel kernel)
    {
        int k = kernel.Size;
        if (k <= 0 || k % 2 == 0 || kernel.Weights.Length != k * k)
            throw new ArgumentException($"Filter2D: kernel size {k} with {kernel.Weights.Length} weights; it needs an odd size and size^2 weights");
        var kw = kernel.Weights;
        // Bounding box of the nonzero taps.
        int r0 = k, r1 = -1, c0 = k, c1 = -1;
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
                if (kw[i * k + j] != 0f)
                {
                    r0 = Math.Min(r0, i); r1 = Math.Max(r1, i);
                    c0 = Math.Min(c0, j); c1 = Math.Max(c1, j);
                }
        dst.Clear();
        if (r1 < 0) return;
        int half = k / 2;
        // Padded rows only where needed: columns c0-half .. w-1+c1-half; rows likewise.
        int padL = half - c0, padR = c1 - half; // may be negative (kernel mass on one side)
        int pw = w + padL + padR;
        var prow = new float[(r1 - r0 + 1) * pw]; // the padded input rows one output row reads
        var colIndex = new int[pw];
        for (int c = 0; c < pw; c++) colIndex[c] = Reflect(c - padL, w);
        int nr = r1 - r0 + 1, nc = c1 - c0 + 1;
        // Taps of the bounding box, row-major, zeros included (cheaper than branching).
        var taps = new float[nr * nc];
        for (int i = 0; i < nr; i++)
            for (int j = 0; j < nc; j++) taps[i * nc + j] = kw[(r0 + i) * k + c0 + j];
        int vc = Vector<float>.Count;
        for (int y = 0; y < h; y++)
        {
            var drow = dst.Slice(y * w, w);
            for (int i = 0; i < nr; i++)
            {
                var srow = src.Slice(Reflect(y + r0 + i - half, h) * w, w);
                var pr = prow.AsSpan(i * pw, pw);
                for (int c = 0; c < pw; c++) pr[c] = srow[colIndex[c]];
            }
            ReadOnlySpan<float> pad = prow;
            int x = 0;
            if (Vector.IsHardwareAccelerated)
            {
                // Register accumulation over all taps for a vector of outputs.
                for (; x <= w - vc; x += vc)
                {
                    var acc = Vector<float>.Zero;
                    for (int i = 0; i < nr; i++)
                    {
                        var pr = pad.Slice(i * pw + x, nc - 1 + vc);
                        var tr = taps.AsSpan(i * nc, nc);
                        for (int j = 0; j < nc; j++) acc += new Vector<float>(tr[j]) * new Vector<float>(pr[j..]);
                    }
                    acc.CopyTo(drow[x..]);
                }
            }
            for (; x < w; x++)
            {
                float acc = 0f;
                for (int i = 0; i < nr; i++)
                    for (int j = 0; j < nc; j++) acc += taps[i * nc + j] * pad[i * pw + x + j];
                drow[x] = acc;
            }
        }
    }
}
