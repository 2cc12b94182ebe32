namespace Ctmsr.Model.Network;

/// <summary>
/// Hyper-parameters of the CTMSR denoiser (spec section 3). Defaults are the released x4 model:
/// 171,518,529 parameters, 942 state-dict entries.
/// </summary>
public sealed record CtmsrConfig
{
    public int ModelChannels { get; init; } = 192;
    public int[] ChannelMult { get; init; } = [1, 2, 2, 2];
    public int NumBlocks { get; init; } = 4;
    public int EmbedDim { get; init; } = 192;
    public int NumHeads { get; init; } = 6;
    public int WindowSize { get; init; } = 8;
    public int MlpRatio { get; init; } = 4;
    public float Dropout { get; init; } = 0.13f;
    public int Scale { get; init; } = 4;

    public int EmbChannels => 4 * ModelChannels;
    /// <summary>The LR input must be a multiple of this: the window at the coarsest level.</summary>
    public int SizeMultiple => WindowSize << (ChannelMult.Length - 1);

    public static CtmsrConfig X4 => new();

    /// <summary>The configuration of ../shared/fixtures/ctmsr_small*.safetensors.</summary>
    public static CtmsrConfig Small => new() { ModelChannels = 32, NumBlocks = 2, EmbedDim = 32, NumHeads = 2 };

    /// <summary>Small with two levels (LR sides a multiple of 16): the CPU-trainable demo model.</summary>
    public static CtmsrConfig Tiny => Small with { ChannelMult = [1, 2] };

    /// <summary>Reads a configuration from safetensors metadata (model_channels, channel_mult, ...); missing keys keep the x4 defaults.</summary>
    public static CtmsrConfig FromMetadata(IReadOnlyDictionary<string, string> m)
    {
        var c = new CtmsrConfig();
        int I(string k, int d) => m.TryGetValue(k, out var v) ? int.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : d;
        return c with
        {
            ModelChannels = I("model_channels", c.ModelChannels),
            ChannelMult = m.TryGetValue("channel_mult", out var cm) ? cm.Split(',').Select(int.Parse).ToArray() : c.ChannelMult,
            NumBlocks = I("num_blocks", c.NumBlocks),
            EmbedDim = I("embed_dim", c.EmbedDim),
            NumHeads = I("num_heads", c.NumHeads),
            WindowSize = I("window_size", c.WindowSize),
            MlpRatio = I("mlp_ratio", c.MlpRatio),
            Dropout = m.TryGetValue("dropout", out var dp) ? float.Parse(dp, System.Globalization.CultureInfo.InvariantCulture) : c.Dropout,
        };
    }

    public Dictionary<string, string> ToMetadata() => new()
    {
        ["model_channels"] = ModelChannels.ToString(),
        ["channel_mult"] = string.Join(",", ChannelMult),
        ["num_blocks"] = NumBlocks.ToString(),
        ["embed_dim"] = EmbedDim.ToString(),
        ["num_heads"] = NumHeads.ToString(),
        ["window_size"] = WindowSize.ToString(),
        ["mlp_ratio"] = MlpRatio.ToString(),
        ["dropout"] = Dropout.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public override string ToString() =>
        $"C {ModelChannels}, mult {string.Join(",", ChannelMult)}, {NumBlocks} blocks, Swin E {EmbedDim}, {NumHeads} heads, window {WindowSize}";
}
