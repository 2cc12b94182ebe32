using Ctmsr.Kernels.Cpu;
using Ctmsr.Model.Checkpoints;
using Ctmsr.Model.Network;
using Ctmsr.Train.Imaging;
using Ctmsr.Train.Inference;

namespace Ctmsr.Tests.Inference;

public class UpscalerTests
{
    [Test]
    public void TileStartsFollowTheSpec()
    {
        // spec section 6: starts 0, 448, 896, ... with the last moved back to end at the border, duplicates dropped
        Assert.That(TileBlend.Starts(512, 512, 448), Is.EqualTo(new[] { 0 }));
        Assert.That(TileBlend.Starts(1024, 512, 448), Is.EqualTo(new[] { 0, 448, 512 }));
        Assert.That(TileBlend.Starts(960, 512, 448), Is.EqualTo(new[] { 0, 448 }));
        Assert.That(TileBlend.Starts(1408, 512, 448), Is.EqualTo(new[] { 0, 448, 896 }));
    }

    [Test]
    public void ConfigIsInferredFromTheCheckpointShapes()
    {
        var state = CheckpointFiles.LoadStateDict(SharedData.Fixture("ctmsr_small_official.pth"));
        var cfg = ConfigInference.FromStateDict(state);
        var small = CtmsrConfig.Small;
        Assert.That((cfg.ModelChannels, cfg.NumBlocks, cfg.EmbedDim, cfg.NumHeads, cfg.WindowSize, cfg.MlpRatio),
            Is.EqualTo((small.ModelChannels, small.NumBlocks, small.EmbedDim, small.NumHeads, small.WindowSize, small.MlpRatio)));
        Assert.That(cfg.ChannelMult, Is.EqualTo(small.ChannelMult));
    }

    static Image Card(int w, int h, int channels)
    {
        var img = new Image(w, h, channels);
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) img.Plane(c)[y * w + x] = (float)(0.5 + 0.4 * Math.Sin(0.3 * x + 0.2 * y + c));
        return img;
    }

    [Test]
    public void OddSizesPadAndCropGreyStaysGreyAlphaIsBicubicAndSeedsRepeat()
    {
        var state = CheckpointFiles.LoadStateDict(SharedData.Fixture("ctmsr_small_official.pth"));
        using var up = new Upscaler(new CpuBackend(), state, new UpscaleOptions { Seed = 3, Alpha = AlphaMode.Bicubic });
        var rgb = up.Upscale(Card(37, 21, 3));
        Assert.That((rgb.Width, rgb.Height, rgb.Channels), Is.EqualTo((148, 84, 3)));
        Assert.That(rgb.Data.All(v => v is >= 0f and <= 1f));
        Assert.That(up.Upscale(Card(37, 21, 3)).Data, Is.EqualTo(rgb.Data), "same seed, same output");

        var ga = Card(20, 16, 2);
        var g = up.Upscale(ga);
        Assert.That((g.Width, g.Height, g.Channels), Is.EqualTo((80, 64, 2)));
        var alpha = Ctmsr.Train.Resampling.Resize.Apply(ga.AlphaPlane.ToArray(), 1, 16, 20, 64, 80, Ctmsr.Train.Resampling.ResizeMode.Bicubic);
        Assert.That(g.AlphaPlane.ToArray(), Is.EqualTo(alpha.Select(v => Math.Clamp(v, 0f, 1f)).ToArray()));
    }

    [Test]
    public void TilingAveragesOverlapsAndMatchesOneTileWhereOnlyOneCovers()
    {
        var state = CheckpointFiles.LoadStateDict(SharedData.Fixture("ctmsr_small_official.pth"));
        var img = Card(128, 64, 3);
        using var whole = new Upscaler(new CpuBackend(), state, new UpscaleOptions { Seed = 1, Tile = 128, TileOverlap = 0 });
        using var tiled = new Upscaler(new CpuBackend(), state, new UpscaleOptions { Seed = 1, Tile = 64, TileOverlap = 0 });
        var a = whole.Upscale(img); var b = tiled.Upscale(img);
        Assert.That((b.Width, b.Height), Is.EqualTo((512, 256)));
        // tiles are independent problems (own bicubic border, own noise): outputs differ, but stay close in mean
        Assert.That(b.Data, Is.Not.EqualTo(a.Data));
        Assert.That(Math.Abs(a.Data.Average() - b.Data.Average()), Is.LessThan(0.05));
    }
}
