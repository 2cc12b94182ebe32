using Ctmsr.Kernels;
using Ctmsr.Kernels.Cpu;

namespace Ctmsr.Tests.Ops;

/// <summary>
/// The CPU strided copy (2-D tiles, transposed walks, chunked odometers) against the definition written out here:
/// dst[dstOffset + sum i_d dstStrides_d] (=/+=) src[srcOffset + sum i_d srcStrides_d] over every index; bit for bit,
/// since it only moves (or adds once) each element.
/// </summary>
public sealed class CpuCopyTests
{
    static void Expected(int[] shape, float[] src, long so, long[] ss, float[] dst, long dof, long[] ds, bool acc)
    {
        long total = shape.Aggregate(1L, (p, v) => p * v);
        var idx = new int[shape.Length];
        for (long e = 0; e < total; e++)
        {
            long rem = e, s = so, d = dof;
            for (int k = shape.Length - 1; k >= 0; k--) { idx[k] = (int)(rem % shape[k]); rem /= shape[k]; s += idx[k] * ss[k]; d += idx[k] * ds[k]; }
            dst[d] = acc ? dst[d] + src[s] : src[s];
        }
    }

    static void Check(int[] shape, long srcLen, long so, long[] ss, long dstLen, long dof, long[] ds, bool acc, int seed)
    {
        var rng = new Random(seed);
        var src = new float[srcLen]; var dst0 = new float[dstLen];
        for (int i = 0; i < srcLen; i++) src[i] = (float)rng.NextDouble() - 0.5f;
        for (int i = 0; i < dstLen; i++) dst0[i] = (float)rng.NextDouble() - 0.5f;
        var want = (float[])dst0.Clone();
        Expected(shape, src, so, ss, want, dof, ds, acc);
        using var be = new CpuBackend();
        var bs = be.Allocate(srcLen); var bd = be.Allocate(dstLen);
        be.Upload(src, bs); be.Upload(dst0, bd);
        be.CopyStrided(shape, bs, so, ss, bd, dof, ds, acc);
        var got = new float[dstLen];
        be.Download(bd, got);
        for (int i = 0; i < dstLen; i++)
            if (BitConverter.SingleToInt32Bits(got[i]) != BitConverter.SingleToInt32Bits(want[i]))
                Assert.Fail($"shape [{string.Join(",", shape)}], accumulate {acc}: element {i} is {got[i]}, expected {want[i]}");
    }

    /// <summary>The window partition and reverse of the model (the [E, ws] tile transposes), small and large enough to
    /// run on several threads.</summary>
    [TestCase(1, 32, 16, 16, 8, false)]
    [TestCase(2, 24, 64, 40, 8, true)]
    [TestCase(1, 32, 256, 256, 8, false)]
    [TestCase(1, 6, 12, 12, 4, true)]
    public void WindowPartitionAndReverse(int b, int e, int h, int w, int ws, bool acc)
    {
        int ny = h / ws, nx = w / ws, t = ws * ws;
        long n = (long)b * e * h * w;
        int[] shape = [b, ny, nx, ws, e, ws];
        long[] image = [(long)e * h * w, (long)ws * w, ws, w, (long)h * w, 1];
        long[] tokens = [(long)ny * nx * t * e, (long)nx * t * e, (long)t * e, (long)ws * e, 1, e];
        Check(shape, n, 0, image, n, 0, tokens, acc, 1);
        Check(shape, n, 0, tokens, n, 0, image, acc, 2);
    }

    /// <summary>Every permutation of a 4-D tensor (both directions), with offsets, one axis reversed by a negative stride,
    /// and 1-D and 2-D walks.</summary>
    [Test]
    public void PermutationsOffsetsAndNegativeStrides([Values(false, true)] bool acc)
    {
        int[] dims = [3, 5, 7, 33];
        long[] contiguous = [5 * 7 * 33, 7 * 33, 33, 1];
        foreach (var perm in Permutations([0, 1, 2, 3]))
        {
            int[] shape = perm.Select(p => dims[p]).ToArray();
            long[] src = perm.Select(p => contiguous[p]).ToArray();
            long[] dst = [(long)shape[1] * shape[2] * shape[3], (long)shape[2] * shape[3], shape[3], 1];
            Check(shape, 3465 + 11, 11, src, 3465 + 4, 4, dst, acc, perm[0] * 10 + perm[1]);
            Check(shape, 3465, 0, dst, 3465, 0, src, acc, perm[2]);
        }
        Check([7, 9], 100, 80, [-10, 1], 70, 0, [1, 7], acc, 3);   // rows walked backwards, written transposed
        Check([50_000], 100_000, 1, [2], 50_000, 0, [1], acc, 4);  // a strided gather on several threads
        Check([3, 7], 100, 5, [20, 2], 130, 9, [40, 1], acc, 5);
    }

    [Test]
    public void AWalkOutsideTheBufferIsRefused()
    {
        using var be = new CpuBackend();
        var s = be.Allocate(10); var d = be.Allocate(10);
        Assert.Throws<ArgumentOutOfRangeException>(() => be.CopyStrided([3, 4], s, 0, [4, 1], d, 0, [4, 1], false));
        Assert.Throws<ArgumentOutOfRangeException>(() => be.CopyStrided([2, 4], s, 0, [4, 1], d, 3, [4, 1], false));
        Assert.Throws<ArgumentOutOfRangeException>(() => be.CopyStrided([2, 4], s, 0, [-4, 1], d, 0, [4, 1], false));
    }

    static IEnumerable<int[]> Permutations(int[] items)
    {
        if (items.Length <= 1) { yield return items; yield break; }
        for (int i = 0; i < items.Length; i++)
            foreach (var rest in Permutations(items.Where((_, j) => j != i).ToArray()))
                yield return [items[i], .. rest];
    }
}
