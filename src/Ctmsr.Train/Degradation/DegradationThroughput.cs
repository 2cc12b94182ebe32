using System.Diagnostics;

namespace Ctmsr.Train.Degradation;

/// <summary>Throughput of the degradation pipeline on synthetic HR crops (for benchmarks and the training data budget).</summary>
public static class DegradationThroughput
{
    /// <summary>A deterministic textured test image [3, size, size] in [0, 1] (gradients, stripes and noise).</summary>
    public static float[] SyntheticImage(int size, ulong seed)
    {
        var rng = new DegradationRandom(seed);
        var img = new float[3 * size * size];
        double fx = rng.Uniform(0.02, 0.3), fy = rng.Uniform(0.02, 0.3);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                {
                    double v = 0.5 + 0.25 * Math.Sin(fx * x + c) * Math.Cos(fy * y) + 0.2 * ((double)(x + y) / (2 * size) - 0.5)
                             + 0.05 * (rng.NextDouble() - 0.5);
                    img[(c * size + y) * size + x] = (float)Math.Clamp(v, 0, 1);
                }
        return img;
    }

    /// <summary>
    /// Degrades `count` synthetic size x size crops (seeds 0..count-1), in parallel over images
    /// when `parallel`, and returns images per second (wall clock, after one warm-up image).
    /// </summary>
    public static double ImagesPerSecond(RealEsrganDegradation degradation, int count, int size = 256, bool parallel = true)
    {
        ArgumentNullException.ThrowIfNull(degradation);
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), count, "count must be positive");
        var images = new float[Math.Min(count, 8)][];
        for (int i = 0; i < images.Length; i++) images[i] = SyntheticImage(size, (ulong)i);
        degradation.Apply(images[0], size, size, 12345UL); // warm-up (JIT)
        var sw = Stopwatch.StartNew();
        if (parallel)
            Parallel.For(0, count, i => degradation.Apply(images[i % images.Length], size, size, (ulong)i));
        else
            for (int i = 0; i < count; i++) degradation.Apply(images[i % images.Length], size, size, (ulong)i);
        return count / sw.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// Process CPU milliseconds per degraded size x size crop, run sequentially (a load-independent cost figure on a
    /// shared machine: images/s on n free cores is about n * 1000 / this).
    /// </summary>
    public static double CpuMillisecondsPerImage(RealEsrganDegradation degradation, int count, int size = 256)
    {
        ArgumentNullException.ThrowIfNull(degradation);
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), count, "count must be positive");
        var img = SyntheticImage(size, 0);
        degradation.Apply(img, size, size, 12345UL);
        using var proc = Process.GetCurrentProcess();
        var c0 = proc.TotalProcessorTime;
        for (int i = 0; i < count; i++) degradation.Apply(img, size, size, (ulong)i);
        proc.Refresh();
        return (proc.TotalProcessorTime - c0).TotalMilliseconds / count;
    }
}
