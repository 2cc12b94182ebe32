using System.Diagnostics;
using System.Text;

namespace Ctmsr.Tests.Training;

/// <summary>
/// Starts the built `ctmsr` under Open MPI's mpirun (root-safe, oversubscribed: CI has 2 cores) or alone, and
/// captures its output. Tests that need it skip, with the reason, where mpirun or libmpi is absent.
/// </summary>
sealed class MpiLauncher
{
    readonly string _mpirun;
    readonly string[] _ctmsr;

    MpiLauncher(string mpirun, string[] ctmsr) { _mpirun = mpirun; _ctmsr = ctmsr; }

    public static MpiLauncher OrSkip()
    {
        var mpirun = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "mpirun")).FirstOrDefault(File.Exists);
        if (mpirun is null) Assert.Ignore("mpirun is not on PATH: install Open MPI (scripts/deps.sh: openmpi-bin libopenmpi-dev)");
        if (!System.Runtime.InteropServices.NativeLibrary.TryLoad("libmpi.so.40", out _))
            Assert.Ignore("libmpi.so.40 (Open MPI) does not load: install openmpi-bin libopenmpi-dev");
        var dir = TestContext.CurrentContext.TestDirectory;
        var host = Path.Combine(dir, "ctmsr");
        string[] ctmsr = File.Exists(host) ? [host] : ["dotnet", Path.Combine(dir, "ctmsr.dll")];
        return new MpiLauncher(mpirun!, ctmsr);
    }

    /// <summary>ranks 0: one plain process (no mpirun); otherwise mpirun -np ranks.</summary>
    public Process Start(int ranks, IEnumerable<string> args, StringBuilder output)
    {
        var psi = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (ranks > 0)
        {
            psi.FileName = _mpirun;
            foreach (var a in new[] { "--allow-run-as-root", "--oversubscribe", "-np", ranks.ToString() }) psi.ArgumentList.Add(a);
            foreach (var a in _ctmsr) psi.ArgumentList.Add(a);
        }
        else
        {
            psi.FileName = _ctmsr[0];
            foreach (var a in _ctmsr.Skip(1)) psi.ArgumentList.Add(a);
        }
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["CTMSR_DEVICE"] = null;
        var p = new Process { StartInfo = psi };
        void Add(object _, DataReceivedEventArgs e) { if (e.Data is not null) lock (output) output.AppendLine(e.Data); }
        p.OutputDataReceived += Add;
        p.ErrorDataReceived += Add;
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    public (int Code, string Output) Run(int ranks, IEnumerable<string> args, int timeoutSeconds = 600)
    {
        var output = new StringBuilder();
        using var p = Start(ranks, args, output);
        if (!p.WaitForExit(timeoutSeconds * 1000))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"ctmsr did not finish within {timeoutSeconds} s:\n{output}");
        }
        p.WaitForExit();
        lock (output) return (p.ExitCode, output.ToString());
    }

    /// <summary>The process ids of mpirun's children that run rank <paramref name="rank"/> (from their OMPI_COMM_WORLD_RANK).</summary>
    public static List<int> RankPids(int mpirunPid, int rank)
    {
        var r = new List<int>();
        foreach (var d in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(d), out int pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(d, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1]) != mpirunPid) continue;
                var env = File.ReadAllText(Path.Combine(d, "environ")).Split('\0');
                if (env.Contains($"OMPI_COMM_WORLD_RANK={rank}")) r.Add(pid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
        }
        return r;
    }
}
