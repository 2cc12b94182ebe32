using System.CommandLine;
using Ctmsr.Model.Checkpoints;

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
            SafetensorsFile.Write(outp.FullName, state, new Dictionary<string, string> { ["source"] = inp.Name, ["format"] = "ctmsr" });
            Console.WriteLine($"wrote {state.Count} tensors ({state.Values.Sum(t => t.Count):N0} values) to {outp.FullName}");
            return 0;
        });
        return cmd;
    }
}
