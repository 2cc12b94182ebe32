using System.Buffers.Binary;
using Ctmsr.Imaging;

namespace Ctmsr.Tests.Imaging;

public class ImagingRoundTripTests
{
    static Image Random8(int w, int h, int ch, int seed)
    {
        var rng = new Random(seed);
        var img = new Image(w, h, ch, 8);
        for (int i = 0; i < img.Data.Length; i++) img.Data[i] = rng.Next(256) / 255f;
        return img;
    }

    static Image Random16(int w, int h, int ch, int seed, bool opaque)
    {
        var rng = new Random(seed);
        var img = new Image(w, h, ch, 16);
        for (int i = 0; i < img.Data.Length; i++) img.Data[i] = rng.Next(65536) / 65535f;
        if (opaque && img.HasAlpha) img.AlphaPlane.Fill(1f);
        return img;
    }

    [Test]
    public void Png8RoundTripIsExact([Values(1, 2, 3, 4)] int channels)
    {
        var img = Random8(37, 23, channels, channels);
        var png = ImageCodec.EncodePng(img, 8);
        var back = ImageCodec.Decode(png, "rt.png");
        Assert.That((back.Width, back.Height, back.Channels, back.BitDepth), Is.EqualTo((37, 23, channels, 8)));
        Assert.That(back.Data, Is.EqualTo(img.Data));
        // The bytes libpng wrote, read by the independent decoder.
        var r = PngReference.Decode(png);
        Assert.That(r.Channels, Is.EqualTo(channels));
        for (int c = 0; c < channels; c++)
            for (int i = 0; i < img.PlaneSize; i++)
                Assert.That(r.Samples[i * channels + c], Is.EqualTo((int)MathF.Round(img.Data[c * img.PlaneSize + i] * 255)));
    }

    [Test]
    public void Png16RoundTripIsExact([Values(1, 2, 3, 4)] int channels)
    {
        var img = Random16(29, 17, channels, 100 + channels, opaque: true);
        var png = ImageCodec.EncodePng(img, 16);
        var back = ImageCodec.Decode(png, "rt16.png");
        Assert.That((back.Channels, back.BitDepth), Is.EqualTo((channels, 16)));
        Assert.That(back.Data, Is.EqualTo(img.Data));
        var r = PngReference.Decode(png);
        Assert.That(r.BitDepth, Is.EqualTo(16));
        for (int c = 0; c < channels; c++)
            for (int i = 0; i < img.PlaneSize; i++)
                Assert.That(r.Samples[i * channels + c], Is.EqualTo((int)Math.Round(img.Data[c * img.PlaneSize + i] * 65535.0)));
        Assert.That(System.Text.Encoding.ASCII.GetString(png), Does.Not.Contain("gAMA"), "16-bit output must not be labelled linear");
    }

    [Test]
    public void Png16WithTranslucentAlphaRoundTripsWithinOneEightBitLevel([Values(2, 4)] int channels)
    {
        var img = Random16(31, 19, channels, 7, opaque: false);
        var a = img.AlphaPlane;
        for (int i = 0; i < a.Length; i++) a[i] = Math.Max(a[i], 256 / 65535f); // alpha 0 loses colour by construction
        var back = ImageCodec.Decode(ImageCodec.EncodePng(img, 16), "rt16a.png");
        Assert.That(back.Data.AsSpan(back.AlphaPlane.Length * (channels - 1)).ToArray(), Is.EqualTo(a.ToArray()), "alpha is exact");
        float maxDiff = 0;
        for (int i = 0; i < img.Data.Length; i++) maxDiff = Math.Max(maxDiff, Math.Abs(back.Data[i] - img.Data[i]));
        TestContext.Out.WriteLine($"max colour error {maxDiff * 65535:0.##}/65535");
        Assert.That(maxDiff, Is.LessThanOrEqualTo(1f / 255f));
    }

    [Test]
    public void SixteenBitPngWithGammaChunkKeepsItsStoredValues()
    {
        // 16-bit RGB, values chosen across the range, with gAMA = 1/2.2 and cHRM: cv2 ignores both, so must we.
        int w = 5, h = 3;
        var rows = new byte[w * h * 6];
        var expect = new int[w * h * 3];
        for (int i = 0; i < expect.Length; i++)
        {
            expect[i] = (i * 4099 + 17) % 65536;
            BinaryPrimitives.WriteUInt16BigEndian(rows.AsSpan(2 * i), (ushort)expect[i]);
        }
        var gama = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(gama, 45455);
        var png = PngReference.Build(w, h, 16, 2, rows, extraChunks: [("gAMA", gama)]);
        var img = ImageCodec.Decode(png, "gamma16.png");
        Assert.That((img.Channels, img.BitDepth), Is.EqualTo((3, 16)));
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < w * h; i++)
                Assert.That(img.Data[c * w * h + i], Is.EqualTo(expect[i * 3 + c] / 65535f), $"c={c} i={i}");
    }

    [Test]
    public void EightBitPngWithLinearGammaKeepsItsStoredValues()
    {
        int w = 16, h = 16;
        var rows = new byte[w * h];
        for (int i = 0; i < rows.Length; i++) rows[i] = (byte)i;
        var gama = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(gama, 100000);
        var img = ImageCodec.Decode(PngReference.Build(w, h, 8, 0, rows, extraChunks: [("gAMA", gama)]), "gamma8.png");
        Assert.That(img.Channels, Is.EqualTo(1));
        for (int i = 0; i < rows.Length; i++) Assert.That(img.Data[i], Is.EqualTo(i / 255f));
    }

    [Test]
    public void PalettePngWithTransparencyExpandsToRgba([Values(8, 4, 2)] int bitDepth)
    {
        int w = 13, h = 7, colours = 1 << bitDepth;
        var plte = new byte[colours * 3];
        for (int i = 0; i < plte.Length; i++) plte[i] = (byte)(i * 37 + 11);
        var trns = new byte[] { 0, 128 };
        int stride = (w * bitDepth + 7) / 8;
        var rows = new byte[stride * h];
        var index = new int[w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int k = (x * 3 + y * 5) % colours;
                index[y * w + x] = k;
                int bit = x * bitDepth;
                rows[y * stride + bit / 8] |= (byte)(k << (8 - bitDepth - bit % 8));
            }
        var img = ImageCodec.Decode(PngReference.Build(w, h, bitDepth, 3, rows, plte, trns), "palette.png");
        Assert.That((img.Width, img.Height, img.Channels, img.BitDepth), Is.EqualTo((w, h, 4, 8)));
        for (int i = 0; i < w * h; i++)
        {
            int k = index[i];
            for (int c = 0; c < 3; c++) Assert.That(img.Data[c * w * h + i], Is.EqualTo(plte[3 * k + c] / 255f));
            Assert.That(img.AlphaPlane[i], Is.EqualTo((k < 2 ? trns[k] : 255) / 255f));
        }
        Assert.That(img.ToRgb().Data, Is.EqualTo(img.Data.AsSpan(0, 3 * w * h).ToArray()));
    }

    [Test]
    public void GreyAlphaPngDecodesToTwoChannels([Values(8, 16)] int bitDepth)
    {
        int w = 9, h = 4, bytes = bitDepth / 8;
        var rows = new byte[w * h * 2 * bytes];
        int max = (1 << bitDepth) - 1;
        var rng = new Random(3);
        var s = new int[w * h * 2];
        for (int i = 0; i < s.Length; i++)
        {
            s[i] = i % 2 == 1 ? max : rng.Next(max + 1); // opaque: the 16-bit path undoes premultiplication exactly
            if (bytes == 1) rows[i] = (byte)s[i];
            else BinaryPrimitives.WriteUInt16BigEndian(rows.AsSpan(2 * i), (ushort)s[i]);
        }
        var img = ImageCodec.Decode(PngReference.Build(w, h, bitDepth, 4, rows), "ga.png");
        Assert.That((img.Channels, img.BitDepth, img.HasAlpha, img.IsGrey), Is.EqualTo((2, bitDepth, true, true)));
        for (int i = 0; i < w * h; i++)
            for (int c = 0; c < 2; c++)
                Assert.That(img.Data[c * w * h + i], Is.EqualTo(s[2 * i + c] / (float)max));
        var rgb = img.ToRgb();
        Assert.That(rgb.Channels, Is.EqualTo(3));
        Assert.That(rgb.Plane(2).ToArray(), Is.EqualTo(img.Plane(0).ToArray()));
        Assert.That(img.Alpha()!.Data, Is.EqualTo(img.Plane(1).ToArray()));
    }

    [Test]
    public void OneBitGreyPngExpandsToZeroAndOne()
    {
        var rows = new byte[] { 0b1010_0000, 0b0101_0000 }; // 4x2
        var img = ImageCodec.Decode(PngReference.Build(4, 2, 1, 0, rows), "bits.png");
        Assert.That(img.Data, Is.EqualTo(new float[] { 1, 0, 1, 0, 0, 1, 0, 1 }));
    }

    [Test]
    public void PpmAndPgmRoundTrip([Values(1, 3)] int channels, [Values(8, 16)] int bitDepth)
    {
        var img = bitDepth == 8 ? Random8(11, 6, channels, 9) : Random16(11, 6, channels, 9, true);
        var ppm = ImageCodec.EncodePpm(img, bitDepth);
        Assert.That((char)ppm[1], Is.EqualTo(channels == 1 ? '5' : '6'));
        var back = ImageCodec.Decode(ppm, "rt.ppm");
        Assert.That((back.Channels, back.BitDepth), Is.EqualTo((channels, bitDepth)));
        Assert.That(back.Data, Is.EqualTo(img.Data));
    }

    [Test]
    public void PgmHeaderWithCommentsAndTenBitMaxval()
    {
        var data = new byte[] { 0, 0, 0x01, 0xFF, 0xFF, 0xFF };
        var img = ImageCodec.Decode([.. System.Text.Encoding.ASCII.GetBytes("P5 # comment\n3 # w\n1\n65535\n"), .. data], "t.pgm");
        Assert.That((img.Width, img.Height, img.Channels, img.BitDepth), Is.EqualTo((3, 1, 1, 16)));
        Assert.That(img.Data[0], Is.EqualTo(0f));
        Assert.That(img.Data[1], Is.EqualTo(511f / 65535f).Within(1e-7f));
        Assert.That(img.Data[2], Is.EqualTo(1f));
        // Netpbm is most significant byte first (ImageSharp 2.1 alone reads and writes it the other way round).
        var written = ImageCodec.EncodePpm(img, 16);
        Assert.That(written[^6..], Is.EqualTo(data));
        // ImageSharp does not scale other maxvals; such a file is refused by name rather than read wrongly.
        var e = Assert.Throws<ImageFormatException>(() => ImageCodec.Decode([.. System.Text.Encoding.ASCII.GetBytes("P5 # comment\n3 # w\n1\n1023\n"), .. data], "t.pgm"))!;
        Assert.That(e.Message, Does.StartWith("t.pgm: ").And.Contain("maxval 1023"));
    }

    static double Psnr(float[] a, float[] b)
    {
        double se = 0;
        for (int i = 0; i < a.Length; i++) se += (a[i] - (double)b[i]) * (a[i] - b[i]);
        return 10 * Math.Log10(1.0 / (se / a.Length));
    }

    static Image RealPng() => ImageCodec.Decode(ValSrFile(0)).ToRgb();

    static string ValSrFile(int k) => Directory.GetFiles(SharedData.Path_("data/ValSR/gt")).OrderBy(x => x, StringComparer.Ordinal).ElementAt(k);

    /// <summary>The first RealSet65 file that is a PNG by its magic bytes: a photo with ordinary colour content.</summary>
    static Image RealSetPhoto() => ImageCodec.Decode(Directory.GetFiles(SharedData.Path_("data/RealSet65"))
        .Where(f => File.ReadAllBytes(f)[0] == 0x89).OrderBy(x => x, StringComparer.Ordinal).First()).ToRgb();

    [Test]
    public void JpegQuality95RoundTripExceeds35Db()
    {
        // (Saturated fine colour texture loses more to 4:2:0: ValSR/gt's first image gives 29.75 dB, the same as cjpeg.)
        var img = RealSetPhoto();
        var jpeg = ImageCodec.EncodeJpeg(img, 95);
        var back = ImageCodec.Decode(jpeg, "q95.jpg");
        Assert.That((back.Width, back.Height, back.Channels), Is.EqualTo((img.Width, img.Height, 3)));
        double psnr = Psnr(img.Data, back.Data);
        double psnr30 = Psnr(img.Data, ImageCodec.Decode(ImageCodec.EncodeJpeg(img, 30), "q30.jpg").Data);
        TestContext.Out.WriteLine($"{img.Width}x{img.Height}: PSNR q95 {psnr:0.00} dB, q30 {psnr30:0.00} dB, {jpeg.Length} bytes at q95");
        Assert.That(psnr, Is.GreaterThan(35));
        Assert.That(psnr30, Is.LessThan(psnr));
    }

    [Test]
    public void EncodedJpegIsBaseline420WithTheRequestedSize()
    {
        var img = Random8(40, 24, 3, 5);
        var j = ImageCodec.EncodeJpeg(img, 80);
        int pos = 2;
        while (!(j[pos] == 0xFF && j[pos + 1] is 0xC0 or 0xC2)) pos += 2 + ((j[pos + 2] << 8) | j[pos + 3]);
        Assert.That(j[pos + 1], Is.EqualTo(0xC0), "baseline SOF0");
        Assert.That(JpegReference.ReadSof(j), Is.EqualTo((40, 24, 3)));
        Assert.That(j[pos + 11], Is.EqualTo(0x22), "luma sampled 2x2");
        Assert.That(j[pos + 14], Is.EqualTo(0x11));
        Assert.That(j[pos + 17], Is.EqualTo(0x11));
        var grey = ImageCodec.EncodeJpeg(Random8(8, 8, 1, 1), 90);
        Assert.That(JpegReference.ReadSof(grey).Components, Is.EqualTo(1));
        Assert.That(ImageCodec.Decode(grey, "g.jpg").Channels, Is.EqualTo(1));
    }

    [Test]
    public void JpegRoundTripEqualsEncodeThenDecode([Values(10, 50, 95)] int quality)
    {
        var img = RealPng();
        var viaRoundTrip = ImageCodec.JpegRoundTrip(img.Data, img.Width, img.Height, quality);
        var viaCodec = ImageCodec.Decode(ImageCodec.EncodeJpeg(img, quality), "x.jpg").Data;
        Assert.That(viaRoundTrip, Is.EqualTo(viaCodec));
        Assert.That(Psnr(img.Data, viaRoundTrip), Is.GreaterThan(20).And.LessThan(60));
    }

    [Test]
    public void JpegRoundTripClampsAndRoundsLikeCv2()
    {
        // A flat image survives JPEG exactly; values outside [0,1] clamp, NaN becomes 0, 0.5/255 rounds to even (0).
        int w = 16, h = 16, n = w * h;
        var data = new float[3 * n];
        data.AsSpan(0, n).Fill(2f);
        data.AsSpan(n, n).Fill(float.NaN);
        data.AsSpan(2 * n, n).Fill(128.5f / 255f); // rounds to 128 (even)
        var o = ImageCodec.JpegRoundTrip(data, w, h, 100);
        Assert.That(o[0], Is.EqualTo(1f).Within(1f / 255f));
        Assert.That(o[n], Is.EqualTo(0f).Within(1f / 255f));
        Assert.That(o[2 * n], Is.EqualTo(128f / 255f).Within(1f / 255f));
    }

    /// <summary>A JPEG with an APP1 Exif segment carrying only IFD0 tag 0x0112, inserted right after SOI.</summary>
    static byte[] WithOrientation(byte[] jpeg, int orientation, bool littleEndian)
    {
        var tiff = new byte[8 + 2 + 12 + 4];
        void U16(int o, int v) { if (littleEndian) BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(o), (ushort)v); else BinaryPrimitives.WriteUInt16BigEndian(tiff.AsSpan(o), (ushort)v); }
        void U32(int o, int v) { if (littleEndian) BinaryPrimitives.WriteInt32LittleEndian(tiff.AsSpan(o), v); else BinaryPrimitives.WriteInt32BigEndian(tiff.AsSpan(o), v); }
        tiff[0] = tiff[1] = (byte)(littleEndian ? 'I' : 'M');
        U16(2, 42);
        U32(4, 8);
        U16(8, 1);
        U16(10, 0x0112);
        U16(12, 3);
        U32(14, 1);
        U16(18, orientation);
        byte[] app1 = [0xFF, 0xE1, 0, 0, (byte)'E', (byte)'x', (byte)'i', (byte)'f', 0, 0, .. tiff];
        BinaryPrimitives.WriteUInt16BigEndian(app1.AsSpan(2), (ushort)(app1.Length - 2));
        return [.. jpeg.AsSpan(0, 2), .. app1, .. jpeg.AsSpan(2)];
    }

    // Reference transforms built from three primitive moves, independent of the codec's index formulas.
    static float[,] Transpose(float[,] a) { var o = new float[a.GetLength(1), a.GetLength(0)]; for (int r = 0; r < a.GetLength(0); r++) for (int c = 0; c < a.GetLength(1); c++) o[c, r] = a[r, c]; return o; }
    static float[,] MirrorX(float[,] a) { var o = (float[,])a.Clone(); int w = a.GetLength(1); for (int r = 0; r < a.GetLength(0); r++) for (int c = 0; c < w; c++) o[r, c] = a[r, w - 1 - c]; return o; }
    static float[,] MirrorY(float[,] a) { var o = (float[,])a.Clone(); int h = a.GetLength(0); for (int r = 0; r < h; r++) for (int c = 0; c < a.GetLength(1); c++) o[r, c] = a[h - 1 - r, c]; return o; }

    static float[,] Display(float[,] a, int o) => o switch
    {
        1 => a,
        2 => MirrorX(a),
        3 => MirrorY(MirrorX(a)),
        4 => MirrorY(a),
        5 => Transpose(a),
        6 => MirrorX(Transpose(a)),           // rotate 90 degrees clockwise
        7 => MirrorY(MirrorX(Transpose(a))),
        _ => MirrorY(Transpose(a)),           // 8: rotate 90 degrees counter-clockwise
    };

    static float[,] PlaneOf(Image img, int c)
    {
        var o = new float[img.Height, img.Width];
        for (int y = 0; y < img.Height; y++) for (int x = 0; x < img.Width; x++) o[y, x] = img[c, y, x];
        return o;
    }

    [Test]
    public void ExifOrientationIsApplied([Range(1, 8)] int orientation, [Values(false, true)] bool littleEndian)
    {
        // 48x32 image: red top-left quadrant, blue elsewhere.
        var img = new Image(48, 32, 3);
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 48; x++)
            {
                bool tl = x < 24 && y < 16;
                img[0, y, x] = tl ? 1f : 0f;
                img[2, y, x] = tl ? 0f : 1f;
            }
        var jpeg = WithOrientation(ImageCodec.EncodeJpeg(img, 95), orientation, littleEndian);
        var stored = ImageCodec.Decode(jpeg, "o.jpg", new ImageDecodeOptions { ApplyExifOrientation = false });
        var shown = ImageCodec.Decode(jpeg, "o.jpg");
        Assert.That((stored.Width, stored.Height), Is.EqualTo((48, 32)));
        Assert.That((shown.Width, shown.Height), Is.EqualTo(orientation >= 5 ? (32, 48) : (48, 32)));
        for (int c = 0; c < 3; c++) Assert.That(PlaneOf(shown, c), Is.EqualTo(Display(PlaneOf(stored, c), orientation)));
        if (orientation == 6)
        {
            // Rotating clockwise moves the stored top-left quadrant to the top-right.
            Assert.That(shown[0, 4, 28], Is.GreaterThan(0.9f));
            Assert.That(shown[0, 4, 4], Is.LessThan(0.1f));
        }
    }

    [Test]
    public void SaveWritesTheFormatItsExtensionNamesAtomically()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"ctmsr-img-{Guid.NewGuid():N}");
        try
        {
            var img = Random16(10, 8, 3, 2, true);
            ImageCodec.Save(img, Path.Combine(dir, "a.png"));
            ImageCodec.Save(img, Path.Combine(dir, "a.jpg"), jpegQuality: 90);
            ImageCodec.Save(img, Path.Combine(dir, "a.ppm"), bitDepth: 8);
            Assert.That(PngReference.ReadHeader(File.ReadAllBytes(Path.Combine(dir, "a.png"))).BitDepth, Is.EqualTo(16));
            Assert.That(ImageCodec.Decode(Path.Combine(dir, "a.png")).Data, Is.EqualTo(img.Data));
            Assert.That(ImageCodec.Detect(File.ReadAllBytes(Path.Combine(dir, "a.jpg"))), Is.EqualTo(ImageCodec.Format.Jpeg));
            Assert.That(ImageCodec.Decode(Path.Combine(dir, "a.ppm")).BitDepth, Is.EqualTo(8));
            Assert.That(Directory.GetFiles(dir).Select(Path.GetFileName), Is.EquivalentTo(new[] { "a.png", "a.jpg", "a.ppm" }), "no temporary files left");
            Assert.Throws<ArgumentException>(() => ImageCodec.Save(img, Path.Combine(dir, "a.bmp")));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }
}
