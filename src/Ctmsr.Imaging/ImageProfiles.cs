namespace Ctmsr.Imaging;

/// <summary>Metadata carried from a decoded file to the files made from it: the ICC colour profile and the EXIF block
/// (raw bytes as the file held them; EXIF with its orientation reset to 1 once the pixels were turned upright).
/// Pixels are never colour-managed: the profile travels so that a viewer shows the output as it showed the input.</summary>
public sealed record ImageProfiles(byte[]? Icc, byte[]? Exif)
{
    public bool IsEmpty => Icc is null && Exif is null;
}
