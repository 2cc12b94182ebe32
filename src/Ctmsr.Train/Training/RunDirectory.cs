using Ctmsr.Kernels;
using System.Globalization;
using System.Text.Json.Nodes;
using Ctmsr.Model.Checkpoints;

namespace Ctmsr.Train.Training;

/// <summary>
/// The files of one training run: config.json (the options), log.jsonl (one JSON object per logged
/// iteration), checkpoints/ckpt_NNNNNNNN.safetensors (the last K kept) and model_ema.safetensors (the latest
/// EMA model, for inference) and loss.png (the loss curve, redrawn at each log step).
/// </summary>
public sealed class RunDirectory
{
    public string Root { get; }
    public string ConfigPath => Path.Combine(Root, "config.json");
    public string LogPath => Path.Combine(Root, "log.jsonl");
    public string CheckpointFolder => Path.Combine(Root, "checkpoints");
    public string EmaModelPath => Path.Combine(Root, "model_ema.safetensors");
    public string LossPlotPath => Path.Combine(Root, "loss.png");

    RunDirectory(string root) => Root = Path.GetFullPath(root);

    /// <summary>A new run: the folder must not hold one already.</summary>
    public static RunDirectory Create(string root, TrainOptions options)
    {
        if (string.IsNullOrWhiteSpace(root)) throw new ArgumentException("no run directory given: pass --run DIR");
        var r = new RunDirectory(root);
        if (File.Exists(r.Root)) throw new ArgumentException($"{r.Root} is a file; --run needs a directory");
        if (File.Exists(r.ConfigPath))
            throw new ArgumentException($"{r.Root} already holds a run (config.json); continue it with --resume {root} or pick a new --run directory");
        Directory.CreateDirectory(r.CheckpointFolder);
        AtomicFile.WriteAllText(r.ConfigPath, options.ToJson());
        return r;
    }

    /// <summary>An existing run (for resume, or as the source of a DTM stage).</summary>
    public static RunDirectory Open(string root)
    {
        var r = new RunDirectory(root);
        if (!Directory.Exists(r.Root)) throw new DirectoryNotFoundException($"{r.Root}: no such run directory; check the path given to --resume/--from");
        if (!File.Exists(r.ConfigPath)) throw new FileNotFoundException($"{r.Root} has no config.json: it is not a Ctmsr run directory (start one with ctmsr train ct --run DIR)", r.ConfigPath);
        return r;
    }

    /// <summary>The run as seen by a data-parallel rank other than 0: it only names the paths and never touches them (rank 0 writes).</summary>
    public static RunDirectory OnOtherRank(string root) => new(root);

    public static bool IsRun(string path) => Directory.Exists(path) && File.Exists(Path.Combine(path, "config.json"));

    public TrainOptions ReadOptions() => TrainOptions.FromJson(File.ReadAllText(ConfigPath), ConfigPath);

    public void WriteOptions(TrainOptions o) => AtomicFile.WriteAllText(ConfigPath, o.ToJson());

    public string CheckpointPath(int iteration) => Path.Combine(CheckpointFolder, $"ckpt_{iteration.ToString("D8", CultureInfo.InvariantCulture)}.safetensors");

    /// <summary>Checkpoints by iteration, oldest first.</summary>
    public List<(int iteration, string path)> Checkpoints()
    {
        var r = new List<(int, string)>();
        if (!Directory.Exists(CheckpointFolder)) return r;
        foreach (var f in Directory.EnumerateFiles(CheckpointFolder, "ckpt_*.safetensors"))
        {
            var stem = Path.GetFileNameWithoutExtension(f)["ckpt_".Length..];
            if (int.TryParse(stem, NumberStyles.None, CultureInfo.InvariantCulture, out int it)) r.Add((it, f));
        }
        r.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return r;
    }

    public string? LatestCheckpoint() => Checkpoints() is { Count: > 0 } c ? c[^1].path : null;

    /// <summary>Deletes all but the newest <paramref name="keep"/> checkpoints.</summary>
    public void Prune(int keep)
    {
        var c = Checkpoints();
        for (int i = 0; i < c.Count - keep; i++) File.Delete(c[i].path);
    }

    public void AppendLog(JsonObject entry) => File.AppendAllText(LogPath, entry.ToJsonString() + "\n");

    /// <summary>Drops log lines past <paramref name="iteration"/> (written after the checkpoint a resume starts from).</summary>
    public void TruncateLog(int iteration)
    {
        if (!File.Exists(LogPath)) return;
        var keep = File.ReadAllLines(LogPath).Where(l =>
        {
            if (string.IsNullOrWhiteSpace(l)) return false;
            try { return JsonNode.Parse(l)?["iter"]?.GetValue<int>() is not int it || it <= iteration; }
            catch (System.Text.Json.JsonException) { return false; }
        });
        AtomicFile.WriteAllText(LogPath, string.Concat(keep.Select(l => l + "\n")));
    }

    /// <summary>The logged entries (for tests and tools).</summary>
    public List<JsonObject> ReadLog() =>
        File.Exists(LogPath)
            ? File.ReadAllLines(LogPath).Where(l => !string.IsNullOrWhiteSpace(l)).Select(l => JsonNode.Parse(l)!.AsObject()).ToList()
            : new();
}
