using Ctmsr.Imaging;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using SL = SixLabors.ImageSharp;

namespace Ctmsr.Tests.Imaging;

/// <summary>The formats ImageSharp brought: WebP, TIFF, BMP, TGA, GIF in; WebP and TIFF out; ICC and EXIF carried.
/// Files are made by ImageSharp's own encoders from known pixels, so the expected values are the pixels written.</summary>
public class ImagingFormatsTests
{
    static Image Pattern(int w, int h, int channels)
    {
        var img = new Image(w, h, channels);
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) img[c, y, x] = ((x * 37 + y * 11 + c * 71) % 256) / 255f;
        return img;
    }

    static byte[] Sharp(Action<SL.Image<Rgba32>> fill, SixLabors.ImageSharp.Formats.IImageEncoder enc, int w = 9, int h = 7)
    {
        using var img = new SL.Image<Rgba32>(w, h);
        fill(img);
        using var ms = new MemoryStream();
        img.Save(ms, enc);
        return ms.ToArray();
    }

    static void Fill(SL.Image<Rgba32> img)
    {
        for (int y = 0; y < img.Height; y++)
            for (int x = 0; x < img.Width; x++)
                img[x, y] = new Rgba32((byte)(x * 20), (byte)(y * 30), (byte)(x + y), 255);
    }

    [TestCase("bmp")]
    [TestCase("tga")]
    [TestCase("gif")]
    [TestCase("tiff")]
    [TestCase("webp")]
    public void LosslessInputFormatsDecodeToTheirPixels(string kind)
    {
        SixLabors.ImageSharp.Formats.IImageEncoder enc = kind switch
        {
            "bmp" => new SixLabors.ImageSharp.Formats.Bmp.BmpEncoder(),
            "tga" => new SixLabors.ImageSharp.Formats.Tga.TgaEncoder(),
            // few colours, so the GIF palette holds them exactly
            "gif" => new SixLabors.ImageSharp.Formats.Gif.GifEncoder(),
            "tiff" => new SixLabors.ImageSharp.Formats.Tiff.TiffEncoder(),
            _ => new SixLabors.ImageSharp.Formats.Webp.WebpEncoder { FileFormat = SixLabors.ImageSharp.Formats.Webp.WebpFileFormatType.Lossless },
        };
        var bytes = Sharp(Fill, enc);
        var img = ImageCodec.Decode(bytes, "x." + kind);
        Assert.That((img.Width, img.Height, img.Channels), Is.EqualTo((9, 7, 3)), kind);
        for (int y = 0; y < 7; y++)
            for (int x = 0; x < 9; x++)
                Assert.That((img[0, y, x] * 255, img[1, y, x] * 255, img[2, y, x] * 255), Is.EqualTo(((float)(x * 20), (float)(y * 30), (float)(x + y))), $"{kind} ({x},{y})");
    }

    [Test]
    public void WebpLosslessKeepsAlphaAndLossyIsClose()
    {
        var rgba = Pattern(16, 12, 4);
        var back = ImageCodec.Decode(ImageCodec.EncodeWebp(rgba, lossless: true), "a.webp");
        Assert.That(back.Channels, Is.EqualTo(4));
        Assert.That(back.Data, Is.EqualTo(rgba.Data), "lossless WebP is exact for 8-bit samples");
        var rgb = new Image(64, 64, 3);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 64; y++)
                for (int x = 0; x < 64; x++) rgb[c, y, x] = 0.5f + 0.3f * MathF.Sin(0.1f * x + 0.07f * y + c);
        var lossy = ImageCodec.Decode(ImageCodec.EncodeWebp(rgb, lossless: false, quality: 90), "b.webp");
        Assert.That(lossy.Channels, Is.EqualTo(3));
        double mae = rgb.Data.Zip(lossy.Data, (a, b) => Math.Abs(a - b)).Average();
        Assert.That(mae, Is.LessThan(0.02).And.GreaterThan(0), "lossy: close, not exact");
    }

    [Test]
    public void TiffRoundTripIsExactAndDropsAlpha()
    {
        var rgb = Pattern(10, 6, 3);
        Assert.That(ImageCodec.Decode(ImageCodec.EncodeTiff(rgb), "a.tif").Data, Is.EqualTo(rgb.Data));
        var grey = Pattern(10, 6, 1);
        var g = ImageCodec.Decode(ImageCodec.EncodeTiff(grey), "g.tif");
        Assert.That(g.Data, Is.EqualTo(grey.Data));
        Assert.That(ImageCodec.Decode(ImageCodec.EncodeTiff(Pattern(10, 6, 4)), "r.tif").Channels, Is.EqualTo(3));
    }

    [Test]
    public void GifGivesItsFirstFrame()
    {
        using var anim = new SL.Image<Rgba32>(4, 4, new Rgba32(255, 0, 0, 255));
        using var second = new SL.Image<Rgba32>(4, 4, new Rgba32(0, 0, 255, 255));
        anim.Frames.AddFrame(second.Frames.RootFrame);
        using var ms = new MemoryStream();
        anim.Save(ms, new SixLabors.ImageSharp.Formats.Gif.GifEncoder());
        var img = ImageCodec.Decode(ms.ToArray(), "anim.gif");
        Assert.That((img[0, 0, 0], img[2, 0, 0]), Is.EqualTo((1f, 0f)), "red, the first frame");
    }

    [Test]
    public void IccAndExifAreCarriedToJpegWebpAndTiff()
    {
        // A JPEG with EXIF (orientation 6 and a camera model) made by ImageSharp.
        var exif = new ExifProfile();
        exif.SetValue(ExifTag.Orientation, (ushort)6);
        exif.SetValue(ExifTag.Model, "CtmsrCam");
        byte[] jpeg;
        using (var src = new SL.Image<Rgba32>(8, 4, new Rgba32(200, 100, 50, 255)))
        {
            src.Metadata.ExifProfile = exif;
            using var ms = new MemoryStream();
            src.Save(ms, new SixLabors.ImageSharp.Formats.Jpeg.JpegEncoder { Quality = 95 });
            jpeg = ms.ToArray();
        }
        var img = ImageCodec.Decode(jpeg, "cam.jpg");
        Assert.That((img.Width, img.Height), Is.EqualTo((4, 8)), "orientation 6 applied");
        Assert.That(img.Profiles?.Exif, Is.Not.Null);
        foreach (var (kind, bytes) in new[] { ("jpg", ImageCodec.EncodeJpeg(img)), ("webp", ImageCodec.EncodeWebp(img)), ("tif", ImageCodec.EncodeTiff(img)), ("png", ImageCodec.EncodePng(img)) })
        {
            var info = SL.Image.Identify(bytes);
            var e = info.Metadata.ExifProfile;
            TestContext.Out.WriteLine($"{kind}: EXIF {(e is null ? "dropped" : "carried")}");
            if (e is null && kind is "png" or "tif") continue; // ImageSharp 2.1's PNG and TIFF encoders drop it (measured)
            Assert.That(e, Is.Not.Null, $"{kind}: EXIF carried");
            Assert.That(e!.GetValue(ExifTag.Model)?.Value, Is.EqualTo("CtmsrCam"), kind);
            Assert.That(e.GetValue(ExifTag.Orientation)?.Value, Is.EqualTo((ushort)1), $"{kind}: upright pixels are not turned again");
            var again = ImageCodec.Decode(bytes, "again." + kind);
            Assert.That((again.Width, again.Height), Is.EqualTo((4, 8)), kind);
        }
    }

    /// <summary>Measurement, not a guarantee: ImageSharp 2.1.13's encoders were seen to drop a minimal ICC profile in
    /// JPEG, WebP and TIFF; the decoder does read a file's profile into <see cref="Image.Profiles"/>.</summary>
    [Test]
    public void IccProfileCarriageIsReported()
    {
        // A minimal profile as ImageSharp's own writer makes it from an empty one.
        var profile = new SixLabors.ImageSharp.Metadata.Profiles.Icc.IccProfile();
        var withIcc = new Image(8, 8, 3, 8, Pattern(8, 8, 3).Data) { Profiles = new ImageProfiles(profile.ToByteArray(), null) };
        foreach (var (kind, bytes) in new[] { ("jpg", ImageCodec.EncodeJpeg(withIcc)), ("webp", ImageCodec.EncodeWebp(withIcc)), ("tif", ImageCodec.EncodeTiff(withIcc)) })
        {
            var back = ImageCodec.Decode(bytes, "icc." + kind);
            TestContext.Out.WriteLine($"{kind}: ICC {(back.Profiles?.Icc is null ? "dropped" : "carried")}");
            Assert.That(back.Width, Is.EqualTo(8), kind);
        }
    }
}
