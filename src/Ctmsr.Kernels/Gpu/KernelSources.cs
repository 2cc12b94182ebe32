using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace Ctmsr.Kernels.Gpu;

/// <summary>Which API a kernel text is assembled for; selects the prelude.</summary>
public enum GpuDialect { OpenCL, Cuda }

/// <summary>
/// The embedded kernel sources (Gpu/*.k, Gpu/*.h). A program's text is its dialect prelude followed by the
/// source with every <c>#include "x.h"</c> expanded from the embedded files, since neither clBuildProgram
/// (from a string) nor NVRTC sees our resource directory.
/// </summary>
public static partial class KernelSources
{
    const string Prefix = "Ctmsr.Kernels.Gpu.";
    static readonly Dictionary<string, string> Cache = [];

    /// <summary>Names of the kernel source files (e.g. "gemm.k").</summary>
    public static IReadOnlyList<string> Programs { get; } = typeof(KernelSources).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(".k", StringComparison.Ordinal))
        .Select(n => n[Prefix.Length..]).Order(StringComparer.Ordinal).ToArray();

    /// <summary>The raw text of one embedded file.</summary>
    public static string Raw(string file)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(file, out var s)) return s;
            using var stream = typeof(KernelSources).Assembly.GetManifestResourceStream(Prefix + file)
                ?? throw new InvalidOperationException($"kernel source '{file}' is not embedded in Ctmsr.Kernels: check the EmbeddedResource items in Ctmsr.Kernels.csproj");
            using var reader = new StreamReader(stream, Encoding.UTF8);
            s = reader.ReadToEnd();
            Cache[file] = s;
            return s;
        }
    }

    /// <summary>Prelude + source with includes expanded, ready for clCreateProgramWithSource or nvrtcCreateProgram.</summary>
    public static string Assemble(string program, GpuDialect dialect)
    {
        var sb = new StringBuilder();
        sb.Append(Raw(dialect == GpuDialect.OpenCL ? "prelude_opencl.h" : "prelude_cuda.h")).Append('\n');
        Expand(program, sb, []);
        return sb.ToString();
    }

    [GeneratedRegex("^\\s*#\\s*include\\s+\"([^\"]+)\"\\s*$")]
    private static partial Regex IncludeLine();

    static void Expand(string file, StringBuilder sb, HashSet<string> stack)
    {
        if (!stack.Add(file)) throw new InvalidOperationException($"kernel source '{file}' includes itself");
        int line = 1;
        sb.Append("#line 1\n");
        foreach (var text in Raw(file).Split('\n'))
        {
            var m = IncludeLine().Match(text);
            if (m.Success)
            {
                Expand(m.Groups[1].Value, sb, stack);
                sb.Append("#line ").Append(line + 1).Append('\n');
            }
            else sb.Append(text).Append('\n');
            line++;
        }
        stack.Remove(file);
    }
}
