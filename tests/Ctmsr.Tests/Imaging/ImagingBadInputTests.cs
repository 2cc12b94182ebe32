using System.Buffers.Binary;
using Ctmsr.Imaging;

namespace Ctmsr.Tests.Imaging;

public class ImagingBadInputTests
{
    static byte[] SmallJpeg(int quality = 90)
    {
        var img = new Image(64, 48, 3);
        var rng = new Random(11);
        for (int i = 0; i < img.Data.Length; i++) img.Data[i] = (float)rng.NextDouble();
        return ImageCodec.EncodeJpeg(img, quality);
    }

    static byte[] SmallPng()
    {
        var img = new Image(64, 48, 3);
        for (int i = 0; i < img.Data.Length; i++) img.Data[i] = (i * 7 % 256) / 255f;
        return ImageCodec.EncodePng(img);
    }

    static ImageFormatException Fails(byte[] bytes, string name = "bad.img", ImageDecodeOptions? opt = null)
    {
        var e = Assert.Throws<ImageFormatException>(() => ImageCodec.Decode(bytes, name, opt))!;
        Assert.That(e.Message, Does.StartWith(name + ": "));
        Assert.That(e.FileName, Is.EqualTo(name));
        Assert.That(e.Message, Does.Not.Contain("\n"));
        return e;
    }

    [Test]
    public void ZeroByteFileNamesTheFile()
    {
        var tmp = Path.Combine(Path.GetTempPath(), $"ctmsr-empty-{Guid.NewGuid():N}.png");
        File.WriteAllBytes(tmp, []);
        try
        {
            var e = Assert.Throws<ImageFormatException>(() => ImageCodec.Decode(tmp))!;
            Assert.That(e.Message, Does.Contain(tmp).And.Contain("empty"));
            Assert.That(e, Is.InstanceOf<IOException>());
        }
        finally
        {
            File.Delete(tmp);
        }
    }

    /// <summary>Image I/O needs no native library: the assembly binds none (it used libpng and libturbojpeg).</summary>
    [Test]
    public void NoNativeImageLibraryIsBound()
    {
        var asm = typeof(Image).Assembly;
        Assert.That(asm.GetTypes().Where(t => t.Namespace == "Ctmsr.Imaging.Native"), Is.Empty);
        var imports = asm.GetTypes().SelectMany(t => t.GetMethods(System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public))
            .Where(m => m.Attributes.HasFlag(System.Reflection.MethodAttributes.PinvokeImpl));
        Assert.That(imports, Is.Empty);
        var refs = asm.GetReferencedAssemblies().Select(r => r.Name);
        Assert.That(refs, Does.Contain("SixLabors.ImageSharp"));
    }

    [Test]
    public void MissingFileIsFileNotFound()
    {
        var e = Assert.Throws<FileNotFoundException>(() => ImageCodec.Decode("/nonexistent/dir/x.png"))!;
        Assert.That(e.Message, Does.Contain("/nonexistent/dir/x.png"));
    }

    [Test]
    public void TruncatedJpegIsAnError([Values(1, 2, 3, 20, 200, 1000, -300, -2)] int keep)
    {
        var j = SmallJpeg();
        int n = keep > 0 ? keep : j.Length + keep;
        Fails(j[..n], "trunc.jpg");
    }

    [Test]
    public void TruncatedJpegDecodesWhenStrictnessIsOff()
    {
        var j = SmallJpeg();
        var img = ImageCodec.Decode(j[..^300], "trunc.jpg", new ImageDecodeOptions { StrictJpeg = false });
        Assert.That((img.Width, img.Height), Is.EqualTo((64, 48)));
    }

    [Test]
    public void TruncatedPngIsAnError([Values(1, 7, 8, 20, 33, 100, -100, -12, -1)] int keep)
    {
        var p = SmallPng();
        int n = keep > 0 ? keep : p.Length + keep;
        Fails(p[..n], "trunc.png");
    }

    [Test]
    public void TruncatedPpmIsAnError([Values(2, 5, 12, -1)] int keep)
    {
        var p = ImageCodec.EncodePpm(new Image(5, 4, 3));
        Fails(p[..(keep > 0 ? keep : p.Length + keep)], "trunc.ppm");
    }

    [Test]
    public void CorruptHuffmanDataIsAnError()
    {
        var j = SmallJpeg();
        // Start of the entropy-coded data: after the SOS segment header.
        int sos = 2;
        while (!(j[sos] == 0xFF && j[sos + 1] == 0xDA)) sos += 2 + ((j[sos + 2] << 8) | j[sos + 3]);
        int start = sos + 2 + ((j[sos + 2] << 8) | j[sos + 3]);
        var rng = new Random(5);
        var bad = (byte[])j.Clone();
        for (int i = start + 200; i < start + 600; i++) bad[i] = (byte)rng.Next(0, 255); // never 0xFF: no fake markers
        var e = Fails(bad, "huff.jpg");
        TestContext.Out.WriteLine(e.Message);
    }

    [Test]
    public void WrongExtensionStillDecodesByMagicBytes()
    {
        var tmp = Path.Combine(Path.GetTempPath(), $"ctmsr-wrong-{Guid.NewGuid():N}.jpg");
        File.WriteAllBytes(tmp, SmallPng());
        try
        {
            var warnings = new List<string>();
            var img = ImageCodec.Decode(tmp, new ImageDecodeOptions { OnWarning = warnings.Add });
            Assert.That((img.Width, img.Height, img.Channels), Is.EqualTo((64, 48, 3)));
            Assert.That(warnings, Has.Count.EqualTo(1));
            Assert.That(warnings[0], Does.Contain(tmp).And.Contain("Png"));
        }
        finally
        {
            File.Delete(tmp);
        }
    }

    [TestCase("GIF89a\x01\0\x01\0", "GIF")]
    [TestCase("BM\x36\0\0\0\0\0", "BMP")]
    [TestCase("RIFF\0\0\0\0WEBPVP8 ", "WebP")]
    [TestCase("II*\0\x08\0\0\0", "TIFF")]
    [TestCase("\0\0\0\u001Cftypavif", "HEIF/AVIF")]
    [TestCase("hello, world", "not an image")]
    public void UnsupportedFormatsAreNamed(string content, string expected)
    {
        var e = Fails(content.Select(c => (byte)c).ToArray());
        Assert.That(e.Message, Does.Contain(expected));
    }

    [Test]
    public void AbsurdPngDimensionsAreRejectedBeforeAllocating()
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, 200_000);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), 150_000);
        ihdr[8] = 8;
        ihdr[9] = 2;
        var ms = new MemoryStream();
        ms.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        PngReference.Chunk(ms, "IHDR", ihdr);
        PngReference.Chunk(ms, "IEND", []);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Fails(ms.ToArray(), "huge.png");
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.LessThan(1 << 20));
        Assert.That(e.Message, Does.Contain("200000x150000").And.Contain("MaxPixels"));
    }

    [Test]
    public void AbsurdJpegDimensionsAreRejectedBeforeAllocating()
    {
        var j = SmallJpeg();
        int pos = 2;
        while (!(j[pos] == 0xFF && j[pos + 1] == 0xC0)) pos += 2 + ((j[pos + 2] << 8) | j[pos + 3]);
        BinaryPrimitives.WriteUInt16BigEndian(j.AsSpan(pos + 5), 60_000);
        BinaryPrimitives.WriteUInt16BigEndian(j.AsSpan(pos + 7), 65_000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Fails(j, "huge.jpg");
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.LessThan(1 << 20));
        Assert.That(e.Message, Does.Contain("65000x60000"));
    }

    [Test]
    public void AbsurdPpmDimensionsAreRejected()
    {
        var e = Fails(System.Text.Encoding.ASCII.GetBytes("P6\n100000 100000\n255\n\0\0\0"), "huge.ppm");
        Assert.That(e.Message, Does.Contain("megapixels"));
        Fails(System.Text.Encoding.ASCII.GetBytes("P6\n0 10\n255\n\0\0\0"), "empty.ppm");
        Fails(System.Text.Encoding.ASCII.GetBytes("P6\n99999999999 1\n255\n"), "overflow.ppm");
    }

    [Test]
    public void PixelLimitIsConfigurable()
    {
        var opt = new ImageDecodeOptions { MaxPixels = 64 * 48 - 1 };
        Fails(SmallPng(), "a.png", opt);
        Fails(SmallJpeg(), "a.jpg", opt);
        Assert.That(ImageCodec.Decode(SmallPng(), "a.png", opt with { MaxPixels = 64 * 48 }).Width, Is.EqualTo(64));
    }

    [Test]
    public void PngWithBadCrcInImageDataIsAnError()
    {
        var p = SmallPng();
        int idat = 8;
        while (System.Text.Encoding.ASCII.GetString(p, idat + 4, 4) != "IDAT") idat += 12 + (int)BinaryPrimitives.ReadUInt32BigEndian(p.AsSpan(idat));
        p[idat + 20] ^= 0x40;
        Fails(p, "crc.png");
    }
}
