using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Ctmsr.Benchmarking;

/// <summary>
/// The PyTorch side of the bench: bench/twin/serve.py run under python3 as a subprocess, one JSON request
/// on its stdin, one JSON answer on its stdout. Absent python, torch or script is a note, never an error.
/// </summary>
public sealed class TorchTwin
{
    public const string DefaultPython = "/usr/bin/python3";
    public const string ScriptEnvVar = "CTMSR_TWIN";

    public string Python { get; }
    public string Script { get; }
    public string Version { get; }

    TorchTwin(string python, string script, string version) { Python = python; Script = script; Version = version; }

    /// <summary>bench/twin/serve.py: $CTMSR_TWIN, else found upwards from the current directory or the binary's.</summary>
    public static string? FindScript()
    {
        var env = Environment.GetEnvironmentVariable(ScriptEnvVar);
        if (!string.IsNullOrEmpty(env)) return File.Exists(env) ? Path.GetFullPath(env) : null;
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
            {
                var p = Path.Combine(d.FullName, "bench", "twin", "serve.py");
                if (File.Exists(p)) return p;
            }
        return null;
    }

    /// <summary>The twin, or null with the reason in <paramref name="note"/>.</summary>
    public static TorchTwin? Find(string python, out string note)
    {
        var script = FindScript();
        if (script is null) { note = $"PyTorch comparison skipped: bench/twin/serve.py not found (run from the repository, or set {ScriptEnvVar})"; return null; }
        if (!File.Exists(python)) { note = $"PyTorch comparison skipped: {python} is absent (apt-get install python3-torch)"; return null; }
        var (code, output, err) = Exec(python, ["-c", "import torch; print(torch.__version__)"], null, TimeSpan.FromMinutes(2));
        if (code != 0) { note = $"PyTorch comparison skipped: {python} cannot import torch ({LastLine(err)}); apt-get install python3-torch"; return null; }
        note = "";
        return new TorchTwin(python, script, output.Trim());
    }

    /// <summary>Runs one request; the answer's "results" match the request's "cases" in order.</summary>
    public JsonObject Run(JsonObject request, TimeSpan timeout)
    {
        var (code, output, err) = Exec(Python, [Script], request.ToJsonString(), timeout);
        if (code != 0) throw new TorchTwinException($"{Path.GetFileName(Script)} exited with {code}: {LastLine(err)}");
        try { return JsonNode.Parse(output)!.AsObject(); }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or NullReferenceException)
        {
            throw new TorchTwinException($"{Path.GetFileName(Script)} answered something that is not JSON ({e.Message})");
        }
    }

    /// <summary>Runs another script of bench/twin under the twin's python (e.g. the ONNX export); its stdout.</summary>
    public string RunScript(string script, string[] args, TimeSpan timeout)
    {
        var (code, output, err) = Exec(Python, [script, .. args], null, timeout);
        if (code != 0) throw new TorchTwinException($"{Path.GetFileName(script)} exited with {code}: {LastLine(err)}");
        return output;
    }

    /// <summary>A line-per-message session (serve.py --lines) for alternating our kernel rounds with torch's.</summary>
    public TwinSession OpenSession(int threads, string device) => new(Python, Script, threads, device);

    static string LastLine(string s) => s.Trim().Split('\n').LastOrDefault()?.Trim() ?? "";

    static (int code, string output, string err) Exec(string file, string[] args, string? stdin, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null, UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(psi) ?? throw new TorchTwinException($"could not start {file}");
            var outTask = p.StandardOutput.ReadToEndAsync();
            var errTask = p.StandardError.ReadToEndAsync();
            if (stdin is not null) { p.StandardInput.Write(stdin); p.StandardInput.Close(); }
            if (!p.WaitForExit(timeout))
            {
                p.Kill(entireProcessTree: true);
                throw new TorchTwinException($"{file} {string.Join(' ', args)} ran past {timeout.TotalMinutes:0} minutes and was stopped");
            }
            return (p.ExitCode, outTask.Result, errTask.Result);
        }
        catch (System.ComponentModel.Win32Exception e) { return (-1, "", e.Message); }
    }
}

/// <summary>
/// A running serve.py --lines: Setup(case) warms a kernel up and fixes its calls per round, Round() times one
/// round. Killed on disposal. Any failure is a <see cref="TorchTwinException"/>.
/// </summary>
public sealed class TwinSession : IDisposable
{
    readonly Process _p;
    readonly Task<string> _err;

    public string Device { get; }

    internal TwinSession(string python, string script, int threads, string device)
    {
        var psi = new ProcessStartInfo(python)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        psi.ArgumentList.Add(script); psi.ArgumentList.Add("--lines");
        try { _p = Process.Start(psi) ?? throw new TorchTwinException($"could not start {python}"); }
        catch (System.ComponentModel.Win32Exception e) { throw new TorchTwinException($"could not start {python}: {e.Message}"); }
        _err = _p.StandardError.ReadToEndAsync();
        var hello = Ask(new JsonObject { ["op"] = "config", ["threads"] = threads, ["device"] = device });
        Device = hello["device"]?.GetValue<string>() ?? device;
    }

    public void Setup(JsonObject kernelCase, double roundSeconds) =>
        Ask(new JsonObject { ["op"] = "setup", ["case"] = kernelCase.DeepClone(), ["round_seconds"] = roundSeconds });

    public double Round() => Ask(new JsonObject { ["op"] = "round" })["seconds"]!.GetValue<double>();

    JsonObject Ask(JsonObject request)
    {
        try
        {
            _p.StandardInput.WriteLine(request.ToJsonString());
            _p.StandardInput.Flush();
            var line = _p.StandardOutput.ReadLine();
            if (line is null)
            {
                _p.WaitForExit(5000);
                string err = _err.IsCompleted ? _err.Result.Trim().Split('\n').LastOrDefault() ?? "" : "";
                throw new TorchTwinException($"serve.py --lines stopped answering ({err})");
            }
            var answer = JsonNode.Parse(line)!.AsObject();
            if (answer["error"] is { } e) throw new TorchTwinException($"serve.py: {e}");
            return answer;
        }
        catch (IOException e) { throw new TorchTwinException($"serve.py --lines: {e.Message}"); }
        catch (System.Text.Json.JsonException e) { throw new TorchTwinException($"serve.py --lines answered something that is not JSON ({e.Message})"); }
    }

    public void Dispose()
    {
        try
        {
            _p.StandardInput.Close();
            if (!_p.WaitForExit(10_000)) _p.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException) { }
        _p.Dispose();
    }
}

/// <summary>The twin failed; the bench records the message as a note and carries on.</summary>
public sealed class TorchTwinException(string message) : Exception(message);
