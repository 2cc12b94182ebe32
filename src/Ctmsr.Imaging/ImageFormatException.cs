namespace Ctmsr.Imaging;

/// <summary>An image file that cannot be decoded: truncated, corrupt, too large or in an unsupported format.
/// The message names the file, the problem and what to do about it. Derives from IOException because
/// System.IO.InvalidDataException is sealed.</summary>
public sealed class ImageFormatException : IOException
{
    public string FileName { get; }

    public ImageFormatException(string fileName, string problem, Exception? inner = null)
        : base($"{fileName}: {problem}", inner)
    {
        FileName = fileName;
    }
}
