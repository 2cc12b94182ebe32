using Ctmsr.Kernels;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Model.Checkpoints;
using Ctmsr.Model.Network;
using Ctmsr.Train.Degradation;
using Ctmsr.Imaging;
using Ctmsr.Inference;
using Ctmsr.Imaging.Resampling;
using static Ctmsr.Tests.Inference.InferenceKit;

namespace Ctmsr.Tests.Inference;

public class UpscalerTests
{
    static float Out(float v) => Math.Clamp((v + 1f) * 0.5f, 0f, 1f);

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

    [Test]
    public void OddSizesPadAndCropGreyStaysGreyAndSeedsRepeat()
    {
        using var up = new Upscaler(new CpuBackend(), State, new UpscaleOptions { Seed = 3 });
        var rgb = up.Upscale(Card(37, 21, 3));
        Assert.That((rgb.Width, rgb.Height, rgb.Channels), Is.EqualTo((148, 84, 3)));
        Assert.That(rgb.Data.All(v => v is >= 0f and <= 1f));
        Assert.That(up.Upscale(Card(37, 21, 3)).Data, Is.EqualTo(rgb.Data), "same seed, same output");
        using var other = new Upscaler(new CpuBackend(), State, new UpscaleOptions { Seed = 4 });
        Assert.That(other.Upscale(Card(37, 21, 3)).Data, Is.Not.EqualTo(rgb.Data), "another seed, another sample");

        var grey = up.Upscale(Card(20, 16, 1));
        Assert.That((grey.Width, grey.Height, grey.Channels), Is.EqualTo((80, 64, 1)));
        // grey is the mean of the RGB result of the replicated grey input
        var g3 = up.UpscaleRgb([.. Card(20, 16, 1).Data, .. Card(20, 16, 1).Data, .. Card(20, 16, 1).Data], 16, 20);
        int p = 80 * 64;
        for (int i = 0; i < p; i += 97) Assert.That(grey.Data[i], Is.EqualTo((g3[i] + g3[p + i] + g3[2 * p + i]) / 3f));
    }

    [TestCase(SamplerKind.Ode)]
    [TestCase(SamplerKind.Consistency)]
    public void OneStepIsThePreexistingPathBitForBit(SamplerKind sampler)
    {
        var card = Card(64, 64, 3);
        using var up = new Upscaler(new CpuBackend(), State, new UpscaleOptions { Seed = 11, Steps = 1, Sampler = sampler });
        var got = up.UpscaleRgb(card.Data, 64, 64);
        using var net = new Net(new CpuBackend());
        var expect = net.OneStep(card.Data, 64, 64, 11, 0).Select(Out).ToArray();
        Assert.That(got, Is.EqualTo(expect), "bit for bit");
    }

    [Test]
    public void TilingIsANoOpWhenOneTileCoversThePaddedImage()
    {
        // 100x60 pads to 128x64: tiles of 128 or more, and the automatic tile, all give the single-tile result of spec
        // section 6 (reflect pad, one step on the padded image, crop)
        var card = Card(100, 60, 3);
        var results = new List<float[]>();
        foreach (int? tile in new int?[] { 128, 512, null })
        {
            using var up = new Upscaler(new CpuBackend(), State, new UpscaleOptions { Seed = 5, Tile = tile, FreeMemory = _ => long.MaxValue / 4 });
            results.Add(up.Upscale(card).Data);
            Assert.That(up.LastTileSize, Is.EqualTo(128));
        }
        Assert.That(results[1], Is.EqualTo(results[0]));
        Assert.That(results[2], Is.EqualTo(results[0]));

        var padded = new float[3 * 64 * 128];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 64; y++)
                for (int x = 0; x < 128; x++) padded[(c * 64 + y) * 128 + x] = card.Data[(c * 60 + Backend.Reflect101(y, 60)) * 100 + Backend.Reflect101(x, 100)];
        using var net = new Net(new CpuBackend());
        var whole = net.OneStep(padded, 64, 128, 5, 0);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 240; y++)
                for (int x = 0; x < 400; x++)
                    Assert.That(results[0][(c * 240 + y) * 400 + x], Is.EqualTo(Out(whole[(c * 256 + y) * 512 + x])), $"({c},{y},{x})");
    }

    [TestCase(TileBlendMode.Average)]
    [TestCase(TileBlendMode.Cosine)]
    public void TiledOutputIsTheWeightedMeanOfIndependentlyUpscaledTiles(TileBlendMode blend)
    {
        // 128x64 LR, tile 64, overlap 32: tiles at x = 0, 32, 64, each its own problem (own bicubic border, own noise
        // stream k << 40). Where one tile covers a pixel the output is that tile's; in overlaps, the blend.
        var card = Card(128, 64, 3);
        using var up = new Upscaler(new CpuBackend(), State, new UpscaleOptions { Seed = 2, Tile = 64, TileOverlap = 32, Blend = blend });
        var got = up.UpscaleRgb(card.Data, 64, 128);
        using var net = new Net(new CpuBackend());
        int[] starts = [0, 32, 64];
        var tiles = starts.Select((x0, k) => net.OneStep(Crop(card.Data, 64, 128, 0, x0, 64, 64), 64, 64, 2, (ulong)k)).ToArray();
        // weights along x in SR pixels (tile 256, overlaps 128): raised cosine in, raised cosine out; 1 for average
        double W(int k, int u)
        {
            if (blend == TileBlendMode.Average) return 1;
            double w = 1;
            if (k > 0 && u < 128) w *= 0.5 * (1 - Math.Cos(Math.PI * (u + 0.5) / 128));
            if (k < 2 && u >= 128) w *= 0.5 * (1 + Math.Cos(Math.PI * (u - 128 + 0.5) / 128));
            return w;
        }
        double maxDiff = 0;
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 256; y++)
                for (int x = 0; x < 512; x++)
                {
                    double s = 0, ws = 0;
                    for (int k = 0; k < 3; k++)
                    {
                        int u = x - 4 * starts[k];
                        if (u < 0 || u >= 256) continue;
                        s += W(k, u) * tiles[k][(c * 256 + y) * 256 + u];
                        ws += W(k, u);
                    }
                    double expect = Math.Clamp((s / ws + 1) / 2, 0, 1);
                    maxDiff = Math.Max(maxDiff, Math.Abs(got[(c * 256 + y) * 512 + x] - expect));
                }
        Assert.That(maxDiff, Is.LessThan(1e-6));
        // pixels only the first tile covers are that tile's output exactly
        Assert.That(got[100], Is.EqualTo(Out(tiles[0][100])));
    }

    [TestCase(SamplerKind.Ode, 3)]
    [TestCase(SamplerKind.Consistency, 3)]
    [TestCase(SamplerKind.Ode, 2)]
    public void MultiStepSamplersFollowTheTrajectory(SamplerKind sampler, int steps)
    {
        // the sampler of spec/TRAJECTORY.md written out in float64 around the network: x_1 = y + eps, then per grid
        // point x0_hat = D(x_t; t), x_s = ODE or consistency step; the consistency noise of grid point n is Philox
        // stream (tile << 40) + (n << 32)
        const ulong seed = 7;
        var card = Card(64, 64, 3);
        using var up = new Upscaler(new CpuBackend(), State, new UpscaleOptions { Seed = seed, Steps = steps, Sampler = sampler });
        var got = up.UpscaleRgb(card.Data, 64, 64);

        using var net = new Net(new CpuBackend());
        var lq = card.Data.Select(v => 2f * v - 1f).ToArray();
        var y = Resize.Apply(lq, 3, 64, 64, 256, 256, ResizeMode.Bicubic);
        int n = y.Length;
        var eps = Normals(seed, 0, n);
        var x = y.Select((v, i) => (double)v + eps[i]).ToArray();
        float[] x0 = [];
        for (int k = steps; k >= 1; k--)
        {
            double t = (double)k / steps, s = (double)(k - 1) / steps;
            x0 = net.D(x.Select(v => (float)v).ToArray(), lq, 64, 64, (float)t);
            if (k == 1) break;
            var z = Normals(seed, (ulong)(k - 1) << 32, n);
            for (int i = 0; i < n; i++)
            {
                double epsHat = (x[i] - x0[i] - t * (y[i] - x0[i])) / t;
                x[i] = x0[i] + s * (y[i] - x0[i]) + s * (sampler == SamplerKind.Ode ? epsHat : z[i]);
            }
        }
        var expect = x0.Select(Out).ToArray();
        double num = 0, den = 0;
        for (int i = 0; i < n; i++) { num += Math.Pow(got[i] - expect[i], 2); den += expect[i] * expect[i]; }
        Assert.That(Math.Sqrt(num / den), Is.LessThan(1e-4), "relative L2 error (float32 states vs float64 states)");
        var oneStep = net.OneStep(card.Data, 64, 64, seed, 0).Select(Out).ToArray();
        Assert.That(got, Is.Not.EqualTo(oneStep), "more steps give another sample");
    }

    [Test]
    public void AutoTileHalvesOnOutOfMemoryAndExplicitTilesAreLeftAlone()
    {
        var card = Card(128, 128, 3);
        // the largest buffer a 64x64 tile needs; a 128x128 tile needs about four times as much
        var probe = new LimitedBackend();
        long weightsMax, limit;
        using (var p = new Upscaler(probe, State, new UpscaleOptions { Tile = 64 }))
        {
            weightsMax = probe.LargestRequest;
            p.Upscale(Card(64, 64, 3));
            limit = probe.LargestRequest;
        }
        Assert.That(weightsMax, Is.LessThan(limit), "activations, not weights, set the largest buffer");

        var device = new LimitedBackend(limit);
        var notices = new List<UpscaleProgress>();
        using var auto = new Upscaler(device, State, new UpscaleOptions { Seed = 9, FreeMemory = _ => long.MaxValue / 4 });
        var got = auto.Upscale(card, new SyncProgress<UpscaleProgress>(e => { if (e.Kind == "notice") notices.Add(e); }), default);
        Assert.That(device.Refusals, Is.GreaterThan(0), "the 128 tile was tried and refused");
        Assert.That(auto.LastTileSize, Is.EqualTo(64));
        Assert.That(notices, Has.Count.EqualTo(1));
        Assert.That(notices[0].Message, Does.Contain("128x128").And.Contain("64x64"));

        // the retry is a clean run with 64x64 tiles (overlap half the tile)
        using var reference = new Upscaler(new CpuBackend(), State, new UpscaleOptions { Seed = 9, Tile = 64, TileOverlap = 32 });
        Assert.That(got.Data, Is.EqualTo(reference.Upscale(card).Data));

        // the next image starts at the size that worked
        int refusals = device.Refusals;
        notices.Clear();
        auto.Upscale(card, new SyncProgress<UpscaleProgress>(e => { if (e.Kind == "notice") notices.Add(e); }), default);
        Assert.That((device.Refusals, notices.Count), Is.EqualTo((refusals, 0)));

        // an explicit tile is used as given: the error reaches the caller
        using var explicitTile = new Upscaler(new LimitedBackend(limit), State, new UpscaleOptions { Tile = 128 });
        Assert.Throws<DeviceOutOfMemoryException>(() => explicitTile.Upscale(card));

        // nothing fits: one error that says so
        using var tiny = new Upscaler(new LimitedBackend(weightsMax), State, new UpscaleOptions { FreeMemory = _ => long.MaxValue / 4 });
        var e = Assert.Throws<InsufficientMemoryException>(() => tiny.Upscale(card));
        Assert.That(e!.Message, Does.Contain("even with 64x64 tiles"));
    }

    [Test]
    public void AutoTileFitsTheMeasuredMemoryPerPixelIntoFreeMemory()
    {
        var card = Card(128, 128, 3);
        using var big = new Upscaler(new CpuBackend(), State, new UpscaleOptions { FreeMemory = _ => long.MaxValue / 4, MaxAutoTile = 128 });
        big.Upscale(Card(128, 128, 3));
        Assert.That(big.LastTileSize, Is.EqualTo(128), "capped by MaxAutoTile");
        double bpp = big.BytesPerPixel;
        Assert.That(bpp, Is.GreaterThan(0));
        // the per-pixel figure measured on a 64x64 tile predicts the pool's peak in use over a 128x128 tile (what it
        // keeps resident at inference, BufferPool.KeepResidentAtPeak), plus the tile's host arrays
        var pool = big.Context.Pool;
        pool.Trim();
        pool.ResetPeak();
        long before = pool.PeakBytesInUse;
        big.Upscale(Card(128, 128, 3));
        double measured = pool.PeakBytesInUse - before + TileMemoryBudget.TileHostBytesPerPixel(4) * 128 * 128;
        Assert.That(bpp * 128 * 128 / measured, Is.InRange(0.8, 1.25), "linear in the tile's area");

        long fits128 = (long)(bpp * 128 * 128 / 0.8 * 1.01), short128 = (long)(bpp * 128 * 128 / 0.8 * 0.99);
        using (var a = new Upscaler(new CpuBackend(), State, new UpscaleOptions { FreeMemory = _ => fits128 }))
        {
            a.Upscale(card);
            Assert.That(a.LastTileSize, Is.EqualTo(128));
        }
        using (var b = new Upscaler(new CpuBackend(), State, new UpscaleOptions { FreeMemory = _ => short128 }))
        {
            b.Upscale(card);
            Assert.That(b.LastTileSize, Is.EqualTo(64));
        }
        // a memory budget (--max-memory) caps the tile even where the device has plenty free
        using (var c = new Upscaler(new CpuBackend(), State, new UpscaleOptions { FreeMemory = _ => long.MaxValue / 4, MaxMemory = (long)(bpp * 128 * 128 * 0.99) }))
        {
            c.Upscale(card);
            Assert.That(c.LastTileSize, Is.EqualTo(64));
        }
        Assert.That(TileMemoryBudget.Budget(100L << 30, null), Is.EqualTo(TileMemoryBudget.DefaultCap), "capped by default on a machine with much free memory");
    }

    [TestCase(AlphaMode.Model)]
    [TestCase(AlphaMode.Bicubic)]
    public void UniformAlphaIsCarriedAsIs(AlphaMode mode)
    {
        var img = Card(20, 12, 4);
        img.AlphaPlane.Fill(0.6f);
        using var up = new Upscaler(new CpuBackend(), State, new UpscaleOptions { Alpha = mode });
        var o = up.Upscale(img);
        Assert.That(o.Channels, Is.EqualTo(4));
        Assert.That(o.AlphaPlane.ToArray(), Is.All.EqualTo(0.6f));
    }

    [Test]
    public void AlphaModesModelBicubicAndDiscard()
    {
        var img = Card(24, 16, 2);     // grey + a non-uniform alpha
        int p = 96 * 64;
        using var model = new Upscaler(new CpuBackend(), State, new UpscaleOptions { Seed = 1 });
        var o = model.Upscale(img);
        Assert.That((o.Channels, o.Width, o.Height), Is.EqualTo((2, 96, 64)));
        var a = img.AlphaPlane.ToArray();
        var a3 = model.UpscaleRgb([.. a, .. a, .. a], 16, 24);
        for (int i = 0; i < p; i++) Assert.That(o.AlphaPlane[i], Is.EqualTo((a3[i] + a3[p + i] + a3[2 * p + i]) / 3f), "alpha is the model's grey result");

        using var bicubic = new Upscaler(new CpuBackend(), State, new UpscaleOptions { Seed = 1, Alpha = AlphaMode.Bicubic });
        var b = bicubic.Upscale(img);
        var expect = Resize.Apply(a, 1, 16, 24, 64, 96, ResizeMode.Bicubic).Select(v => Math.Clamp(v, 0f, 1f)).ToArray();
        Assert.That(b.AlphaPlane.ToArray(), Is.EqualTo(expect));
        Assert.That(b.Plane(0).ToArray(), Is.EqualTo(o.Plane(0).ToArray()), "the colour planes do not depend on the alpha mode");

        using var discard = new Upscaler(new CpuBackend(), State, new UpscaleOptions { Seed = 1, Alpha = AlphaMode.Discard });
        var d = discard.Upscale(Card(24, 16, 4));
        Assert.That(d.Channels, Is.EqualTo(3));
    }

    [TestCase(ColorFixMode.AdaIn)]
    [TestCase(ColorFixMode.Wavelet)]
    public void ColorFixUsesTheBicubicInputAsReference(ColorFixMode mode)
    {
        var img = Card(32, 24, 3);
        using var plain = new Upscaler(new CpuBackend(), State, new UpscaleOptions { Seed = 4 });
        using var fixedUp = new Upscaler(new CpuBackend(), State, new UpscaleOptions { Seed = 4, ColorFix = mode });
        var sr = plain.Upscale(img).Data;
        var reference = Resize.Apply(img.Data, 3, 24, 32, 96, 128, ResizeMode.Bicubic);
        var expect = ColorFix.Apply(mode, sr, reference, 3, 96, 128);
        var got = fixedUp.Upscale(img).Data;
        Assert.That(got, Is.EqualTo(expect));
        Assert.That(got, Is.Not.EqualTo(sr));
    }

    [Test]
    public void BadOptionsAreRefusedWithTheFix()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => new Upscaler(new CpuBackend(), State, new UpscaleOptions { Tile = 100 }))!.Message, Does.Contain("multiple of 64"));
        Assert.That(Assert.Throws<ArgumentException>(() => new Upscaler(new CpuBackend(), State, new UpscaleOptions { Tile = 64, TileOverlap = 64 }))!.Message, Does.Contain("smaller than the tile"));
        Assert.That(Assert.Throws<ArgumentException>(() => new Upscaler(new CpuBackend(), State, new UpscaleOptions { Steps = 0 }))!.Message, Does.Contain("--steps"));
    }
}
