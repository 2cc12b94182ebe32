using System.Buffers.Binary;
using Ctmsr.Imaging;
using Ctmsr.Inference;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Tests.Imaging;
using static Ctmsr.Tests.Inference.InferenceKit;

namespace Ctmsr.Tests.Inference;

/// <summary>Inputs too large to upscale are refused from their header, before decoding, naming the limit and flag.</summary>
[NonParallelizable]
public class UpscaleLimitsTests
{
    static string HeaderOnlyPng(int w, int h)
    {
        var ms = new MemoryStream();
        ms.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)w);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), (uint)h);
        ihdr[8] = 8;
        ihdr[9] = 2;
        PngReference.Chunk(ms, "IHDR", ihdr);
        PngReference.Chunk(ms, "IEND", []);
        var path = Path.Combine(Path.GetTempPath(), $"ctmsr-big-{Guid.NewGuid():N}.png");
        File.WriteAllBytes(path, ms.ToArray());
        return path;
    }

    /// <summary>8000x6000 (48 MP) used to fail after seconds of work with "Arithmetic operation resulted in an
    /// overflow": its x4 result (768 M pixels x 3) does not fit one float array. It is refused from the header now.</summary>
    [Test]
    public void An8000x6000InputIsRefusedFromItsHeaderNamingTheLimit()
    {
        var path = HeaderOnlyPng(8000, 6000);
        try
        {
            using var up = new Upscaler(new CpuBackend(), State);
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var e = Assert.Throws<ArgumentException>(() => up.UpscaleFile(path, path + ".out.png"))!;
            Assert.That(sw.Elapsed.TotalSeconds, Is.LessThan(2));
            TestContext.Out.WriteLine(e.Message);
            Assert.That(e.Message, Does.StartWith(path).And.Contain("8000x6000").And.Contain("44.7 megapixels").And.Contain("--max-pixels"));
            Assert.That(up.LargestInput(3), Is.EqualTo(Array.MaxLength / 48));

            // A lower --max-pixels is honoured and named as the flag to raise.
            using var low = new Upscaler(new CpuBackend(), State, new UpscaleOptions { MaxInputPixels = 1_000_000 });
            var small = HeaderOnlyPng(1200, 1000);
            try
            {
                e = Assert.Throws<ArgumentException>(() => low.UpscaleFile(small, small + ".out.png"))!;
                Assert.That(e.Message, Does.Contain("over the limit of 1 megapixels (--max-pixels)"));
            }
            finally { File.Delete(small); }
        }
        finally { File.Delete(path); }
    }

    [Test]
    public void ThePixelLimitMessageNamesTheCliFlag()
    {
        var path = HeaderOnlyPng(20000, 20000);
        try
        {
            var e = Assert.Throws<ImageFormatException>(() => ImageCodec.Decode(path))!;
            Assert.That(e.Message, Does.Contain("over the limit of 100 megapixels").And.Contain("--max-pixels"));
        }
        finally { File.Delete(path); }
    }
}
