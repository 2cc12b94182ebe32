using Ctmsr.Autograd;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Kernels.Reference;

namespace Ctmsr.Tests.Autograd;

/// <summary>The generic layers and the registered containers of Ctmsr.Autograd: dotted state-dict names as PyTorch
/// writes them, and the layers' outputs against hand computations.</summary>
public sealed class ModuleContainerTests
{
    sealed class Net : Module
    {
        public Net(Context ctx) : base(ctx)
        {
            var enc = RegisterModule("enc", new ModuleDict(ctx));
            enc.Add("conv", new Conv2d(ctx, 2, 4, 3));
            var blocks = enc.Add("blocks", new ModuleList(ctx));
            blocks.Add(new GroupNorm(ctx, 4, 2));
            blocks.Add(new Linear(ctx, 4, 3, bias: false));
            RegisterModule("head", new Linear(ctx, 3, 1));
        }
    }

    [Test]
    public void NestedContainersNameTheirChildrenAsPyTorchDoes()
    {
        using var ctx = new Context(new CpuBackend());
        var net = new Net(ctx);
        var names = net.StateDict().Select(s => $"{s.name} [{string.Join(",", s.t.Shape)}]").ToList();
        Assert.That(names, Is.EqualTo(new[]
        {
            "enc.conv.weight [4,2,3,3]", "enc.conv.bias [4]", "enc.blocks.0.weight [4]", "enc.blocks.0.bias [4]",
            "enc.blocks.1.weight [3,4]", "head.weight [1,3]", "head.bias [1]",
        }));
        Assert.That(net.ParameterCount, Is.EqualTo(72 + 4 + 4 + 4 + 12 + 3 + 1));
        Assert.That(net.NamedChildren().Select(c => c.Name), Is.EqualTo(new[] { "enc", "head" }));
        var enc = (ModuleDict)net.NamedChildren().First().Module;
        Assert.That(enc.Count, Is.EqualTo(2));
        Assert.That(((ModuleList)enc["blocks"])[1], Is.InstanceOf<Linear>());
        Assert.Throws<KeyNotFoundException>(() => _ = enc["nope"]);
        Assert.Throws<ArgumentException>(() => enc.Add("conv", new Conv2d(ctx, 1, 1, 1)));
    }

    [Test]
    public void Conv2dWithStrideAndPaddingSumsTheWindowsByHand()
    {
        using var ctx = new Context(new ReferenceBackend());
        var conv = new Conv2d(ctx, 1, 1, 3, stride: 2, padding: 1);
        conv.Weight.CopyFrom(Enumerable.Repeat(1f, 9).ToArray());
        conv.Bias!.CopyFrom([0.5f]);
        // x[i, j] = 4i + j on a 4x4 map; output 2x2: windows centred on (0,0), (0,2), (2,0), (2,2), zero padded
        var x = Tensor.From(ctx, Enumerable.Range(0, 16).Select(v => (float)v).ToArray(), 1, 1, 4, 4);
        var y = conv.Forward(x);
        Assert.That(y.Shape, Is.EqualTo(new[] { 1, 1, 2, 2 }));
        float W(int ci, int cj) // the 3x3 sum at (ci, cj) by hand, inside the map only
        {
            float s = 0;
            for (int i = ci - 1; i <= ci + 1; i++) for (int j = cj - 1; j <= cj + 1; j++) if (i is >= 0 and < 4 && j is >= 0 and < 4) s += 4 * i + j;
            return s + 0.5f;
        }
        Assert.That(y.ToArray(), Is.EqualTo(new[] { W(0, 0), W(0, 2), W(2, 0), W(2, 2) }));
        Assert.That(W(0, 0), Is.EqualTo(0 + 1 + 4 + 5 + 0.5f));
    }

    [Test]
    public void LinearWithoutBiasIsTheMatrixProduct()
    {
        using var ctx = new Context(new ReferenceBackend());
        var lin = new Linear(ctx, 2, 3, bias: false);
        Assert.That(lin.Bias, Is.Null);
        lin.Weight.CopyFrom([1, 2, 3, 4, 5, 6]); // rows (1,2), (3,4), (5,6)
        var y = lin.Forward(Tensor.From(ctx, [1f, -1f], 1, 2));
        Assert.That(y.ToArray(), Is.EqualTo(new[] { -1f, -1f, -1f }));
    }
}
