using Ctmsr.Imaging;

namespace Ctmsr.Tests.Imaging;

/// <summary>Mutation fuzzing of the decoders (<see cref="DecoderFuzzer"/>) from small valid files of every input format.</summary>
public class ImagingFuzzTests
{
    static List<(string Name, byte[] Bytes)> Seeds()
    {
        var files = new List<string>();
        foreach (var dir in new[] { "data/RealSet65", "data/ValSR/lq" })
            files.AddRange(Directory.GetFiles(SharedData.Path_(dir)));
        var bySize = files.Select(f => (Name: f, Bytes: File.ReadAllBytes(f))).OrderBy(s => s.Bytes.Length).ThenBy(s => s.Name, StringComparer.Ordinal).ToList();
        // The two smallest of each kind (by magic bytes), plus a small baseline JPEG made here.
        var seeds = bySize.Where(s => s.Bytes[0] == 0x89).Take(2).Concat(bySize.Where(s => s.Bytes[0] == 0xFF).Take(2)).ToList();
        var img = ImageCodec.Decode(seeds[0].Bytes, seeds[0].Name).ToRgb();
        seeds.Add(("baseline.jpg", ImageCodec.EncodeJpeg(img, 85)));
        seeds.Add(("rgba16.png", ImageCodec.EncodePng(new Image(img.Width, img.Height, 3, 16, img.Data), 16)));
        var small = Crop(img, 48, 40);
        seeds.Add(("lossless.webp", ImageCodec.EncodeWebp(small, lossless: true)));
        seeds.Add(("lossy.webp", ImageCodec.EncodeWebp(small, lossless: false, quality: 70)));
        seeds.Add(("deflate.tif", ImageCodec.EncodeTiff(small)));
        seeds.Add(("grey16.ppm", ImageCodec.EncodePpm(Crop(img, 16, 12), 16)));
        foreach (var (kind, enc) in new (string, SixLabors.ImageSharp.Formats.IImageEncoder)[]
                 {
                     ("bmp", new SixLabors.ImageSharp.Formats.Bmp.BmpEncoder()),
                     ("tga", new SixLabors.ImageSharp.Formats.Tga.TgaEncoder { Compression = SixLabors.ImageSharp.Formats.Tga.TgaCompression.RunLength }),
                     ("gif", new SixLabors.ImageSharp.Formats.Gif.GifEncoder()),
                     ("lzw.tif", new SixLabors.ImageSharp.Formats.Tiff.TiffEncoder { Compression = SixLabors.ImageSharp.Formats.Tiff.Constants.TiffCompression.Lzw }),
                 })
        {
            using var sl = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.Rgba32>(ImageCodec.EncodePng(small));
            using var ms = new MemoryStream();
            sl.Save(ms, enc);
            seeds.Add(("seed." + kind, ms.ToArray()));
        }
        return seeds;
    }

    static Image Crop(Image img, int w, int h)
    {
        var o = new Image(w, h, 3);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) o[c, y, x] = img[c, y % img.Height, x % img.Width];
        return o;
    }

    [Test]
    public void MutatedFilesDecodeOrFailCleanly()
    {
        // CTMSR_FUZZ_SECONDS raises the budget for a long run by hand (bench/RESULTS.md, "Decoder fuzzing").
        double seconds = double.TryParse(Environment.GetEnvironmentVariable("CTMSR_FUZZ_SECONDS"), out var s) ? s : 15;
        int seed = int.TryParse(Environment.GetEnvironmentVariable("CTMSR_FUZZ_SEED"), out var sd) ? sd : 20240611;
        int maxRuns = seconds > 15 ? int.MaxValue : 6000;
        var fuzzer = new DecoderFuzzer(Seeds(), seed);
        // At most 4 MP; a decode may allocate 256 MiB plus 320 bytes per pixel of that limit in all (about 1.5 GiB):
        // bounded by the limit, whatever the file claims inside. The most seen in a long run (seed 7) was 1079 MiB, for a
        // 2.4 KB lossless WebP whose header says about 4 MP: ImageSharp's VP8L decoder keeps several full-size arrays.
        const long maxPixels = 4_000_000;
        var r = fuzzer.Run(maxRuns, seconds, new ImageDecodeOptions { MaxPixels = maxPixels }, perFileLimitMs: 10_000, perFileBytes: (256L << 20) + 320 * maxPixels);
        TestContext.Out.WriteLine($"seed {seed}: {r.Runs} mutations in {r.Seconds:0.0} s: {r.Decoded} decoded, {r.Rejected} rejected; slowest {r.SlowestMs:0} ms, most allocated {r.MostBytes >> 20} MiB");
        Assert.That(r.Failure, Is.Null);
        Assert.That(r.Runs, Is.GreaterThanOrEqualTo(1000), "too slow: fewer than 1000 mutations");
        Assert.That(r.Decoded, Is.GreaterThan(0));
        Assert.That(r.Rejected, Is.GreaterThan(0));
    }
}
