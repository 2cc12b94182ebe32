using Ctmsr.Autograd;
using Ctmsr.Kernels;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Model.Network;
using Ctmsr.Benchmarking;

namespace Ctmsr.Tests.Bench;

/// <summary>The bench's analytic FLOP counts against closed forms and an independent count of the twin.</summary>
public sealed class FlopCountTests
{
    [Test]
    public void KernelFormulasMatchClosedForms()
    {
        Assert.That(FlopCount.Gemm(3, 5, 7), Is.EqualTo(2.0 * 3 * 5 * 7));
        // a conv is the GEMM of its im2col: [Cout] x [Cin K K] x [N OH OW]
        var s = new ConvShape(2, 3, 10, 12, 4, 3, 1, 1);
        Assert.That(FlopCount.Conv(s), Is.EqualTo(FlopCount.Gemm(4, 2L * 10 * 12, 3 * 9)));
        Assert.That(FlopCount.Conv(s), Is.EqualTo(s.Flops));
        var strided = new ConvShape(1, 3, 224, 224, 64, 11, 4, 2); // 55x55 output
        Assert.That(FlopCount.Conv(strided), Is.EqualTo(2.0 * 64 * 55 * 55 * 3 * 121));
        // attention: per window and head q k^T [T,d]x[d,T] and P v [T,T]x[T,d]
        Assert.That(FlopCount.AttentionForward(5, 8, 6, 32), Is.EqualTo(5 * 6 * (FlopCount.Gemm(64, 64, 32) + FlopCount.Gemm(64, 32, 64))));
        Assert.That(FlopCount.AttentionBackward(5, 8, 6, 32), Is.EqualTo(2 * FlopCount.AttentionForward(5, 8, 6, 32)));
        Assert.That(FlopCount.GroupNormForwardBytes(1000), Is.EqualTo(8000));
        Assert.That(FlopCount.GroupNormBackwardBytes(1000), Is.EqualTo(12000));
    }

    /// <summary>The walk visits exactly the network's conv and linear weights (every one, once, with its shape).</summary>
    [TestCase("small")]
    [TestCase("irregular")]
    public void ModelCostVisitsEveryConvAndLinearWeight(string which)
    {
        var cfg = which == "small" ? CtmsrConfig.Small : new CtmsrConfig { ModelChannels = 32, ChannelMult = [1, 3, 2], NumBlocks = 3, EmbedDim = 64, NumHeads = 4 };
        using var ctx = new Context(new CpuBackend());
        var net = new CtmsrNet(ctx, cfg);
        long weights = net.NamedParameters().Where(p => p.t.Rank >= 2 && !p.name.EndsWith("relative_position_bias_table", StringComparison.Ordinal)).Sum(p => p.t.Count);
        Assert.That(ModelCost.Of(cfg, 1, 64, 64).Weights, Is.EqualTo(weights));
    }

    /// <summary>
    /// Pinned against bench/twin/flops.py, which counts the PyTorch twin's forward with hooks
    /// (2 x weight elements x output positions per Conv2d/Linear, 4 T^2 E per window attention).
    /// </summary>
    [TestCase("x4", 1, 64, 306454560768L)]
    [TestCase("small", 2, 64, 12616843264L)]
    [TestCase("small", 1, 128, 25232334848L)]
    public void ModelCostMatchesTheTwinsHookCount(string config, int batch, int lr, long expected)
    {
        var cfg = config == "x4" ? CtmsrConfig.X4 : CtmsrConfig.Small;
        Assert.That(ModelCost.Of(cfg, batch, lr, lr).Forward, Is.EqualTo((double)expected));
    }

    [Test]
    public void TrainStepIsFourForwardsLessTheInputLayersDataGradients()
    {
        var m = ModelCost.Of(CtmsrConfig.Small, 1, 64, 64);
        var cfg = CtmsrConfig.Small;
        double stem = 2.0 * 64 * 64 * cfg.ModelChannels * (3 * 16 + 3) * 9, map0 = 2.0 * cfg.ModelChannels * cfg.EmbChannels;
        Assert.That(m.InputLayers, Is.EqualTo(stem + map0));
        Assert.That(m.TrainStep, Is.EqualTo(4 * m.Forward - stem - map0));
        Assert.That(ModelCost.Of(cfg, 3, 64, 64).Forward, Is.EqualTo(3 * m.Forward), "linear in the batch");
    }
}
