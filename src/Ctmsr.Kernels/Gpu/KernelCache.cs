using System.Security.Cryptography;
using System.Text;

namespace Ctmsr.Kernels.Gpu;

/// <summary>
/// On-disk cache of compiled GPU programs (OpenCL binaries, CUDA PTX) keyed by
/// SHA-256(source, options, device), as tinygrad does. Lives in $CTMSR_CACHE or ~/.cache/ctmsr/kernels.
/// A cache that cannot be read or written only costs a recompile, so I/O errors are swallowed.
/// </summary>
public static class KernelCache
{
    public static string Directory_
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("CTMSR_CACHE");
            if (!string.IsNullOrEmpty(env)) return env;
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            var baseDir = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(string.IsNullOrEmpty(home) ? Path.GetTempPath() : home, ".cache");
            return Path.Combine(baseDir, "ctmsr", "kernels");
        }
    }

    public static string Key(string source, string options, string device)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes(source + "\0" + options + "\0" + device));
        return Convert.ToHexStringLower(bytes);
    }

    public static byte[]? TryLoad(string key, string extension)
    {
        try
        {
            var path = Path.Combine(Directory_, key + extension);
            return File.Exists(path) ? File.ReadAllBytes(path) : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>Writes to a temporary file and renames it into place, so readers never see a torn binary.</summary>
    public static void Store(string key, string extension, ReadOnlySpan<byte> data)
    {
        try
        {
            var dir = Directory_;
            System.IO.Directory.CreateDirectory(dir);
            var path = Path.Combine(dir, key + extension);
            var tmp = path + "." + Environment.ProcessId + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
            File.WriteAllBytes(tmp, data.ToArray());
            File.Move(tmp, path, overwrite: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    public static void Remove(string key, string extension)
    {
        try { File.Delete(Path.Combine(Directory_, key + extension)); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
