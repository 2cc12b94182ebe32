using System.Runtime.InteropServices;
using Ctmsr.Imaging;

namespace Ctmsr.Tests.Imaging;

/// <summary>CMYK (YCCK) JPEGs, made here by calling TurboJPEG directly, decode to RGB with cv2's inverted-CMYK rule.</summary>
public unsafe class ImagingCmykTests
{
    [DllImport("libturbojpeg.so.0")] static extern nint tjInitCompress();
    [DllImport("libturbojpeg.so.0")] static extern int tjCompress2(nint h, byte* src, int w, int pitch, int hgt, int pf, byte** jpeg, nuint* size, int samp, int q, int flags);
    [DllImport("libturbojpeg.so.0")] static extern void tjFree(byte* p);
    [DllImport("libturbojpeg.so.0")] static extern int tjDestroy(nint h);

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
        byte[] jpeg;
        nint hnd = tjInitCompress();
        byte* buf = null;
        nuint size = 0;
        fixed (byte* s = cmyk)
            Assert.That(tjCompress2(hnd, s, w, 0, h, 11 /* TJPF_CMYK */, &buf, &size, 0 /* 4:4:4 */, 100, 4096), Is.EqualTo(0));
        jpeg = new ReadOnlySpan<byte>(buf, (int)size).ToArray();
        tjFree(buf);
        tjDestroy(hnd);

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
        TestContext.Out.WriteLine($"max difference {maxDiff * 255:0.#}/255 (JPEG loss at quality 100)");
        Assert.That(maxDiff, Is.LessThanOrEqualTo(4f / 255f));
    }
}
