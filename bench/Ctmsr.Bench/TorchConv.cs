using System.Diagnostics;
using System.Globalization;
using Ctmsr.Kernels;

namespace Ctmsr.Bench;

/// <summary>Runs bench/torch_conv.py under /usr/bin/python3 (Debian python3-torch) for the same conv shapes.</summary>
static class TorchConv
{
    const string Python = "/usr/bin/python3";

    static string? Script()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            var p = Path.Combine(d.FullName, "bench", "torch_conv.py");
            if (File.Exists(p)) return p;
        }
        return null;
    }

    /// <summary>GFLOP/s per shape (forward, backward-data, backward-weight), or null when torch is unavailable.</summary>
    public static (double fwd, double bwdData, double bwdWeight)[]? Measure(ConvShape[] shapes)
    {
        var script = Script();
        if (script is null || !File.Exists(Python)) return null;
        var psi = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add("--threads"); psi.ArgumentList.Add(Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture));
        foreach (var s in shapes) psi.ArgumentList.Add($"{s.N},{s.Cin},{s.H},{s.W},{s.Cout},{s.K},{s.Stride},{s.Pad}");
        try
        {
            using var p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd();
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) { Console.Error.WriteLine($"torch_conv.py failed (torch missing? apt-get install python3-torch): {err.Trim().Split('\n')[^1]}"); return null; }
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("gflops ", StringComparison.Ordinal)).ToArray();
            return lines.Select(l =>
            {
                var f = l.Split(' ');
                double P(string v) => double.Parse(v, CultureInfo.InvariantCulture);
                return (P(f[2]), P(f[3]), P(f[4]));
            }).ToArray();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or FormatException)
        {
            Console.Error.WriteLine($"torch comparison skipped: {e.Message}");
            return null;
        }
    }
}
