using System.Reflection;
using System.Runtime.InteropServices;

namespace Ctmsr.Kernels.Ilgpu;

/// <summary>
/// How ILGPU finds OpenCL here, with nothing for the user to export:
/// - ILGPU imports "OpenCL" and "cuda", which .NET probes as libOpenCL.so / libcuda.so; Debian's loader packages ship
///   only libOpenCL.so.1 (and the driver libcuda.so.1), so ILGPU would silently see no device. A DllImport resolver
///   for ILGPU's assembly maps them to the versioned names.
/// - ILGPU's OpenCL backend needs the generic address space, which Debian's PoCL 3.1 lacks; scripts/pocl6.sh builds
///   PoCL 6 into $CTMSR_CACHE/pocl-6.0 (default ~/.cache/ctmsr). When that build is complete and OCL_ICD_VENDORS is
///   unset, ILGPU gets its own instance of the ICD loader (a copy of libOpenCL.so.1 in the cache: the dynamic linker
///   loads a distinct file separately) and that instance is initialised with OCL_ICD_VENDORS pointing to a folder
///   holding PoCL 6 and every non-PoCL vendor of /etc/OpenCL/vendors (GPU drivers). The process environment is
///   restored at once, so the C-dialect OpenCL backend keeps the system's platforms (PoCL 3.1 in CI).
/// - A user-set OCL_ICD_VENDORS is respected as is (one loader for both backends).
/// </summary>
public static partial class OpenClLoader
{
    const string SystemLoader = "libOpenCL.so.1";
    static readonly Lock gate = new();
    static bool resolverInstalled;

    /// <summary>The cache folder of the PoCL 6 build ($CTMSR_CACHE or ~/.cache/ctmsr, then pocl-6.0).</summary>
    public static string Pocl6Prefix =>
        Path.Combine(Environment.GetEnvironmentVariable("CTMSR_CACHE") is { Length: > 0 } c ? c
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "ctmsr"), "pocl-6.0");

    /// <summary>PoCL 6's vendors folder when scripts/pocl6.sh has completed a build; else null.</summary>
    public static string? Pocl6Vendors =>
        File.Exists(Path.Combine(Pocl6Prefix, ".complete")) && Directory.Exists(Path.Combine(Pocl6Prefix, "etc", "OpenCL", "vendors"))
            ? Path.Combine(Pocl6Prefix, "etc", "OpenCL", "vendors") : null;

    /// <summary>True when ILGPU uses its own loader instance with PoCL 6 (see the class summary).</summary>
    public static bool UsesPocl6 { get; private set; }

    /// <summary>Runs <paramref name="body"/> (ILGPU's first OpenCL calls) with ILGPU's loader set up as described above.</summary>
    public static T WithIlgpuVendors<T>(Func<T> body)
    {
        lock (gate)
        {
            InstallResolver();
            if (!UsesPocl6) return body();
            string? old = Environment.GetEnvironmentVariable("OCL_ICD_VENDORS");
            SetEnv("OCL_ICD_VENDORS", MergedVendors());
            try { return body(); }
            finally { SetEnv("OCL_ICD_VENDORS", old); }
        }
    }

    static nint ilgpuLoader;

    static void InstallResolver()
    {
        if (resolverInstalled) return;
        resolverInstalled = true;
        if (Environment.GetEnvironmentVariable("OCL_ICD_VENDORS") is null && Pocl6Vendors is not null)
        {
            try
            {
                ilgpuLoader = NativeLibrary.Load(PrivateLoaderCopy());
                UsesPocl6 = true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or DllNotFoundException) { ilgpuLoader = 0; }
        }
        NativeLibrary.SetDllImportResolver(typeof(ILGPU.Context).Assembly, Resolve);
    }

    static nint Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name.Equals("OpenCL", StringComparison.OrdinalIgnoreCase))
        {
            if (ilgpuLoader != 0) return ilgpuLoader;
            return TryLoad(SystemLoader, "libOpenCL.so");
        }
        if (name.Equals("cuda", StringComparison.OrdinalIgnoreCase))
            return TryLoad("libcuda.so.1", "libcuda.so");
        return 0;
    }

    static nint TryLoad(params string[] names)
    {
        foreach (var n in names)
            if (NativeLibrary.TryLoad(n, out var h)) return h;
        return 0;
    }

    /// <summary>A copy of the system ICD loader in the cache (a distinct file, so a distinct instance with its own platforms).</summary>
    static string PrivateLoaderCopy()
    {
        var handle = NativeLibrary.Load(SystemLoader);
        string? source = null;
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            int at = line.IndexOf('/');
            if (at >= 0 && line.Contains("libOpenCL.so", StringComparison.Ordinal)) { source = line[at..].Trim(); break; }
        }
        GC.KeepAlive(handle);
        if (source is null) throw new DllNotFoundException($"{SystemLoader} is loaded but not found in /proc/self/maps");
        string dir = Path.Combine(Pocl6Prefix, "ilgpu");
        string target = Path.Combine(dir, "libOpenCL.so.1");
        if (File.Exists(target) && new FileInfo(target).Length == new FileInfo(source).Length) return target;
        Directory.CreateDirectory(dir);
        string tmp = target + "." + Environment.ProcessId + ".tmp";
        File.Copy(source, tmp, true);
        File.Move(tmp, target, true);
        return target;
    }

    /// <summary>PoCL 6 plus every system vendor that is not PoCL (one CPU device, no duplicate), as an OCL_ICD_VENDORS folder.</summary>
    static string MergedVendors()
    {
        string dir = Path.Combine(Pocl6Prefix, "etc", "OpenCL", "vendors-ilgpu");
        Directory.CreateDirectory(dir);
        var want = new Dictionary<string, string>();
        foreach (var f in Directory.GetFiles(Pocl6Vendors!, "*.icd")) want["pocl6-" + Path.GetFileName(f)] = File.ReadAllText(f);
        if (Directory.Exists("/etc/OpenCL/vendors"))
            foreach (var f in Directory.GetFiles("/etc/OpenCL/vendors", "*.icd"))
            {
                string text = File.ReadAllText(f);
                if (!text.Contains("libpocl", StringComparison.Ordinal)) want["system-" + Path.GetFileName(f)] = text;
            }
        foreach (var f in Directory.GetFiles(dir, "*.icd"))
            if (!want.ContainsKey(Path.GetFileName(f))) File.Delete(f);
        foreach (var (name, text) in want)
        {
            string path = Path.Combine(dir, name);
            if (File.Exists(path) && File.ReadAllText(path) == text) continue;
            string tmp = path + "." + Environment.ProcessId + ".tmp";
            File.WriteAllText(tmp, text);
            File.Move(tmp, path, true);
        }
        return dir;
    }

    /// <summary>Sets (or with null, removes) a variable in the native environment, which the ICD loader reads with getenv
    /// (Environment.SetEnvironmentVariable changes only .NET's copy).</summary>
    static void SetEnv(string name, string? value)
    {
        if (value is null) { UnsetEnvNative(name); Environment.SetEnvironmentVariable(name, null); }
        else { SetEnvNative(name, value, 1); Environment.SetEnvironmentVariable(name, value); }
    }

    [LibraryImport("libc.so.6", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnvNative(string name, string value, int overwrite);

    [LibraryImport("libc.so.6", EntryPoint = "unsetenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int UnsetEnvNative(string name);
}
