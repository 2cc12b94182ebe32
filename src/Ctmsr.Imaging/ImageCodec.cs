using Ctmsr.Kernels;

namespace Ctmsr.Imaging;

/// <summary>Reads and writes images through ImageSharp (fully managed: no native codec on any OS). In: PNG (1-16 bit,
/// grey, palette, alpha), JPEG (baseline, progressive, grey, CMYK/YCCK), WebP, TIFF, BMP, TGA, GIF (first frame),
/// binary PPM/PGM. Out: PNG, JPEG, WebP (lossless or lossy), TIFF, PPM/PGM. The format is taken from the file's
/// contents, never from its extension; every failure to decode is an <see cref="ImageFormatException"/> naming the
/// file and the problem. Samples are the stored values (no colour management), EXIF orientation applied.</summary>
public static class ImageCodec
{
    public enum Format { Unknown, Png, Jpeg, Netpbm, WebP, Tiff, Bmp, Tga, Gif }

    /// <summary>Nothing to load any more: every codec is managed code. Kept so that callers written for the native
    /// codecs still build.</summary>
    public static void EnsureNativeLibraries() { }

    /// <summary>The most threads ImageSharp's decoders, encoders and pixel operations use at once (its
    /// Configuration.MaxDegreeOfParallelism; default the processor count). `--threads N` sets it with the CPU kernels'.</summary>
    public static int Threads
    {
        get => SharpDecode.Threads;
        set => SharpDecode.Threads = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), $"image threads {value}: must be at least 1");
    }

    /// <summary>The container format named by the leading bytes, or Unknown.</summary>
    public static Format Detect(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty) return Format.Unknown;
        return SharpDecode.DetectFormat(data)?.Name.ToUpperInvariant() switch
        {
            "PNG" => Format.Png,
            "JPEG" => Format.Jpeg,
            "PBM" => Format.Netpbm,
            "WEBP" => Format.WebP,
            "TIFF" => Format.Tiff,
            "BMP" => Format.Bmp,
            "TGA" => Format.Tga,
            "GIF" => Format.Gif,
            _ => Format.Unknown,
        };
    }

    public static Image Decode(string path, ImageDecodeOptions? options = null)
    {
        byte[] bytes;
        try
        {
            bytes = path == "-" ? ReadStdin() : File.ReadAllBytes(path);
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
        return Decode(bytes, path == "-" ? "<stdin>" : path, opt);
    }

    static byte[] ReadStdin()
    {
        using var ms = new MemoryStream();
        using var s = Console.OpenStandardInput();
        s.CopyTo(ms);
        return ms.ToArray();
    }

    /// <summary>Width and height from the file's header (no pixels decoded), or null when the file is missing or not an
    /// image this tool reads (Decode then gives the reason).</summary>
    public static (int Width, int Height)? Identify(string path)
    {
        try
        {
            var info = SixLabors.ImageSharp.Image.Identify(path);
            return info is null ? null : (info.Width, info.Height);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return null;
        }
    }

    /// <summary>The format a file name's extension names, or Unknown.</summary>
    public static Format FormatOfExtension(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".png" => Format.Png,
        ".jpg" or ".jpeg" or ".jpe" or ".jfif" => Format.Jpeg,
        ".ppm" or ".pgm" or ".pnm" or ".pbm" => Format.Netpbm,
        ".webp" => Format.WebP,
        ".tif" or ".tiff" => Format.Tiff,
        ".bmp" or ".dib" => Format.Bmp,
        ".tga" => Format.Tga,
        ".gif" => Format.Gif,
        _ => Format.Unknown,
    };

    /// <summary>Extensions of the files a folder run picks up (lower case, with the dot).</summary>
    public static readonly IReadOnlyList<string> InputExtensions =
        [".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".webp", ".tif", ".tiff", ".bmp", ".tga", ".gif", ".ppm", ".pgm", ".pnm"];

    public static Image Decode(ReadOnlySpan<byte> bytes, string nameForErrors, ImageDecodeOptions? options = null) =>
        Decode(bytes.ToArray(), nameForErrors, options);

    public static Image Decode(byte[] bytes, string nameForErrors, ImageDecodeOptions? options = null)
    {
        var opt = options ?? ImageDecodeOptions.Default;
        if (bytes.Length == 0)
            throw new ImageFormatException(nameForErrors, "empty file (0 bytes): the download or copy was interrupted, fetch the file again");
        return SharpDecode.Decode(bytes, nameForErrors, opt);
    }

    internal static string DescribeUnknown(ReadOnlySpan<byte> d)
    {
        static bool At(ReadOnlySpan<byte> d, int o, ReadOnlySpan<byte> s) => d.Length >= o + s.Length && d.Slice(o, s.Length).SequenceEqual(s);
        if (At(d, 4, "ftyp"u8)) return "HEIF/AVIF images are not supported";
        if (At(d, 0, "GIF8"u8)) return "truncated or corrupt GIF header";
        if (At(d, 0, "RIFF"u8) && At(d, 8, "WEBP"u8)) return "truncated or corrupt WebP header";
        if (At(d, 0, "II*\0"u8) || At(d, 0, "MM\0*"u8)) return "truncated or corrupt TIFF header";
        if (d.Length >= 2 && d[0] == 0xFF && d[1] == 0xD8) return "truncated JPEG (only the start marker is present)";
        if (d.Length >= 1 && d[0] == 0x89 && (d.Length < 8 || PadPng(d).SequenceEqual(PngSignature))) return "truncated PNG signature";
        return "not an image this tool reads (unrecognised leading bytes; it reads PNG, JPEG, WebP, TIFF, BMP, TGA, GIF, PPM/PGM)";
    }

    static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

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
            throw new ImageFormatException(name, $"image is {width}x{height} = {width * height / 1e6:0.#} megapixels, over the limit of {opt.MaxPixels / 1e6:0.#} megapixels: downscale it or raise the limit (--max-pixels N on the command line, ImageDecodeOptions.MaxPixels in code)");
        if (width * height * 4 > Array.MaxLength)
            throw new ImageFormatException(name, $"image is {width}x{height}, too large to hold in memory (over {Array.MaxLength / 4 / 1e6:0} megapixels): downscale or crop it");
    }

    /// <summary>PNG of all channels (alpha kept), 8 or 16 bits per sample.</summary>
    public static byte[] EncodePng(Image image, int bitDepth = 8) => SharpEncode.Png(image, bitDepth);

    /// <summary>Baseline JPEG (alpha dropped), 4:2:0 chroma subsampling for colour.</summary>
    public static byte[] EncodeJpeg(Image image, int quality = 95) => SharpEncode.Jpeg(image, quality);

    /// <summary>WebP, lossless (exact 8-bit samples, alpha kept) or lossy at the quality.</summary>
    public static byte[] EncodeWebp(Image image, bool lossless = true, int quality = 90) => SharpEncode.Webp(image, lossless, quality);

    /// <summary>8-bit TIFF (Deflate), alpha dropped.</summary>
    public static byte[] EncodeTiff(Image image) => SharpEncode.Tiff(image);

    /// <summary>Binary PGM (grey) or PPM (colour); alpha is dropped.</summary>
    public static byte[] EncodePpm(Image image, int bitDepth = 8) => SharpEncode.Pnm(image, bitDepth);

    /// <summary>Writes the image in the format its extension names (.png, .jpg/.jpeg, .webp (lossless), .tif/.tiff,
    /// .ppm/.pgm) through a temporary file and a rename. bitDepth defaults to the image's own (PNG, PPM); quality
    /// applies to JPEG.</summary>
    public static void Save(Image image, string path, int? bitDepth = null, int jpegQuality = 95)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        int depth = bitDepth ?? image.BitDepth;
        byte[] bytes = ext switch
        {
            ".png" => EncodePng(image, depth),
            ".jpg" or ".jpeg" => EncodeJpeg(image, jpegQuality),
            ".webp" => EncodeWebp(image),
            ".tif" or ".tiff" => EncodeTiff(image),
            ".ppm" or ".pnm" => EncodePpm(image.IsGrey ? image.ToRgb() : image, depth),
            ".pgm" => image.IsGrey ? EncodePpm(image, depth)
                : throw new ArgumentException($"{path}: PGM holds grey images only, this one is RGB: save it as .png or .ppm"),
            _ => throw new ArgumentException($"{path}: unknown image extension '{ext}': use .png, .jpg, .jpeg, .webp, .tif, .tiff, .ppm or .pgm"),
        };
        AtomicFile.WriteAllBytes(path, bytes);
    }

    /// <summary>JPEG compression as a degradation (Real-ESRGAN's cv2 step, done with ImageSharp's codec): clamp to
    /// [0,1], round to 8 bits, encode (4:2:0, given quality), decode, divide by 255. Input and output are RGB planar
    /// [3, height, width].</summary>
    public static float[] JpegRoundTrip(float[] rgbChw, int width, int height, int quality)
    {
        ArgumentNullException.ThrowIfNull(rgbChw);
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"size {width}x{height} must be positive");
        long n = (long)width * height;
        if (rgbChw.Length != 3 * n) throw new ArgumentException($"expected 3x{height}x{width} = {3 * n} floats, got {rgbChw.Length}", nameof(rgbChw));
        if (quality is < 1 or > 100) throw new ArgumentOutOfRangeException(nameof(quality), $"JPEG quality {quality} must be 1..100");
        return SharpEncode.JpegRoundTrip(rgbChw, width, height, quality);
    }
}
