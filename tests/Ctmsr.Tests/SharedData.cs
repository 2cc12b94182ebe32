namespace Ctmsr.Tests;

/// <summary>Locates ../shared (fixtures, data, weights) beside the checkout; tests that need it skip where it is absent.</summary>
public static class SharedData
{
    static readonly Lazy<string?> RootLazy = new(Find);

    static string? Find()
    {
        var env = Environment.GetEnvironmentVariable("CTMSR_SHARED");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(Path.Combine(env, "fixtures"))) return env;
        foreach (var start in new[] { TestContext.CurrentContext.TestDirectory, Directory.GetCurrentDirectory() })
        {
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
            {
                var cand = Path.Combine(d.FullName, "shared");
                if (Directory.Exists(Path.Combine(cand, "fixtures")) && Directory.Exists(Path.Combine(cand, "spec"))) return cand;
            }
        }
        return null;
    }

    /// <summary>Absolute path of a file under shared/, or an Ignore (skip) with the reason.</summary>
    public static string Path_(string relative)
    {
        var root = RootLazy.Value;
        if (root is null) Assert.Ignore("../shared is not beside the checkout (set CTMSR_SHARED to its path)");
        var p = Path.Combine(root!, relative);
        if (!File.Exists(p) && !Directory.Exists(p)) Assert.Ignore($"{p} is absent");
        return p;
    }

    public static string Fixture(string name) => Path_(Path.Combine("fixtures", name));
}
