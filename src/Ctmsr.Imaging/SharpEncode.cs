using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Pbm;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Formats.Tiff.Constants;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.Metadata.Profiles.Icc;
using SixLabors.ImageSharp.PixelFormats;
using SL = SixLabors.ImageSharp;

namespace Ctmsr.Imaging;

/// <summary>Encoding through ImageSharp. Planar float samples are clamped to [0,1] and rounded half to even (as
/// OpenCV's saturate_cast; NaN becomes 0) into the pixel type that matches the image (grey, grey+alpha, RGB, RGBA,
/// 8 or 16 bits), so no encoder converts colours. The ICC profile the image carries goes into every output format but
/// PPM (JPEG APP2 and TIFF tag 34675 by ImageSharp, PNG iCCP and WebP ICCP by <see cref="IccEmbedding"/>); EXIF into
/// JPEG, WebP and TIFF.</summary>
internal static class SharpEncode
{
    public static byte[] Png(Image image, int bitDepth)
    {
        if (bitDepth is not (8 or 16)) throw new ArgumentOutOfRangeException(nameof(bitDepth), $"PNG bit depth {bitDepth} must be 8 or 16");
        var enc = new PngEncoder
        {
            BitDepth = bitDepth == 16 ? PngBitDepth.Bit16 : PngBitDepth.Bit8,
            ColorType = image.Channels switch
            {
                1 => PngColorType.Grayscale,
                2 => PngColorType.GrayscaleWithAlpha,
                3 => PngColorType.Rgb,
                _ => PngColorType.RgbWithAlpha,
            },
            CompressionLevel = PngCompressionLevel.DefaultCompression,
            // ImageSharp would otherwise zero the colour of fully transparent pixels; keep what the model produced.
            TransparentColorMode = PngTransparentColorMode.Preserve,
        };
        return Encode(image, bitDepth, keepAlpha: true, enc);
    }

    public static byte[] Jpeg(Image image, int quality)
    {
        if (quality is < 1 or > 100) throw new ArgumentOutOfRangeException(nameof(quality), $"JPEG quality {quality} must be 1..100");
        var enc = new JpegEncoder { Quality = quality, ColorType = image.IsGrey ? JpegColorType.Luminance : JpegColorType.YCbCrRatio420 };
        return Encode(image, 8, keepAlpha: false, enc);
    }

    public static byte[] Webp(Image image, bool lossless, int quality)
    {
        if (quality is < 1 or > 100) throw new ArgumentOutOfRangeException(nameof(quality), $"WebP quality {quality} must be 1..100");
        var enc = new WebpEncoder
        {
            FileFormat = lossless ? WebpFileFormatType.Lossless : WebpFileFormatType.Lossy,
            Quality = quality,
            TransparentColorMode = WebpTransparentColorMode.Preserve,
        };
        return Encode(image, 8, keepAlpha: true, enc);
    }

    /// <summary>8-bit RGB or grey TIFF, Deflate-compressed with the horizontal predictor (ImageSharp 2.x writes no
    /// 16-bit or alpha TIFF).</summary>
    public static byte[] Tiff(Image image)
    {
        var enc = new TiffEncoder
        {
            BitsPerPixel = image.IsGrey ? TiffBitsPerPixel.Bit8 : TiffBitsPerPixel.Bit24,
            PhotometricInterpretation = image.IsGrey ? TiffPhotometricInterpretation.BlackIsZero : TiffPhotometricInterpretation.Rgb,
            Compression = TiffCompression.Deflate,
            HorizontalPredictor = TiffPredictor.Horizontal,
        };
        return Encode(image, 8, keepAlpha: false, enc);
    }

    public static byte[] Pnm(Image image, int bitDepth)
    {
        if (bitDepth is not (8 or 16)) throw new ArgumentOutOfRangeException(nameof(bitDepth), $"PPM bit depth {bitDepth} must be 8 or 16");
        var enc = new PbmEncoder
        {
            Encoding = PbmEncoding.Binary,
            ColorType = image.IsGrey ? PbmColorType.Grayscale : PbmColorType.Rgb,
            ComponentType = bitDepth == 16 ? PbmComponentType.Short : PbmComponentType.Byte,
        };
        // ImageSharp 2.1 writes 16-bit samples least significant byte first; Netpbm stores the most significant first.
        return Encode(image, bitDepth, keepAlpha: false, enc, swap16: true);
    }

    static byte[] Encode(Image image, int bitDepth, bool keepAlpha, IImageEncoder encoder, bool swap16 = false)
    {
        bool alpha = keepAlpha && image.HasAlpha;
        using var sl = bitDepth == 16 ? ToSharp16(image, alpha, swap16) : ToSharp8(image, alpha);
        if (image.Profiles is { } p)
        {
            if (p.Icc is not null && IccEmbedding.Fits(p.Icc, image.IsGrey))
            {
                sl.Metadata.IccProfile = new IccProfile(p.Icc);
                // ImageSharp 2.1's TIFF encoder writes tag 34675 from the frame's metadata, not the image's
                sl.Frames.RootFrame.Metadata.IccProfile = new IccProfile(p.Icc);
            }
            if (p.Exif is not null) sl.Metadata.ExifProfile = new ExifProfile(p.Exif);
        }
        using var ms = new MemoryStream();
        sl.Save(ms, encoder);
        var bytes = ms.ToArray();
        // ImageSharp 2.1.13 writes no ICC profile into PNG or WebP: add the chunk (IccEmbedding)
        if (image.Profiles?.Icc is { } icc && IccEmbedding.Fits(icc, image.IsGrey))
        {
            if (encoder is PngEncoder) bytes = IccEmbedding.AddToPng(bytes, icc);
            else if (encoder is WebpEncoder) bytes = IccEmbedding.AddToWebp(bytes, icc, image.Width, image.Height, alpha);
        }
        return bytes;
    }

    static SL.Image ToSharp8(Image image, bool alpha)
    {
        var img = new SL.Image<Rgba32>(image.Width, image.Height);
        int w = image.Width, n = image.PlaneSize, colour = image.ColorChannels;
        var d = image.Data;
        img.ProcessPixelRows(acc =>
        {
            for (int y = 0; y < acc.Height; y++)
            {
                var row = acc.GetRowSpan(y);
                for (int x = 0, i = y * w; x < row.Length; x++, i++)
                {
                    byte r = PixelPacking.To8(d[i]);
                    byte g = colour == 1 ? r : PixelPacking.To8(d[n + i]);
                    byte b = colour == 1 ? r : PixelPacking.To8(d[2 * n + i]);
                    row[x] = new Rgba32(r, g, b, alpha ? PixelPacking.To8(d[colour * n + i]) : byte.MaxValue);
                }
            }
        });
        return img;
    }

    static SL.Image ToSharp16(Image image, bool alpha, bool swap)
    {
        var img = new SL.Image<Rgba64>(image.Width, image.Height);
        int w = image.Width, n = image.PlaneSize, colour = image.ColorChannels;
        var d = image.Data;
        img.ProcessPixelRows(acc =>
        {
            for (int y = 0; y < acc.Height; y++)
            {
                var row = acc.GetRowSpan(y);
                for (int x = 0, i = y * w; x < row.Length; x++, i++)
                {
                    ushort r = PixelPacking.To16(d[i]);
                    ushort g = colour == 1 ? r : PixelPacking.To16(d[n + i]);
                    ushort b = colour == 1 ? r : PixelPacking.To16(d[2 * n + i]);
                    if (swap) (r, g, b) = (Swap(r), Swap(g), Swap(b));
                    row[x] = new Rgba64(r, g, b, alpha ? PixelPacking.To16(d[colour * n + i]) : ushort.MaxValue);
                }
            }
        });
        return img;
    }

    static ushort Swap(ushort v) => System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v);

    /// <summary>JPEG compression as a degradation: clamp, round to 8 bits, encode 4:2:0 at the quality, decode.</summary>
    public static float[] JpegRoundTrip(float[] rgbChw, int width, int height, int quality)
    {
        var img = new Image(width, height, 3, 8, rgbChw);
        var jpeg = Jpeg(img, quality);
        using var back = SL.Image.Load<Rgb24>(jpeg);
        int n = width * height;
        var o = GC.AllocateUninitializedArray<float>(3 * n);
        back.ProcessPixelRows(acc =>
        {
            for (int y = 0; y < acc.Height; y++)
            {
                var row = acc.GetRowSpan(y);
                for (int x = 0, i = y * width; x < row.Length; x++, i++)
                {
                    o[i] = row[x].R / 255f;
                    o[n + i] = row[x].G / 255f;
                    o[2 * n + i] = row[x].B / 255f;
                }
            }
        });
        return o;
    }
}
