using Ctmsr.Kernels;

namespace Ctmsr.Imaging;

/// <summary>Reads and writes PNG (libpng), JPEG (libjpeg-turbo) and binary PPM/PGM. The format is taken from the
/// file's magic bytes, never from its extension; every failure to decode is an <see cref="ImageFormatException"/>
/// naming the file and the problem. Pixel values match cv2.imread (no colour management, EXIF orientation applied).</summary>
public static class ImageCodec
{
    public enum Format { Unknown, Png, Jpeg, Netpbm }

    /// <summary>Loads libturbojpeg and libpng now (they are otherwise loaded on first use), so a CLI can fail at start-up
    /// with the one-line DllNotFoundException that names the missing Debian package.</summary>
    public static void EnsureNativeLibraries()
    {
        _ = Native.TurboJpeg.Api;
        _ = Native.LibPng.Api;
    }

    /// <summary>The container format named by the leading bytes, or Unknown.</summary>
    public static Format Detect(ReadOnlySpan<byte> data)
    {
        if (PngCodec.HasSignature(data)) return Format.Png;
        if (data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return Format.Jpeg;
        if (NetpbmCodec.HasSignature(data)) return Format.Netpbm;
        return Format.Unknown;
    }

    public static Image Decode(string path, ImageDecodeOptions? options = null)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"{path}: image file not found: check the path", path);
        }
        var opt = options ?? ImageDecodeOptions.Default;
        if (opt.OnWarning is { } warn && bytes.Length > 0)
        {
            var fromExtension = FormatOfExtension(path);
            var fromBytes = Detect(bytes);
            if (fromExtension != Format.Unknown && fromBytes != Format.Unknown && fromExtension != fromBytes)
                warn($"{path}: the extension says {fromExtension} but the contents are {fromBytes}; decoded as {fromBytes} (rename the file)");
        }
        return Decode(bytes, path, opt);
    }

    /// <summary>The format a file name's extension names, or Unknown.</summary>
    public static Format FormatOfExtension(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".png" => Format.Png,
        ".jpg" or ".jpeg" or ".jpe" or ".jfif" => Format.Jpeg,
        ".ppm" or ".pgm" or ".pnm" => Format.Netpbm,
        _ => Format.Unknown,
    };

    public static Image Decode(ReadOnlySpan<byte> bytes, string nameForErrors, ImageDecodeOptions? options = null)
    {
        var opt = options ?? ImageDecodeOptions.Default;
        if (bytes.Length == 0)
            throw new ImageFormatException(nameForErrors, "empty file (0 bytes): the download or copy was interrupted, fetch the file again");
        return Detect(bytes) switch
        {
            Format.Png => PngCodec.Decode(bytes, nameForErrors, opt),
            Format.Jpeg => JpegCodec.Decode(bytes, nameForErrors, opt),
            Format.Netpbm => NetpbmCodec.Decode(bytes, nameForErrors, opt),
            _ => throw new ImageFormatException(nameForErrors, $"{DescribeUnknown(bytes)}: convert it to PNG or JPEG"),
        };
    }

    internal static string DescribeUnknown(ReadOnlySpan<byte> d)
    {
        static bool At(ReadOnlySpan<byte> d, int o, ReadOnlySpan<byte> s) => d.Length >= o + s.Length && d.Slice(o, s.Length).SequenceEqual(s);
        if (At(d, 0, "GIF8"u8)) return "GIF images are not supported";
        if (At(d, 0, "BM"u8)) return "BMP images are not supported";
        if (At(d, 0, "RIFF"u8) && At(d, 8, "WEBP"u8)) return "WebP images are not supported";
        if (At(d, 0, "II*\0"u8) || At(d, 0, "MM\0*"u8)) return "TIFF images are not supported";
        if (At(d, 4, "ftyp"u8)) return "HEIF/AVIF images are not supported";
        if (d.Length >= 2 && d[0] == 'P' && d[1] is (byte)'1' or (byte)'2' or (byte)'3' or (byte)'4' or (byte)'7')
            return "only binary PGM (P5) and PPM (P6) are supported among Netpbm formats";
        if (d.Length >= 2 && d[0] == 0xFF && d[1] == 0xD8) return "truncated JPEG (only the start marker is present)";
        if (d.Length >= 1 && d[0] == 0x89 && (d.Length < 8 || PngCodec.HasSignature(PadPng(d)))) return "truncated PNG signature";
        return "not a PNG, JPEG or PPM/PGM image (unrecognised leading bytes)";
    }

    static ReadOnlySpan<byte> PadPng(ReadOnlySpan<byte> d)
    {
        var sig = new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A };
        d[..Math.Min(d.Length, 8)].CopyTo(sig);
        return sig;
    }

    internal static void CheckSize(string name, long width, long height, ImageDecodeOptions opt)
    {
        if (width <= 0 || height <= 0)
            throw new ImageFormatException(name, $"header declares an empty image ({width}x{height}): the file is damaged, re-export or remove it");
        if (width * height > opt.MaxPixels)
            throw new ImageFormatException(name, $"image is {width}x{height} = {width * height / 1e6:0.#} megapixels, over the limit of {opt.MaxPixels / 1e6:0.#}: downscale it or raise ImageDecodeOptions.MaxPixels");
        if (width * height * 4 > Array.MaxLength)
            throw new ImageFormatException(name, $"image is {width}x{height}, too large to hold in memory: downscale or tile it");
    }

    /// <summary>PNG of all channels (alpha kept), 8 or 16 bits per sample.</summary>
    public static byte[] EncodePng(Image image, int bitDepth = 8) => PngCodec.Encode(image, bitDepth);

    /// <summary>Baseline JPEG (alpha dropped), 4:2:0 chroma subsampling for colour, accurate DCT: the same bytes as
    /// cv2.imencode('.jpg', img, [IMWRITE_JPEG_QUALITY, quality]).</summary>
    public static byte[] EncodeJpeg(Image image, int quality = 95) => JpegCodec.Encode(image, quality);

    /// <summary>Binary PGM (grey) or PPM (colour); alpha is dropped.</summary>
    public static byte[] EncodePpm(Image image, int bitDepth = 8) => NetpbmCodec.Encode(image, bitDepth);

    /// <summary>Writes the image in the format its extension names (.png, .jpg/.jpeg, .ppm/.pgm/.pnm) through a
    /// temporary file and a rename. bitDepth defaults to the image's own (PNG, PPM); quality applies to JPEG.</summary>
    public static void Save(Image image, string path, int? bitDepth = null, int jpegQuality = 95)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        int depth = bitDepth ?? image.BitDepth;
        byte[] bytes = ext switch
        {
            ".png" => EncodePng(image, depth),
            ".jpg" or ".jpeg" => EncodeJpeg(image, jpegQuality),
            ".ppm" or ".pnm" => EncodePpm(image.IsGrey ? image.ToRgb() : image, depth),
            ".pgm" => image.IsGrey ? EncodePpm(image, depth)
                : throw new ArgumentException($"{path}: PGM holds grey images only, this one is RGB: save it as .png or .ppm"),
            _ => throw new ArgumentException($"{path}: unknown image extension '{ext}': use .png, .jpg, .jpeg, .ppm or .pgm"),
        };
        AtomicFile.WriteAllBytes(path, bytes);
    }

    /// <summary>JPEG compression as a degradation, as Real-ESRGAN does with cv2: clamp to [0,1], round to 8 bits,
    /// encode (4:2:0, given quality), decode, divide by 255. Input and output are RGB planar [3, height, width].</summary>
    public static float[] JpegRoundTrip(float[] rgbChw, int width, int height, int quality)
    {
        ArgumentNullException.ThrowIfNull(rgbChw);
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"size {width}x{height} must be positive");
        int n = checked(width * height);
        if (rgbChw.Length != 3 * n) throw new ArgumentException($"expected 3x{height}x{width} = {3 * n} floats, got {rgbChw.Length}", nameof(rgbChw));
        if (quality is < 1 or > 100) throw new ArgumentOutOfRangeException(nameof(quality), $"JPEG quality {quality} must be 1..100");
        var px = GC.AllocateUninitializedArray<byte>(3 * n);
        PixelPacking.Pack8(rgbChw, n, 3, px);
        var jpeg = JpegCodec.Encode(px, width, height, 3, quality);
        JpegCodec.DecodeRgb(jpeg, width, height, px);
        var o = GC.AllocateUninitializedArray<float>(3 * n);
        PixelPacking.Unpack8(px, 3, o, n);
        return o;
    }
}
