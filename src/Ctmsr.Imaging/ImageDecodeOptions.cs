namespace Ctmsr.Imaging;

/// <summary>Limits and policies for <see cref="ImageCodec.Decode(string, ImageDecodeOptions?)"/>.</summary>
public sealed record ImageDecodeOptions
{
    public static readonly ImageDecodeOptions Default = new();

    /// <summary>Largest width*height accepted; checked from the header before any pixel buffer is allocated.</summary>
    public long MaxPixels { get; init; } = 100_000_000;

    /// <summary>When true (the default) a JPEG cut short (no end-of-image marker after its image data) is an error:
    /// such a file decodes with grey blocks, which is poison for training data. Set false to accept such files as
    /// libjpeg/cv2 do.</summary>
    public bool StrictJpeg { get; init; } = true;

    /// <summary>Apply the EXIF orientation tag (JPEG, PNG, WebP, TIFF), as cv2.imread does by default for JPEG.</summary>
    public bool ApplyExifOrientation { get; init; } = true;

    /// <summary>Receives one-line notices about files that decode but look wrong, such as an extension that names
    /// a different format than the contents. Null (the default) ignores them.</summary>
    public Action<string>? OnWarning { get; init; }
}
