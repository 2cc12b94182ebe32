namespace Ctmsr.Train.Data;

/// <summary>Finds the training images of a folder: recursive, .png/.jpg/.jpeg in any letter case, sorted ordinally
/// (so a seed picks the same files on every machine).</summary>
public static class ImageFiles
{
    static readonly string[] Extensions = [".png", ".jpg", ".jpeg"];

    public static bool IsImage(string path) =>
        Extensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    public static List<string> List(string dir, bool recursive = true)
    {
        if (string.IsNullOrWhiteSpace(dir))
            throw new ArgumentException("no data folder given: pass a folder of HR images (--data DIR)");
        if (File.Exists(dir))
            throw new ArgumentException($"{dir} is a file, not a folder: pass the folder that holds the images");
        if (!Directory.Exists(dir))
            throw new DirectoryNotFoundException($"{dir}: no such folder; check the path of the image folder");
        var files = Directory.EnumerateFiles(dir, "*", new EnumerationOptions
        {
            RecurseSubdirectories = recursive, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.Hidden | FileAttributes.System,
        }).Where(IsImage).ToList();
        files.Sort(StringComparer.Ordinal);
        if (files.Count == 0)
            throw new InvalidDataException($"{dir} holds no .png/.jpg/.jpeg images{(recursive ? " (searched recursively)" : "")}; point the option at the image folder");
        return files;
    }
}
