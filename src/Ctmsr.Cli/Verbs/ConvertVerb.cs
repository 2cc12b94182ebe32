using System.CommandLine;
using Ctmsr.Model.Checkpoints;
using Ctmsr.Model.Network;

namespace Ctmsr.Cli.Verbs;

/// <summary>`ctmsr convert IN.pth OUT.safetensors [--key params_ema]`: imports an official checkpoint.</summary>
static class ConvertVerb
{
    public static Command Create()
    {
        var input = new Argument<FileInfo>("input") { Description = "official checkpoint (.pth, zip or legacy format) or .safetensors" };
        var output = new Argument<FileInfo>("output") { Description = "safetensors file to write (atomically)" };
        var key = new Option<string?>("--key") { Description = "entry of the checkpoint to take (default: params_ema if present)" };
        var cmd = new Command("convert", "import an official PyTorch checkpoint into Ctmsr's safetensors format") { input, output, key };
        cmd.SetGuardedAction(r =>
        {
            var inp = r.GetValue(input)!; var outp = r.GetValue(output)!;
            if (!inp.Exists) throw new FileNotFoundException($"{inp.FullName}: no such checkpoint");
            var state = CheckpointFiles.LoadStateDict(inp.FullName, r.GetValue(key));
            var meta = CarriedMetadata(inp.FullName);
            meta["source"] = inp.Name; meta["format"] = "ctmsr";
            SafetensorsFile.Write(outp.FullName, state, meta);
            Console.WriteLine($"wrote {state.Count} tensors ({state.Values.Sum(t => t.Count):N0} values) to {outp.FullName}");
            return 0;
        });
        return cmd;
    }

    /// <summary>What a safetensors input says of the model that the output must keep: the network's configuration (a
    /// tiny or small model read without it would be taken for the x4 default) and the iteration it was trained to.
    /// Training state (Adam step, dropout stream, stage) stays behind: the output is a model, not a checkpoint.</summary>
    static Dictionary<string, string> CarriedMetadata(string path)
    {
        var kept = new Dictionary<string, string>();
        if (!CheckpointFiles.IsSafetensors(path)) return kept;
        using var f = SafetensorsFile.Open(path);
        foreach (var k in CtmsrConfig.X4.ToMetadata().Keys.Append("iteration"))
            if (f.Metadata.TryGetValue(k, out var v)) kept[k] = v;
        return kept;
    }
}
