namespace Ctmsr.Model.Checkpoints;

/// <summary>Opens a state dict from any checkpoint format users have: safetensors (ours) or PyTorch .pth (zip or legacy).</summary>
public static class CheckpointFiles
{
    public static bool IsSafetensors(string path)
    {
        using var f = File.OpenRead(path);
        Span<byte> head = stackalloc byte[9];
        return f.Read(head) == 9 && head[8] == (byte)'{' && BitConverter.ToInt64(head[..8]) < f.Length;
    }

    /// <param name="key">For .pth: the entry to take (params_ema, params, state_dict); null picks params_ema when present.
    /// For safetensors: a training checkpoint's group (params_ema by default, or params) with its prefix stripped; other
    /// files are read whole, with the fixtures' "param." prefix stripped.</param>
    public static Dictionary<string, HostTensor> LoadStateDict(string path, string? key = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such checkpoint file", path);
        // by extension too: a .safetensors file with a damaged header gets the safetensors reader's diagnosis, not the
        // pickle reader's "not a PyTorch checkpoint"
        if (IsSafetensors(path) || path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
        {
            using var f = SafetensorsFile.Open(path);
            // a training checkpoint holds params., params_ema. and optim. groups: take the asked one (params_ema by default)
            string group = (key ?? "params_ema") + ".";
            if (f.Names.Any(n => n.StartsWith(group, StringComparison.Ordinal))) return f.ReadAll(group);
            if (key is not null && f.Names.Any(n => n.StartsWith("params_ema.", StringComparison.Ordinal)))
                throw new InvalidDataException($"{path} has no '{key}' entries; a training checkpoint holds params, params_ema and optim: use --key params or params_ema");
            string prefix = f.Names.Any(n => n.StartsWith("param.", StringComparison.Ordinal)) ? "param." : "";
            return f.ReadAll(prefix);
        }
        return TorchCheckpoint.LoadStateDict(path, key);
    }
}
