using System.Buffers.Binary;
using System.IO.Compression;
using Ctmsr.Imaging;
using Ctmsr.Inference;
using SixLabors.ImageSharp.PixelFormats;
using SL = SixLabors.ImageSharp;

namespace Ctmsr.Tests.Imaging;

/// <summary>ICC profiles carried to every output format that holds one: JPEG (APP2) and TIFF (tag 34675) through
/// ImageSharp, PNG (iCCP) and WebP (ICCP) written by IccEmbedding because ImageSharp 2.1.13 leaves them out. Outputs
/// are read back by ImageSharp where it reads the profile, and by a chunk walk here for PNG (ImageSharp 2.1 ignores iCCP).</summary>
public sealed class ImagingIccTests
{
    /// <summary>A real display profile: the 536-byte sRGB-like profile embedded in RealSet65/cat2.jpeg, as ImageSharp reads it.</summary>
    static byte[] RgbProfile()
    {
        var info = SL.Image.Identify(SharedData.Path_("data/RealSet65/cat2.jpeg"));
        var icc = info.Metadata.IccProfile?.ToByteArray();
        Assert.That(icc, Is.Not.Null.And.Length.GreaterThan(128), "cat2.jpeg carries an ICC profile");
        Assert.That(System.Text.Encoding.ASCII.GetString(icc!, 16, 4), Is.EqualTo("RGB "));
        return icc!;
    }

    /// <summary>A minimal valid ICC v2 grey display profile built by hand: header (128 bytes), a tag table with wtpt
    /// (D50 XYZ) and kTRC (gamma 2.2 curve).</summary>
    static byte[] GreyProfile()
    {
        var p = new byte[128 + 4 + 2 * 12 + 20 + 14 + 2];
        BinaryPrimitives.WriteUInt32BigEndian(p, (uint)p.Length);
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(8), 0x02100000); // version 2.1
        "mntr"u8.CopyTo(p.AsSpan(12));
        "GRAY"u8.CopyTo(p.AsSpan(16));
        "XYZ "u8.CopyTo(p.AsSpan(20));
        "acsp"u8.CopyTo(p.AsSpan(36));
        BinaryPrimitives.WriteInt32BigEndian(p.AsSpan(68), 0xF6D6); // illuminant D50 X, s15.16
        BinaryPrimitives.WriteInt32BigEndian(p.AsSpan(72), 0x10000);
        BinaryPrimitives.WriteInt32BigEndian(p.AsSpan(76), 0xD32D);
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(128), 2);
        "wtpt"u8.CopyTo(p.AsSpan(132));
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(136), 156);
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(140), 20);
        "kTRC"u8.CopyTo(p.AsSpan(144));
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(148), 176);
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(152), 14);
        "XYZ "u8.CopyTo(p.AsSpan(156));
        p.AsSpan(68, 12).CopyTo(p.AsSpan(164));
        "curv"u8.CopyTo(p.AsSpan(176));
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(184), 1);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(188), 0x0233); // u8.8 gamma 2.2
        return p;
    }

    static Image Card(int channels, byte[] icc) =>
        new(24, 16, channels, 8, Enumerable.Range(0, 24 * 16 * channels).Select(i => (i * 37 % 251) / 250f).ToArray())
        { Profiles = new ImageProfiles(icc, null) };

    /// <summary>The profile of a PNG's iCCP chunk, read here: the chunk must come right after IHDR and before IDAT, its
    /// CRC must hold, and its data inflates to the profile.</summary>
    static byte[]? PngIcc(byte[] png)
    {
        int p = 8;
        string? previous = null;
        while (p + 12 <= png.Length)
        {
            int len = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(p));
            string type = System.Text.Encoding.ASCII.GetString(png, p + 4, 4);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(p + 8 + len));
            Assert.That(crc, Is.EqualTo(PngReference.Crc32(png.AsSpan(p + 4, 4 + len))), $"{type} CRC");
            if (type == "iCCP")
            {
                Assert.That(previous, Is.EqualTo("IHDR"), "iCCP right after IHDR");
                var d = png.AsSpan(p + 8, len);
                int nul = d.IndexOf((byte)0);
                Assert.That(nul, Is.InRange(1, 79), "profile name 1..79 bytes");
                Assert.That(d[nul + 1], Is.EqualTo(0), "compression method 0");
                using var z = new ZLibStream(new MemoryStream(d[(nul + 2)..].ToArray()), CompressionMode.Decompress);
                using var o = new MemoryStream();
                z.CopyTo(o);
                return o.ToArray();
            }
            if (type is "IDAT" or "IEND") return null;
            previous = type;
            p += 12 + len;
        }
        return null;
    }

    [Test]
    public void RgbProfileIsCarriedByEveryFormat()
    {
        var icc = RgbProfile();
        var img = Card(3, icc);

        var png = ImageCodec.EncodePng(img);
        Assert.That(PngIcc(png), Is.EqualTo(icc), "PNG iCCP");
        Assert.That(PngIcc(ImageCodec.EncodePng(img, 16)), Is.EqualTo(icc), "16-bit PNG iCCP");
        using (var back = SL.Image.Load<Rgb24>(png))
        using (var plain = SL.Image.Load<Rgb24>(ImageCodec.EncodePng(Bare(img))))
            Assert.That(Pixels(back), Is.EqualTo(Pixels(plain)), "ImageSharp still decodes the PNG, to the same pixels");

        foreach (var (name, bytes) in new[]
        {
            ("JPEG", ImageCodec.EncodeJpeg(img)),
            ("lossless WebP", ImageCodec.EncodeWebp(img, lossless: true)),
            ("lossy WebP", ImageCodec.EncodeWebp(img, lossless: false)),
            ("WebP with alpha", ImageCodec.EncodeWebp(Card(4, icc), lossless: true)),
            ("TIFF", ImageCodec.EncodeTiff(img)),
        })
        {
            using var back = SL.Image.Load(bytes);
            var got = (back.Metadata.IccProfile ?? back.Frames.RootFrame.Metadata.IccProfile)?.ToByteArray();
            Assert.That(got, Is.EqualTo(icc), $"{name}: ImageSharp reads the profile back");
            Assert.That((back.Width, back.Height), Is.EqualTo((24, 16)), name);
        }
        using (var lossless = SL.Image.Load<Rgba32>(ImageCodec.EncodeWebp(Card(4, icc), lossless: true)))
        using (var plain = SL.Image.Load<Rgba32>(ImageCodec.EncodeWebp(Bare(Card(4, icc)), lossless: true)))
            Assert.That(Pixels(lossless), Is.EqualTo(Pixels(plain)), "the WebP with a made VP8X header decodes to the same pixels, alpha included");
    }

    [Test]
    public void DecodingKeepsTheProfileOfEveryFormat()
    {
        var icc = RgbProfile();
        var img = Card(3, icc);
        foreach (var (name, bytes) in new[]
        {
            ("PNG", ImageCodec.EncodePng(img)), ("JPEG", ImageCodec.EncodeJpeg(img)), ("WebP", ImageCodec.EncodeWebp(img)), ("TIFF", ImageCodec.EncodeTiff(img)),
        })
            Assert.That(ImageCodec.Decode(bytes, name).Profiles?.Icc, Is.EqualTo(icc), name);

        // a PNG written by another encoder (PngReference), with the profile compressed here
        var z = new MemoryStream();
        z.Write("sRGB IEC61966-2.1\0\0"u8);
        using (var zs = new ZLibStream(z, CompressionLevel.Fastest, leaveOpen: true)) zs.Write(icc);
        var foreign = PngReference.Build(2, 2, 8, 2, new byte[12], extraChunks: [("iCCP", z.ToArray())]);
        Assert.That(ImageCodec.Decode(foreign, "foreign.png").Profiles?.Icc, Is.EqualTo(icc));

        // a damaged iCCP loses the profile, not the image
        var broken = PngReference.Build(2, 2, 8, 2, new byte[12], extraChunks: [("iCCP", "x\0\0garbage"u8.ToArray())]);
        var dec = ImageCodec.Decode(broken, "broken.png");
        Assert.That((dec.Width, dec.Profiles?.Icc), Is.EqualTo((2, (byte[]?)null)));
    }

    [Test]
    public void GreyProfileGoesWithGreyOutputAndOnlyThere()
    {
        var grey = GreyProfile();
        var g = Card(1, grey);
        Assert.That(PngIcc(ImageCodec.EncodePng(g)), Is.EqualTo(grey), "grey PNG");
        using (var j = SL.Image.Load(ImageCodec.EncodeJpeg(g))) Assert.That(j.Metadata.IccProfile?.ToByteArray(), Is.EqualTo(grey), "grey JPEG");

        // a profile that does not describe the samples is left out: RGB profile on grey output, grey profile on RGB
        var rgbOnGrey = Card(1, RgbProfile());
        Assert.That(PngIcc(ImageCodec.EncodePng(rgbOnGrey)), Is.Null);
        using (var j = SL.Image.Load(ImageCodec.EncodeJpeg(rgbOnGrey))) Assert.That(j.Metadata.IccProfile, Is.Null);
        Assert.That(PngIcc(ImageCodec.EncodePng(Card(3, grey))), Is.Null);
        using (var w = SL.Image.Load(ImageCodec.EncodeWebp(Card(3, grey)))) Assert.That(w.Metadata.IccProfile, Is.Null);
    }

    /// <summary>End to end: a real photo's profile reaches the upscaled PNG and WebP.</summary>
    [TestCase("out.png")]
    [TestCase("out.webp")]
    public void UpscaleCarriesTheInputProfile(string name)
    {
        var icc = RgbProfile();
        var dir = Path.Combine(Path.GetTempPath(), "ctmsr-icc-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var input = Path.Combine(dir, "in.jpg");
            File.WriteAllBytes(input, ImageCodec.EncodeJpeg(Card(3, icc)));
            using var up = new Upscaler(new Ctmsr.Kernels.Cpu.CpuBackend(), Ctmsr.Tests.Inference.InferenceKit.State);
            var r = up.UpscaleFile(input, Path.Combine(dir, name));
            Assert.That(r.Status, Is.EqualTo("done"));
            var bytes = File.ReadAllBytes(r.Output!);
            var got = name.EndsWith(".png") ? PngIcc(bytes) : SL.Image.Load(bytes).Metadata.IccProfile?.ToByteArray();
            Assert.That(got, Is.EqualTo(icc));
        }
        finally { Directory.Delete(dir, true); }
    }

    static Image Bare(Image i) => new(i.Width, i.Height, i.Channels, i.BitDepth, i.Data);

    static byte[] Pixels<T>(SL.Image<T> img) where T : unmanaged, IPixel<T>
    {
        var o = new byte[img.Width * img.Height * System.Runtime.CompilerServices.Unsafe.SizeOf<T>()];
        img.CopyPixelDataTo(o);
        return o;
    }
}
