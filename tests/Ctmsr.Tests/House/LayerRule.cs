using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Ctmsr.Tests.House;

/// <summary>
/// The layer order of the projects (README "Layout"): each project may reference only the layers named
/// here, and what they may reference in turn. A reference or a <c>using</c> of any other Ctmsr project
/// goes upward or sideways and is a violation.
/// </summary>
static class LayerRule
{
    /// <summary>Project -> the projects it may reference directly; the allowed set is the transitive closure.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Below = new Dictionary<string, string[]>
    {
        ["Ctmsr.Kernels"] = [],
        ["Ctmsr.Autograd"] = ["Ctmsr.Kernels"],
        ["Ctmsr.Model"] = ["Ctmsr.Autograd"],
        ["Ctmsr.Imaging"] = ["Ctmsr.Kernels"],
        ["Ctmsr.Metrics"] = ["Ctmsr.Model", "Ctmsr.Imaging"],
        ["Ctmsr.Inference"] = ["Ctmsr.Model", "Ctmsr.Imaging"],
        // The `ctmsr bench` harness is a library the CLI hosts: it times the model and sits beside Inference.
        ["Ctmsr.Benchmarking"] = ["Ctmsr.Model", "Ctmsr.Imaging"],
        ["Ctmsr.Train"] = ["Ctmsr.Inference", "Ctmsr.Metrics"],
        ["ctmsr"] = ["Ctmsr.Train", "Ctmsr.Benchmarking"],
        ["Ctmsr.Bench"] = ["ctmsr"],
        ["Ctmsr.Tests"] = ["ctmsr", "Ctmsr.Bench"],
    };

    /// <summary>The assembly name a project file builds (its AssemblyName, else the file name).</summary>
    public static string AssemblyOf(string csproj)
    {
        var name = XDocument.Load(csproj).Descendants("AssemblyName").Select(e => e.Value.Trim()).FirstOrDefault();
        return string.IsNullOrEmpty(name) ? Path.GetFileNameWithoutExtension(csproj) : name;
    }

    /// <summary>The root namespace of a project's code: the CLI's assembly is "ctmsr" but its code lives in Ctmsr.Cli.</summary>
    public static string NamespaceOf(string assembly) => assembly == "ctmsr" ? "Ctmsr.Cli" : assembly;

    public static IReadOnlySet<string> Allowed(string project)
    {
        var seen = new HashSet<string>();
        var todo = new Stack<string>(Below.TryGetValue(project, out var d) ? d : []);
        while (todo.Count > 0)
        {
            var p = todo.Pop();
            if (seen.Add(p) && Below.TryGetValue(p, out var more)) foreach (var m in more) todo.Push(m);
        }
        return seen;
    }

    /// <summary>Violations of one project's references (assembly names of the referenced projects).</summary>
    public static IEnumerable<string> CheckReferences(string project, IEnumerable<string> references)
    {
        if (!Below.ContainsKey(project)) { yield return $"{project} is not in the layer order (add it to LayerRule.Below and README Layout)"; yield break; }
        var allowed = Allowed(project);
        foreach (var r in references)
            if (!allowed.Contains(r)) yield return $"{project} references {r}, which is not below it";
    }

    static readonly Regex UsingRx = new(@"^\s*(?:global\s+)?using\s+(?:static\s+)?(?:\w+\s*=\s*)?(Ctmsr\.\w+)", RegexOptions.Multiline);

    /// <summary>Violations of one source file: a using of a Ctmsr namespace that belongs to a project not below this one.</summary>
    public static IEnumerable<string> CheckUsings(string project, string file, string source)
    {
        var own = NamespaceOf(project);
        var allowed = Allowed(project).Select(NamespaceOf).Append(own).ToHashSet();
        var known = Below.Keys.Select(NamespaceOf).ToHashSet();
        foreach (Match m in UsingRx.Matches(source))
        {
            var ns = m.Groups[1].Value;
            if (known.Contains(ns) && !allowed.Contains(ns)) yield return $"{file}: {project} uses {ns}, which is not below it";
        }
    }
}
