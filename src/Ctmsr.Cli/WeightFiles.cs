namespace Ctmsr.Cli;

/// <summary>Finds the small weight files the tool uses by default (LPIPS heads, NIQE parameters).</summary>
static class WeightFiles
{
    /// <summary>$ENV, else weights/NAME under the working directory, ../shared or the tool's own folder.</summary>
    public static string? FindDefault(string env, string name)
    {
        var e = Environment.GetEnvironmentVariable(env);
        if (!string.IsNullOrEmpty(e)) return File.Exists(e) ? e : throw new FileNotFoundException($"${env} points to {e}, which does not exist; fix or unset it");
        foreach (var root in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var d = new DirectoryInfo(root); d is not null; d = d.Parent)
                foreach (var cand in new[] { Path.Combine(d.FullName, "weights", name), Path.Combine(d.FullName, "shared", "weights", name) })
                    if (File.Exists(cand)) return cand;
        return null;
    }
}
