using Ctmsr.Imaging;

namespace Ctmsr.Tests.Imaging;

/// <summary>Decodes the real-world RealSet65 images (progressive JPEGs, EXIF blocks, PNGs with iCCP, files whose
/// extension lies about their format) and checks sizes and pixels against independent readers.</summary>
public class ImagingRealSetTests
{
    static string[] RealSet() => Directory.GetFiles(SharedData.Path_("data/RealSet65")).OrderBy(f => f, StringComparer.Ordinal).ToArray();

    static readonly ImageDecodeOptions NoRotation = new() { ApplyExifOrientation = false };

    [Test]
    public void AllRealSet65ImagesDecodeWithTheSizeTheirHeadersDeclare()
    {
        var files = RealSet();
        Assert.That(files, Has.Length.EqualTo(65));
        int png = 0, jpeg = 0;
        Assert.Multiple(() =>
        {
            foreach (var f in files)
            {
                var bytes = File.ReadAllBytes(f);
                var img = ImageCodec.Decode(f);
                var raw = ImageCodec.Decode(bytes, f, NoRotation);
                int w, h, ch;
                if (bytes[0] == 0x89)
                {
                    var hdr = PngReference.ReadHeader(bytes);
                    (w, h) = (hdr.Width, hdr.Height);
                    ch = hdr.ColorType switch { 0 => 1, 2 => 3, 4 => 2, 6 => 4, _ => -1 };
                    png++;
                }
                else
                {
                    Assert.That(bytes[0], Is.EqualTo(0xFF), f);
                    (w, h, ch) = JpegReference.ReadSof(bytes);
                    jpeg++;
                }
                Assert.That((raw.Width, raw.Height), Is.EqualTo((w, h)), f);
                if (ch > 0) Assert.That(raw.Channels, Is.EqualTo(ch), f);
                Assert.That(img.Width * img.Height, Is.EqualTo(w * h), f);
                Assert.That(img.Data.All(v => v >= 0f && v <= 1f), f);
            }
        });
        Assert.That(png + jpeg, Is.EqualTo(65));
        TestContext.Out.WriteLine($"{png} PNG and {jpeg} JPEG streams (by magic bytes)");
    }

    [Test]
    public void PngPixelsMatchAnIndependentZlibDecoderExactly()
    {
        var files = RealSet().Where(f => File.ReadAllBytes(f)[0] == 0x89).ToList();
        files.AddRange(Directory.GetFiles(SharedData.Path_("data/ValSR/gt")).OrderBy(f => f, StringComparer.Ordinal).Take(5));
        Assert.That(files.Count, Is.GreaterThan(30));
        foreach (var f in files)
        {
            var bytes = File.ReadAllBytes(f);
            var reference = PngReference.Decode(bytes);
            var img = ImageCodec.Decode(f);
            Assert.That((img.Width, img.Height, img.Channels, img.BitDepth), Is.EqualTo((reference.Width, reference.Height, reference.Channels, reference.BitDepth)), f);
            float max = reference.BitDepth == 16 ? 65535f : 255f;
            int n = img.PlaneSize, bad = 0;
            for (int c = 0; c < img.Channels; c++)
                for (int i = 0; i < n; i++)
                    if (img.Data[c * n + i] != reference.Samples[i * img.Channels + c] / max) bad++;
            Assert.That(bad, Is.EqualTo(0), $"{f}: {bad} samples differ from the reference decoder");
        }
    }

    [Test]
    public void JpegPixelsMatchDjpegWithinOneLevel()
    {
        var files = RealSet().Where(f => File.ReadAllBytes(f)[0] == 0xFF).ToArray();
        Assert.That(files, Has.Length.GreaterThan(30));
        int exact = 0;
        foreach (var f in files)
        {
            var (w, h, ch, px) = JpegReference.Djpeg(f);
            var img = ImageCodec.Decode(File.ReadAllBytes(f), f, NoRotation);
            Assert.That((img.Width, img.Height, img.Channels), Is.EqualTo((w, h, ch)), f);
            int n = w * h;
            float maxDiff = 0;
            for (int c = 0; c < ch; c++)
                for (int i = 0; i < n; i++)
                    maxDiff = Math.Max(maxDiff, Math.Abs(img.Data[c * n + i] - px[i * ch + c] / 255f));
            Assert.That(maxDiff, Is.LessThanOrEqualTo(1f / 255f + 1e-6f), f);
            if (maxDiff == 0) exact++;
        }
        TestContext.Out.WriteLine($"{exact}/{files.Length} JPEGs bit-identical to djpeg");
    }
}
