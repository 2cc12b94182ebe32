using Ctmsr.Imaging;

namespace Ctmsr.Inference;

public enum OutputFormat { Auto, Png, Jpeg, WebP, Tiff }

/// <summary>How an upscaled image is written. Format Auto follows the output's extension (.png, .jpg, .jpeg, .webp,
/// .tif, .tiff). BitDepth null keeps the input's (a 16-bit PNG stays 16-bit); JPEG, WebP and TIFF are 8-bit.
/// Naming rule: the output is written to exactly the path asked for, never to another name; a format without alpha
/// (JPEG, TIFF) gets the image without its alpha plane and a notice saying so.</summary>
public sealed record SaveOptions
{
    public OutputFormat Format { get; init; } = OutputFormat.Auto;
    /// <summary>JPEG quality, and lossy WebP's.</summary>
    public int Quality { get; init; } = 95;
    /// <summary>WebP: lossless (the default, exact 8-bit samples) or lossy at <see cref="Quality"/>.</summary>
    public bool WebpLossless { get; init; } = true;
    public int? BitDepth { get; init; }
    /// <summary>False: an output that already exists is left alone and the image is reported as skipped.</summary>
    public bool Overwrite { get; init; } = true;

    public static string Extension(OutputFormat f) => f switch
    {
        OutputFormat.Jpeg => ".jpg",
        OutputFormat.WebP => ".webp",
        OutputFormat.Tiff => ".tif",
        _ => ".png",
    };

    static bool HoldsAlpha(OutputFormat f) => f is OutputFormat.Png or OutputFormat.WebP;

    /// <summary>Checks the options against an output path before any work: the format the extension names, the
    /// quality range, and a bit depth the format can hold. Returns the format to write.</summary>
    public OutputFormat Check(string output)
    {
        if (Quality is < 1 or > 100) throw new ArgumentException($"--quality {Quality} must be 1..100");
        if (BitDepth is not (null or 8 or 16)) throw new ArgumentException($"--bit-depth {BitDepth} must be auto, 8 or 16");
        var byExt = output == "-" ? (Format == OutputFormat.Auto ? OutputFormat.Png : Format) : ImageCodec.FormatOfExtension(output) switch
        {
            ImageCodec.Format.Png => OutputFormat.Png,
            ImageCodec.Format.Jpeg => OutputFormat.Jpeg,
            ImageCodec.Format.WebP => OutputFormat.WebP,
            ImageCodec.Format.Tiff => OutputFormat.Tiff,
            _ => OutputFormat.Auto,
        };
        if (byExt == OutputFormat.Auto)
            throw new ArgumentException($"{output}: the output needs a .png, .jpg, .jpeg, .webp, .tif or .tiff extension");
        if (Format != OutputFormat.Auto && Format != byExt)
            throw new ArgumentException($"{output}: the extension says {byExt} but the format asked for is {Format}; rename the output or drop -f");
        if (byExt != OutputFormat.Png && BitDepth == 16)
            throw new ArgumentException($"--bit-depth 16 needs PNG output: {byExt} is written with 8 bits per sample here; use -f png");
        return byExt;
    }

    /// <summary>The path and format an image is written as: always <paramref name="output"/> itself. For a format
    /// without alpha the image loses its alpha plane, and the notice says so.</summary>
    public (string path, OutputFormat format, string? notice) Resolve(string output, Image image)
    {
        var f = Check(output);
        if (!HoldsAlpha(f) && image.HasAlpha)
            return (output, f, $"{output}: the image has alpha, which {f} cannot hold: written without it (use a .png or .webp output to keep it, or --alpha discard to silence this)");
        return (output, f, null);
    }

    /// <summary>The encoded bytes of <paramref name="image"/> in <paramref name="format"/>.</summary>
    public byte[] Encode(Image image, OutputFormat format) => format switch
    {
        OutputFormat.Jpeg => ImageCodec.EncodeJpeg(image, Quality),
        OutputFormat.WebP => ImageCodec.EncodeWebp(image, WebpLossless, Quality),
        OutputFormat.Tiff => ImageCodec.EncodeTiff(image),
        _ => ImageCodec.EncodePng(image, BitDepth ?? image.BitDepth),
    };
}

/// <summary>One file's outcome: Status "done", "skipped" or "failed"; Ms is the wall time of this file.</summary>
public sealed record UpscaleFileResult(string Input, string? Output, string Status, double Ms,
    int Width = 0, int Height = 0, int OutWidth = 0, int OutHeight = 0, int TileSize = 0, string? Notice = null, string? Error = null);
