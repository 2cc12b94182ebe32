using System.Reflection;
using System.Runtime.InteropServices;

namespace Ctmsr.Kernels.Ilgpu;

/// <summary>
/// How the OpenCL backends find their platforms, with nothing for the user to export:
/// - ILGPU imports "OpenCL" and "cuda", which .NET probes as libOpenCL.so / libcuda.so; Debian's loader packages ship
///   only libOpenCL.so.1 (and the driver libcuda.so.1), so ILGPU would silently see no device. A DllImport resolver
///   for ILGPU's assembly maps them to the versioned names.
/// - ILGPU's OpenCL backend needs the generic address space, which Debian's PoCL 3.1 lacks; scripts/pocl6.sh builds
///   PoCL 6 into $CTMSR_CACHE/pocl-6.0 (default ~/.cache/ctmsr). When that build is complete and OCL_ICD_VENDORS is
///   unset, <see cref="ConfigureProcess"/> points OCL_ICD_VENDORS (the native environment, which the ICD loader reads
///   once, at its first call) to a folder holding PoCL 6 and every non-PoCL vendor of /etc/OpenCL/vendors (GPU
///   drivers). Both OpenCL backends call it before their first OpenCL call, so the whole process sees one PoCL: two
///   PoCL builds cannot share a process (both register the same LLVM options and LLVM aborts). So with PoCL 6 built,
///   the C-dialect backend (opencl-c) runs on PoCL 6 too; OCL_ICD_VENDORS=/etc/OpenCL/vendors selects the system's
///   platforms (PoCL 3.1) for both, and ILGPU then reports why it has no OpenCL device.
/// </summary>
public static partial class OpenClLoader
{
    const string SystemLoader = "libOpenCL.so.1";
    static readonly Lock gate = new();
    static bool configured;

    /// <summary>The cache folder of the PoCL 6 build ($CTMSR_CACHE or ~/.cache/ctmsr, then pocl-6.0).</summary>
    public static string Pocl6Prefix =>
        Path.Combine(Environment.GetEnvironmentVariable("CTMSR_CACHE") is { Length: > 0 } c ? c
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "ctmsr"), "pocl-6.0");

    /// <summary>PoCL 6's vendors folder when scripts/pocl6.sh has completed a build; else null.</summary>
    public static string? Pocl6Vendors =>
        File.Exists(Path.Combine(Pocl6Prefix, ".complete")) && Directory.Exists(Path.Combine(Pocl6Prefix, "etc", "OpenCL", "vendors"))
            ? Path.Combine(Pocl6Prefix, "etc", "OpenCL", "vendors") : null;

    /// <summary>True when this process's OpenCL platforms are PoCL 6 plus the system's non-PoCL vendors (see the class summary).</summary>
    public static bool UsesPocl6 { get; private set; }

    /// <summary>Sets up this process's OpenCL as described above; idempotent. Call before the first OpenCL call.</summary>
    public static void ConfigureProcess()
    {
        lock (gate)
        {
            if (configured) return;
            configured = true;
            NativeLibrary.SetDllImportResolver(typeof(ILGPU.Context).Assembly, Resolve);
            if (Environment.GetEnvironmentVariable("OCL_ICD_VENDORS") is not null || Pocl6Vendors is null) return;
            try
            {
                string dir = MergedVendors();
                SetEnvNative("OCL_ICD_VENDORS", dir, 1);
                Environment.SetEnvironmentVariable("OCL_ICD_VENDORS", dir);
                UsesPocl6 = true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    static nint Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name.Equals("OpenCL", StringComparison.OrdinalIgnoreCase)) return TryLoad(SystemLoader, "libOpenCL.so");
        if (name.Equals("cuda", StringComparison.OrdinalIgnoreCase)) return TryLoad("libcuda.so.1", "libcuda.so");
        return 0;
    }

    static nint TryLoad(params string[] names)
    {
        foreach (var n in names)
            if (NativeLibrary.TryLoad(n, out var h)) return h;
        return 0;
    }

    /// <summary>PoCL 6 plus every system vendor that is not PoCL (one CPU device, no duplicate), as an OCL_ICD_VENDORS folder.</summary>
    static string MergedVendors()
    {
        string dir = Path.Combine(Pocl6Prefix, "etc", "OpenCL", "vendors-merged");
        Directory.CreateDirectory(dir);
        // one file per library: PoCL's install writes pocl.icd and scripts/pocl6.sh pocl6.icd for the same library, and
        // the loader would list a platform per file
        var want = new Dictionary<string, string>();
        var libraries = new HashSet<string>();
        foreach (var f in Directory.GetFiles(Pocl6Vendors!, "*.icd").Order())
            if (libraries.Add(File.ReadAllText(f).Trim())) want["pocl6-" + Path.GetFileName(f)] = File.ReadAllText(f);
        if (Directory.Exists("/etc/OpenCL/vendors"))
            foreach (var f in Directory.GetFiles("/etc/OpenCL/vendors", "*.icd").Order())
            {
                string text = File.ReadAllText(f);
                if (!text.Contains("libpocl", StringComparison.Ordinal) && libraries.Add(text.Trim())) want["system-" + Path.GetFileName(f)] = text;
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

    /// <summary>setenv(3): the ICD loader reads the native environment (Environment.SetEnvironmentVariable changes only .NET's copy).</summary>
    [LibraryImport("libc.so.6", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnvNative(string name, string value, int overwrite);
}
