using Ctmsr.Model.Network;

namespace Ctmsr.Benchmarking;

/// <summary>
/// FLOPs of one CTMSR denoiser pass, counted from the configuration by walking spec section 3 layer by
/// layer: every conv and linear costs 2 x (weight elements) x (output positions), every window attention
/// 4 T^2 d per window and head (<see cref="FlopCount"/>). Elementwise ops, GroupNorm and the
/// preconditioning are left out (well under 1% at the x4 shapes). <see cref="Weights"/> counts the
/// conv/linear weight elements visited, so a test can check the walk against the real module tree.
/// </summary>
public sealed class ModelCost
{
    public double Forward { get; private set; }
    /// <summary>Forward FLOPs of the layers whose input needs no gradient (the stem conv and map_layer0): their backward skips the data gradient.</summary>
    public double InputLayers { get; private set; }
    /// <summary>Conv and linear weight elements (no biases, norms or tables) met by the walk.</summary>
    public long Weights { get; private set; }

    /// <summary>A CT training step: the no-grad target pass, the prediction pass, and its backward (2x forward, less the input layers' data gradients).</summary>
    public double TrainStep => 2 * Forward + (2 * Forward - InputLayers);

    ModelCost() { }

    public static ModelCost Of(CtmsrConfig cfg, int batch, int lrHeight, int lrWidth)
    {
        var m = new ModelCost { _batch = batch };
        int c = cfg.ModelChannels, emb = cfg.EmbChannels, levels = cfg.ChannelMult.Length;
        m.InputLayers += m.Linear(batch, c, emb);
        m.Linear(batch, emb, emb);
        long Pos(int level) => (long)batch * (lrHeight >> level) * (lrWidth >> level);
        var skips = new Stack<int>();
        int cout = c;
        m.InputLayers += m.Conv(Pos(0), 3 * cfg.Scale * cfg.Scale + 3, cout, 3);
        skips.Push(cout);
        for (int level = 0; level < levels; level++)
        {
            if (level > 0) { m.Block(cfg, Pos(level), cout, cout, resample: true, attention: false); skips.Push(cout); }
            for (int i = 0; i < cfg.NumBlocks; i++)
            {
                int cin = cout; cout = c * cfg.ChannelMult[level];
                m.Block(cfg, Pos(level), cin, cout, resample: false, attention: true);
                skips.Push(cout);
            }
        }
        for (int level = levels - 1; level >= 0; level--)
        {
            if (level == levels - 1)
            {
                m.Block(cfg, Pos(level), cout, cout, resample: false, attention: true);
                m.Block(cfg, Pos(level), cout, cout, resample: false, attention: false);
            }
            else m.Block(cfg, Pos(level), cout, cout, resample: true, attention: false);
            for (int i = 0; i <= cfg.NumBlocks; i++)
            {
                int cin = cout + skips.Pop();
                cout = c * cfg.ChannelMult[level];
                m.Block(cfg, Pos(level), cin, cout, resample: false, attention: i == cfg.NumBlocks);
            }
        }
        m.Conv(Pos(0), cout, c, 3);           // aux_conv
        m.Conv(4 * Pos(0), c, c, 3);          // conv_up1 at 2x
        m.Conv(16 * Pos(0), c, c, 3);         // conv_up2 at 4x
        m.Conv(16 * Pos(0), c, 3, 3);         // conv_last
        return m;
    }

    double Conv(long positions, int cin, int cout, int k)
    {
        long w = (long)cout * cin * k * k;
        Weights += w;
        double f = 2.0 * w * positions;
        Forward += f;
        return f;
    }

    double Linear(long rows, int inF, int outF) => Conv(rows, inF, outF, 1);

    /// <summary>UNetBlock at its output resolution (positions); resample = up or down (forces the skip conv).</summary>
    void Block(CtmsrConfig cfg, long positions, int cin, int cout, bool resample, bool attention)
    {
        Conv(positions, cin, cout, 3);
        Linear(_batch, cfg.EmbChannels, cout);            // affine(emb), once per sample
        Conv(positions, cout, cout, 3);
        if (cin != cout || resample) Conv(positions, cin, cout, 1);
        if (!attention) return;
        int e = cfg.EmbedDim;
        Conv(positions, cout, e, 1);                      // patch_embed
        Linear(positions, e, 3 * e);                      // qkv
        long windows = positions / (cfg.WindowSize * cfg.WindowSize);
        Forward += FlopCount.AttentionForward(windows, cfg.WindowSize, cfg.NumHeads, e / cfg.NumHeads);
        Linear(positions, e, e);                          // proj
        Conv(positions, e, cfg.MlpRatio * e, 1);          // fc1
        Conv(positions, cfg.MlpRatio * e, e, 1);          // fc2
        Conv(positions, e, cout, 1);                      // patch_unembed
        Conv(positions, cout, cout, 3);                   // swin conv
    }

    long _batch;
}
