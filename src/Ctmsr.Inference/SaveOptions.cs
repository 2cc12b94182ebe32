using Ctmsr.Imaging;

namespace Ctmsr.Inference;

public enum OutputFormat { Auto, Png, Jpeg }

/// <summary>How an upscaled image is written. Format Auto follows the output's extension (.png, .jpg, .jpeg).
/// BitDepth null keeps the input's (a 16-bit PNG stays 16-bit); JPEG is always 8-bit.</summary>
public sealed record SaveOptions
{
    public OutputFormat Format { get; init; } = OutputFormat.Auto;
    public int Quality { get; init; } = 95;
    public int? BitDepth { get; init; }
    /// <summary>False: an output that already exists is left alone and the image is reported as skipped.</summary>
    public bool Overwrite { get; init; } = true;

    public static string Extension(OutputFormat f) => f == OutputFormat.Jpeg ? ".jpg" : ".png";

    /// <summary>Checks the options against an output path before any work: the format the extension names, the
    /// quality range, and a bit depth JPEG can hold. Returns the format to write.</summary>
    public OutputFormat Check(string output)
    {
        if (Quality is < 1 or > 100) throw new ArgumentException($"--quality {Quality} must be 1..100");
        if (BitDepth is not (null or 8 or 16)) throw new ArgumentException($"--bit-depth {BitDepth} must be auto, 8 or 16");
        var byExt = ImageCodec.FormatOfExtension(output) switch
        {
            ImageCodec.Format.Png => OutputFormat.Png,
            ImageCodec.Format.Jpeg => OutputFormat.Jpeg,
            _ => OutputFormat.Auto,
        };
        if (byExt == OutputFormat.Auto)
            throw new ArgumentException($"{output}: the output needs a .png, .jpg or .jpeg extension");
        if (Format != OutputFormat.Auto && Format != byExt)
            throw new ArgumentException($"{output}: the extension says {byExt} but the format asked for is {Format}; rename the output or drop -f");
        if (byExt == OutputFormat.Jpeg && BitDepth == 16)
            throw new ArgumentException("--bit-depth 16 needs PNG output: JPEG holds 8 bits per sample; use -f png");
        return byExt;
    }

    /// <summary>The path and format an image is actually written as: a JPEG request for an image with alpha becomes a
    /// PNG beside it (JPEG has no alpha), with a notice saying so.</summary>
    public (string path, OutputFormat format, string? notice) Resolve(string output, Image image)
    {
        var f = Check(output);
        if (f == OutputFormat.Jpeg && image.HasAlpha)
        {
            string png = Path.ChangeExtension(output, ".png");
            return (png, OutputFormat.Png, $"{output}: the image has alpha, which JPEG cannot hold: written as PNG to {png} (use --alpha discard for JPEG)");
        }
        return (output, f, null);
    }

    /// <summary>The encoded bytes of <paramref name="image"/> in <paramref name="format"/>.</summary>
    public byte[] Encode(Image image, OutputFormat format) => format == OutputFormat.Jpeg
        ? ImageCodec.EncodeJpeg(image, Quality)
        : ImageCodec.EncodePng(image, BitDepth ?? image.BitDepth);
}

/// <summary>One file's outcome: Status "done", "skipped" or "failed"; Ms is the wall time of this file.</summary>
public sealed record UpscaleFileResult(string Input, string? Output, string Status, double Ms,
    int Width = 0, int Height = 0, int OutWidth = 0, int OutHeight = 0, int TileSize = 0, string? Notice = null, string? Error = null);
