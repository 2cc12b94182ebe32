using Ctmsr.Imaging;

namespace Ctmsr.Tests.Imaging;

/// <summary>A CMYK (YCCK) JPEG (a fixture made with TurboJPEG) decodes to RGB with cv2's inverted-CMYK rule.</summary>
public class ImagingCmykTests
{
    [Test]
    public void CmykJpegDecodesToRgbLikeCv2()
    {
        int w = 32, h = 16;
        var cmyk = new byte[w * h * 4];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int i = 4 * (y * w + x);
                cmyk[i] = (byte)(x * 8);
                cmyk[i + 1] = (byte)(255 - y * 16);
                cmyk[i + 2] = 128;
                cmyk[i + 3] = (byte)(128 + x * 4);
            }
        // Made with TurboJPEG (TJPF_CMYK, 4:4:4, quality 100) from the pattern above while it was still a dependency.
        var jpeg = File.ReadAllBytes(Path.Combine(TestContext.CurrentContext.TestDirectory, "Imaging", "Fixtures", "ycck_32x16_q100.jpg"));
        var img = ImageCodec.Decode(jpeg, "cmyk.jpg");
        Assert.That((img.Width, img.Height, img.Channels), Is.EqualTo((w, h, 3)));
        float maxDiff = 0;
        for (int i = 0; i < w * h; i++)
        {
            int k = cmyk[4 * i + 3];
            for (int c = 0; c < 3; c++)
            {
                float expect = (k - (((255 - cmyk[4 * i + c]) * k) >> 8)) / 255f;
                maxDiff = Math.Max(maxDiff, Math.Abs(img.Data[c * w * h + i] - expect));
            }
        }
        TestContext.Out.WriteLine($"max difference {maxDiff * 255:0.#}/255 (JPEG loss at quality 100; libjpeg-turbo gave 2)");
        Assert.That(maxDiff, Is.LessThanOrEqualTo(4f / 255f));
    }
}
