using System.CommandLine;
using Ctmsr.Model.Checkpoints;
using Ctmsr.Model.Network;

namespace Ctmsr.Cli.Verbs;

/// <summary>`ctmsr convert IN.pth OUT.safetensors [--key params_ema] [--blend OTHER --alpha A]`: imports an official
/// checkpoint; with --blend, writes the weight average (1 - A) IN + A OTHER of two models of the same network (checkpoints
/// of one training lineage; how the shipped tiny model was made, README "The shipped tiny model").</summary>
static class ConvertVerb
{
    public static Command Create()
    {
        var input = new Argument<FileInfo>("input") { Description = "official checkpoint (.pth, zip or legacy format) or .safetensors" };
        var output = new Argument<FileInfo>("output") { Description = "safetensors file to write (atomically)" };
        var key = new Option<string?>("--key") { Description = "entry of the checkpoint to take (default: params_ema if present)" };
        var blend = new Option<FileInfo?>("--blend") { Description = "a second model of the same network: write (1 - alpha) input + alpha blend, tensor by tensor" };
        var alpha = new Option<double?>("--alpha") { Description = "the blend's weight, 0..1 (with --blend)" };
        var cmd = new Command("convert", "import an official PyTorch checkpoint into Ctmsr's safetensors format, or blend two models' weights") { input, output, key, blend, alpha };
        cmd.SetGuardedAction(r =>
        {
            var inp = r.GetValue(input)!; var outp = r.GetValue(output)!;
            if (!inp.Exists) throw new FileNotFoundException($"{inp.FullName}: no such checkpoint");
            var state = CheckpointFiles.LoadStateDict(inp.FullName, r.GetValue(key));
            var meta = CarriedMetadata(inp.FullName);
            meta["source"] = inp.Name; meta["format"] = "ctmsr";
            var other = r.GetValue(blend);
            double? a = r.GetValue(alpha);
            if (other is null != a is null) throw new ArgumentException("--blend and --alpha go together: give both (--blend OTHER.safetensors --alpha 0.25) or neither");
            if (other is not null)
            {
                if (!(a >= 0 && a <= 1)) throw new ArgumentException($"--alpha {a}: give a weight from 0 to 1");
                if (!other.Exists) throw new FileNotFoundException($"{other.FullName}: no such checkpoint");
                state = Blend(state, CheckpointFiles.LoadStateDict(other.FullName, r.GetValue(key)), a!.Value, other.Name);
                meta["source"] = $"{inp.Name} x {1 - a!.Value:R} + {other.Name} x {a!.Value:R}";
                meta.Remove("iteration");
            }
            SafetensorsFile.Write(outp.FullName, state, meta);
            Console.WriteLine($"wrote {state.Count} tensors ({state.Values.Sum(t => t.Count):N0} values) to {outp.FullName}");
            return 0;
        });
        return cmd;
    }

    /// <summary>(1 - alpha) a + alpha b for every float tensor, summed in float64 and rounded once to float32 (alpha 0 or 1
    /// gives a or b bit for bit); other tensors (index tables) must be equal. Keys, dtypes and shapes must match.</summary>
    internal static Dictionary<string, HostTensor> Blend(Dictionary<string, HostTensor> a, Dictionary<string, HostTensor> b, double alpha, string bName)
    {
        var missing = a.Keys.Except(b.Keys).Concat(b.Keys.Except(a.Keys)).Order(StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"{bName}: its keys differ from the input's ({missing.Count}, first '{missing[0]}'): blend two models of the same network configuration");
        var r = new Dictionary<string, HostTensor>(a.Count);
        foreach (var (k, ta) in a)
        {
            var tb = b[k];
            if (ta.DType != tb.DType || !ta.Shape.SequenceEqual(tb.Shape))
                throw new InvalidDataException($"{bName}: '{k}' is {tb.DType} {tb.ShapeText}, the input's is {ta.DType} {ta.ShapeText}: blend two models of the same network configuration");
            if (ta.DType != DType.F32)
            {
                if (!ta.Bytes.AsSpan().SequenceEqual(tb.Bytes))
                    throw new InvalidDataException($"{bName}: '{k}' ({ta.DType}) differs from the input's; only float32 tensors are blended");
                r[k] = ta;
                continue;
            }
            float[] x = ta.ToFloats(), y = tb.ToFloats(), z = new float[x.Length];
            for (int i = 0; i < z.Length; i++) z[i] = (float)((1 - alpha) * x[i] + alpha * y[i]);
            if (!z.All(float.IsFinite)) throw new InvalidDataException($"'{k}': the blend holds non-finite values: check both models");
            r[k] = HostTensor.FromFloats(z, ta.Shape);
        }
        return r;
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
