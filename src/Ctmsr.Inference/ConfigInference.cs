using Ctmsr.Model.Checkpoints;
using Ctmsr.Model.Network;

namespace Ctmsr.Inference;

/// <summary>
/// Recovers a CtmsrConfig from the shapes of an official-layout state dict, so any checkpoint (the released
/// x4 model, a fixture, a small trained model) loads without the user naming its configuration.
/// </summary>
public static class ConfigInference
{
    public static CtmsrConfig FromStateDict(IReadOnlyDictionary<string, HostTensor> s, string prefix = ModelWeights.Prefix)
    {
        HostTensor Get(string k) => s.TryGetValue(prefix + k, out var t) ? t
            : throw new Ctmsr.Autograd.StateDictException($"'{prefix}{k}' is missing: this is not a CTMSR checkpoint");
        int c = Get("map_layer0.weight").Shape[1];
        var levels = s.Keys.Where(k => k.StartsWith(prefix + "enc.", StringComparison.Ordinal) && k.EndsWith("_block0.conv0.weight", StringComparison.Ordinal))
            .Select(k => k[(prefix.Length + 4)..].Split('_')[0]).Select(r => int.Parse(r.Split('x')[0])).OrderDescending().ToList();
        if (levels.Count == 0) throw new Ctmsr.Autograd.StateDictException("no encoder blocks found: this is not a CTMSR checkpoint");
        var mult = levels.Select(r => Get($"enc.{r}x{r}_block0.conv0.weight").Shape[0] / c).ToArray();
        int blocks = s.Keys.Count(k => k.StartsWith($"{prefix}enc.{levels[0]}x{levels[0]}_block", StringComparison.Ordinal) && k.EndsWith(".conv0.weight", StringComparison.Ordinal));
        string swin = $"enc.{levels[0]}x{levels[0]}_block0.swin_layer.";
        int e = Get(swin + "patch_embed.proj.weight").Shape[0];
        var table = Get(swin + "blocks.0.attn.relative_position_bias_table").Shape;
        int ws = ((int)Math.Round(Math.Sqrt(table[0])) + 1) / 2;
        int mlp = Get(swin + "blocks.0.mlp.fc1.weight").Shape[0] / e;
        return new CtmsrConfig { ModelChannels = c, ChannelMult = mult, NumBlocks = blocks, EmbedDim = e, NumHeads = table[1], WindowSize = ws, MlpRatio = mlp };
    }
}
