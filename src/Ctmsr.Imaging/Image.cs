namespace Ctmsr.Imaging;

/// <summary>A decoded image: float samples in [0,1], planar [channels, height, width] (CHW).
/// Channels: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA; alpha, when present, is the last plane.
/// BitDepth records the source precision (8 or 16) so that a 16-bit PNG can be written back losslessly.</summary>
public sealed class Image
{
    public int Width { get; }
    public int Height { get; }
    public int Channels { get; }
    public int BitDepth { get; }

    /// <summary>Samples, length Channels*Height*Width, index (c*Height + y)*Width + x.</summary>
    public float[] Data { get; }

    /// <summary>ICC profile and EXIF of the file this image came from, carried to outputs where the format allows; null when none.</summary>
    public ImageProfiles? Profiles { get; init; }

    public Image(int width, int height, int channels, int bitDepth = 8, float[]? data = null)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"image size {width}x{height} must be positive");
        if (channels is < 1 or > 4) throw new ArgumentOutOfRangeException(nameof(channels), $"channels {channels} must be 1 (grey), 2 (grey+alpha), 3 (RGB) or 4 (RGBA)");
        if (bitDepth is not (8 or 16)) throw new ArgumentOutOfRangeException(nameof(bitDepth), $"bit depth {bitDepth} must be 8 or 16");
        long n = (long)channels * height * width;
        if (n > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(width), $"image {width}x{height}x{channels} exceeds the largest float[]");
        data ??= new float[n];
        if (data.Length != n) throw new ArgumentException($"data has {data.Length} samples, expected {channels}x{height}x{width} = {n}", nameof(data));
        Width = width;
        Height = height;
        Channels = channels;
        BitDepth = bitDepth;
        Data = data;
    }

    public int PlaneSize => Width * Height;
    public bool HasAlpha => Channels is 2 or 4;
    public bool IsGrey => Channels is 1 or 2;

    /// <summary>Channels that carry colour (1 or 3), i.e. all but alpha.</summary>
    public int ColorChannels => IsGrey ? 1 : 3;

    public float this[int c, int y, int x]
    {
        get => Data[(c * Height + y) * Width + x];
        set => Data[(c * Height + y) * Width + x] = value;
    }

    public Span<float> Plane(int c)
    {
        if ((uint)c >= (uint)Channels) throw new ArgumentOutOfRangeException(nameof(c), $"channel {c} of a {Channels}-channel image");
        return Data.AsSpan(c * PlaneSize, PlaneSize);
    }

    /// <summary>The alpha plane, or an empty span when the image has no alpha.</summary>
    public Span<float> AlphaPlane => HasAlpha ? Data.AsSpan((Channels - 1) * PlaneSize, PlaneSize) : Span<float>.Empty;

    /// <summary>The alpha plane as a single-channel image, or null when the image has no alpha.</summary>
    public Image? Alpha() => HasAlpha ? new Image(Width, Height, 1, BitDepth, AlphaPlane.ToArray()) : null;

    /// <summary>A 3-channel RGB image: grey is replicated, alpha is dropped (not composited, as cv2.IMREAD_COLOR does).
    /// Returns this image itself when it already is RGB.</summary>
    public Image ToRgb()
    {
        if (Channels == 3) return this;
        var rgb = new float[3 * PlaneSize];
        int src = IsGrey ? 1 : 3;
        for (int c = 0; c < 3; c++)
            Data.AsSpan((src == 1 ? 0 : c) * PlaneSize, PlaneSize).CopyTo(rgb.AsSpan(c * PlaneSize, PlaneSize));
        return new Image(Width, Height, 3, BitDepth, rgb);
    }

    /// <summary>The same image without its alpha plane (grey stays grey). Returns this image when it has no alpha.</summary>
    public Image WithoutAlpha()
    {
        if (!HasAlpha) return this;
        return new Image(Width, Height, ColorChannels, BitDepth, Data.AsSpan(0, ColorChannels * PlaneSize).ToArray());
    }

    public override string ToString() => $"Image {Width}x{Height}x{Channels} ({BitDepth}-bit)";
}
