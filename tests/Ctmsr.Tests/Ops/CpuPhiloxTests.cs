using Ctmsr.Kernels;
using Ctmsr.Kernels.Cpu;

namespace Ctmsr.Tests.Ops;

/// <summary>
/// The CPU backend draws Philox uniforms four per block and eight blocks per AVX-512 step; every element must stay
/// bit for bit <see cref="Philox.Uniform"/> (the one-element definition every backend shares), across unaligned starts,
/// tails, the backend's parallel chunks and the counter's 32-bit carry.
/// </summary>
public sealed class CpuPhiloxTests
{
    static readonly ulong[] Offsets = [0, 1, 2, 3, 77, (1UL << 34) - 37, ulong.MaxValue / 2];

    [Test]
    public void FillUniformIsBitForBitTheScalarDefinition([Values(1, 31, 33, 1000, 70_001)] int n)
    {
        using var be = new CpuBackend();
        var y = be.Allocate(n);
        var got = new float[n];
        foreach (ulong offset in Offsets)
        {
            const ulong seed = 0x0123_4567_89AB_CDEFUL;
            be.FillUniform(n, seed, offset, y);
            be.Download(y, got);
            for (int i = 0; i < n; i++)
                if (BitConverter.SingleToInt32Bits(got[i]) != BitConverter.SingleToInt32Bits(Philox.Uniform(seed, offset + (ulong)i)))
                    Assert.Fail($"offset {offset}, element {i}: {got[i]} != {Philox.Uniform(seed, offset + (ulong)i)}");
        }
    }

    [Test]
    public void DropoutKeepsExactlyTheElementsWhoseUniformPassesAndScalesThem()
    {
        const int n = 70_001;
        const float p = 0.13f;
        const ulong seed = 99, offset = (1UL << 34) - 5;
        var rng = new Random(5);
        var x = new float[n]; var dx0 = new float[n];
        for (int i = 0; i < n; i++) { x[i] = (float)(rng.NextDouble() * 2 - 1); dx0[i] = (float)rng.NextDouble(); }
        using var be = new CpuBackend();
        var bx = be.Allocate(n); var by = be.Allocate(n); var bdx = be.Allocate(n);
        be.Upload(x, bx);
        be.Dropout(n, p, seed, offset, bx, by);
        be.Upload(dx0, bdx);
        be.DropoutBackward(n, p, seed, offset, bx, bdx, accumulate: true);
        var y = new float[n]; var dx = new float[n];
        be.Download(by, y); be.Download(bdx, dx);
        float sc = 1f / (1f - p);
        int kept = 0;
        for (int i = 0; i < n; i++)
        {
            bool keep = Philox.Uniform(seed, offset + (ulong)i) >= p;
            kept += keep ? 1 : 0;
            Assert.That(y[i], Is.EqualTo(keep ? x[i] * sc : 0f), $"forward, element {i}");
            Assert.That(dx[i], Is.EqualTo(dx0[i] + (keep ? x[i] * sc : 0f)), $"backward (accumulate), element {i}");
        }
        // About 87 % kept (binomial sd ~ 0.13 %), so a mask drawn from the wrong stream shows here too.
        Assert.That(kept / (double)n, Is.EqualTo(1 - p).Within(0.01));
    }
}
