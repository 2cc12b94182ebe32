namespace Ctmsr.Imaging.Plotting;

/// <summary>An sRGB colour with components in [0, 1].</summary>
public readonly record struct Rgb(float R, float G, float B)
{
    /// <summary>From 8-bit components.</summary>
    public static Rgb Of(byte r, byte g, byte b) => new(r / 255f, g / 255f, b / 255f);

    /// <summary>This colour moved towards <paramref name="other"/> by t (0 = this, 1 = other).</summary>
    public Rgb Mix(Rgb other, float t) => new(R + (other.R - R) * t, G + (other.G - G) * t, B + (other.B - B) * t);

    public static readonly Rgb Black = new(0, 0, 0), White = new(1, 1, 1);
}
