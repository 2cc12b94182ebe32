using System.Xml.Linq;

namespace Ctmsr.Tests.House;

/// <summary>
/// The projects reference each other in one direction only (README "Layout"): every ProjectReference
/// and every <c>using Ctmsr.*</c> under src/ and bench/ points below its project in <see cref="LayerRule"/>.
/// </summary>
public sealed class DependencyRuleTests
{
    static string Repo()
    {
        for (var d = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Ctmsr.sln"))) return d.FullName;
        Assert.Ignore("Ctmsr.sln is not above the test binary (run the tests from a checkout)");
        return "";
    }

    static IEnumerable<string> Projects(string repo) =>
        new[] { "src", "bench", "tests" }.Select(d => Path.Combine(repo, d)).Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, "*.csproj", SearchOption.AllDirectories))
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"));

    [Test]
    public void EveryProjectReferencePointsDown()
    {
        var repo = Repo();
        var projects = Projects(repo).ToList();
        Assert.That(projects, Has.Count.GreaterThanOrEqualTo(10), "the src/, bench/ and tests/ projects");
        var violations = new List<string>();
        foreach (var p in projects)
        {
            var refs = XDocument.Load(p).Descendants("ProjectReference")
                .Select(r => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(p)!, r.Attribute("Include")!.Value.Replace('\\', '/'))))
                .Select(LayerRule.AssemblyOf);
            violations.AddRange(LayerRule.CheckReferences(LayerRule.AssemblyOf(p), refs));
        }
        Assert.That(violations, Is.Empty);
    }

    [Test]
    public void NoSourceUsesAHigherLayer()
    {
        var repo = Repo();
        var violations = new List<string>();
        int files = 0;
        foreach (var p in Projects(repo))
        {
            var project = LayerRule.AssemblyOf(p);
            var dir = Path.GetDirectoryName(p)!;
            foreach (var f in Directory.EnumerateFiles(dir, "*.cs", SearchOption.AllDirectories))
            {
                var rel = Path.GetRelativePath(dir, f);
                if (rel.StartsWith("obj" + Path.DirectorySeparatorChar) || rel.StartsWith("bin" + Path.DirectorySeparatorChar)) continue;
                files++;
                violations.AddRange(LayerRule.CheckUsings(project, Path.GetRelativePath(repo, f), File.ReadAllText(f)));
            }
        }
        Assert.That(files, Is.GreaterThan(100));
        Assert.That(violations, Is.Empty);
    }

    // The checker itself: it has to catch what it is there for.
    [Test]
    public void AnUpwardOrSidewaysReferenceIsReported()
    {
        Assert.That(LayerRule.CheckReferences("Ctmsr.Kernels", ["Ctmsr.Autograd"]), Has.Exactly(1).Items);
        Assert.That(LayerRule.CheckReferences("Ctmsr.Imaging", ["Ctmsr.Model"]), Has.Exactly(1).Items, "Imaging depends on Kernels only");
        Assert.That(LayerRule.CheckReferences("Ctmsr.Metrics", ["Ctmsr.Inference"]), Has.Exactly(1).Items, "siblings do not reference each other");
        Assert.That(LayerRule.CheckReferences("Ctmsr.Train", ["Ctmsr.Kernels", "Ctmsr.Inference"]), Is.Empty);
        Assert.That(LayerRule.CheckReferences("Ctmsr.Newcomer", []), Has.Exactly(1).Items, "an unknown project must be placed first");
    }

    [Test]
    public void AnUpwardUsingIsReported()
    {
        const string src = "using System;\nusing Ctmsr.Kernels.Cpu;\nusing static Ctmsr.Autograd.F;\nusing M = Ctmsr.Model.Network;\nnamespace Ctmsr.Autograd;\n";
        Assert.That(LayerRule.CheckUsings("Ctmsr.Autograd", "x.cs", src).ToList(), Has.Count.EqualTo(1).And.Some.Contains("Ctmsr.Model"));
        Assert.That(LayerRule.CheckUsings("Ctmsr.Kernels", "x.cs", "using Ctmsr.Cli.Verbs;").ToList(), Has.Count.EqualTo(1));
        Assert.That(LayerRule.CheckUsings("ctmsr", "x.cs", "using Ctmsr.Cli.Verbs;\nusing Ctmsr.Train.Data;").ToList(), Is.Empty);
    }
}
