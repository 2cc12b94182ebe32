using Ctmsr.Autograd;

namespace Ctmsr.Model.Perceptual;

/// <summary>A ResNet basic block: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), BatchNorms folded.</summary>
public sealed class BasicBlock : Module
{
    public FoldedConv Conv1 { get; }
    public FoldedConv Conv2 { get; }
    /// <summary>The 1x1 strided projection of the first block of layers 2-4; null where the shortcut is the identity.</summary>
    public FoldedConv? Downsample { get; }

    public BasicBlock(Context ctx, int cin, int cout, int stride) : base(ctx)
    {
        Conv1 = RegisterModule("conv1", new FoldedConv(ctx, cin, cout, 3, stride));
        Conv2 = RegisterModule("conv2", new FoldedConv(ctx, cout, cout, 3, 1));
        if (stride != 1 || cin != cout)
        {
            var ds = new Container(ctx);
            Downsample = ds.RegisterModule("0", new FoldedConv(ctx, cin, cout, 1, stride));
            RegisterModule("downsample", ds);
        }
    }

    public Tensor Forward(Tensor x)
    {
        using var a = Conv1.Forward(x);
        using var ar = F.Relu(a);
        using var b = Conv2.Forward(ar);
        using var sc = Downsample?.Forward(x);
        using var s = F.Add(b, sc ?? x);
        return F.Relu(s);
    }

    /// <summary>A module that only names its children (torchvision's Sequential / ModuleList keys).</summary>
    internal sealed class Container(Context ctx) : Module(ctx)
    {
        public new T RegisterModule<T>(string name, T m) where T : Module => base.RegisterModule(name, m);
    }
}

/// <summary>
/// ResNet18 (He et al. 2016) from our layers, BatchNorm folded, as a fixed feature extractor. State-dict keys follow
/// torchvision (<c>conv1</c>, <c>layer1.0.conv1</c>, <c>layer2.0.downsample.0</c>, ...; each with a folded
/// <c>weight</c> and <c>bias</c>). Its input is what the network was trained on; <see cref="Normalize"/> maps our
/// [-1, 1] RGB images there. The five taps are the stem's ReLU (stride 2) and the outputs of layers 1-4 (strides 4-32).
/// </summary>
public sealed class Resnet18 : Module
{
    public const int Taps = 5;
    public static readonly int[] TapChannels = [64, 64, 128, 256, 512];

    public FoldedConv Stem { get; }
    public BasicBlock[][] Layers { get; }
    public int PoolPadBegin { get; set; } = 1;
    public int PoolPadEnd { get; set; } = 1;
    /// <summary>The input mapping: value = Scale * x_rgb[SourceChannel] + Offset per input channel (see <see cref="Normalize"/>).</summary>
    public InputMapping Input { get; set; } = InputMapping.TorchvisionImageNet;

    /// <summary>Basic blocks per layer: torchvision's ResNet18 has [2, 2, 2, 2]; the CNTK ResNet18 that ML.NET ships has [2, 2, 2, 3].</summary>
    public int[] Blocks { get; }

    public Resnet18(Context ctx, int[]? blocks = null) : base(ctx)
    {
        Blocks = blocks ?? [2, 2, 2, 2];
        if (Blocks.Length != 4 || Blocks.Any(b => b < 1)) throw new ArgumentException($"ResNet has 4 layers of at least one block, got [{string.Join(", ", Blocks)}]");
        Stem = RegisterModule("conv1", new FoldedConv(ctx, 3, 64, 7, 2));
        int[] widths = [64, 128, 256, 512];
        Layers = new BasicBlock[4][];
        int cin = 64;
        for (int l = 0; l < 4; l++)
        {
            var layer = new BasicBlock.Container(ctx);
            Layers[l] = new BasicBlock[Blocks[l]];
            for (int b = 0; b < Blocks[l]; b++)
            {
                Layers[l][b] = layer.RegisterModule(b.ToString(), new BasicBlock(ctx, cin, widths[l], l > 0 && b == 0 ? 2 : 1));
                cin = widths[l];
            }
            RegisterModule($"layer{l + 1}", layer);
        }
        Eval();
    }

    /// <summary>[-1, 1] RGB -> the network's input space, as a 1x1 convolution (a channel permutation, scale and offset).</summary>
    public Tensor Normalize(Tensor rgb)
    {
        if (rgb.Rank != 4 || rgb[1] != 3) throw new ArgumentException($"ResNet18 takes RGB batches [N, 3, H, W], got [{string.Join(", ", rgb.Shape)}]");
        var wv = new float[9];
        var bv = new float[3];
        for (int o = 0; o < 3; o++)
        {
            wv[o * 3 + Input.Source[o]] = Input.Scale[o];
            bv[o] = Input.Offset[o];
        }
        using var w = Tensor.From(Ctx, wv, 3, 3, 1, 1);
        using var b = Tensor.From(Ctx, bv, 3);
        return F.Conv2d(rgb, w, b, 1, 0);
    }

    /// <summary>
    /// The first <paramref name="taps"/> feature maps of x (already in the network's input space): the stem's ReLU,
    /// then layers 1, 2, ... Fewer taps stop the network early (the deeper layers are not computed).
    /// </summary>
    public List<Tensor> Features(Tensor x, int taps = Taps)
    {
        if (taps is < 1 or > Taps) throw new ArgumentOutOfRangeException(nameof(taps), $"ResNet18 has {Taps} taps, asked for {taps}");
        var outs = new List<Tensor>(taps);
        using (var z = Stem.Forward(x)) outs.Add(F.Relu(z));
        if (taps == 1) return outs;
        var h = Padding.MaxPool(outs[0], 3, 2, PoolPadBegin, PoolPadEnd);
        bool hIsTap = false; // a tap belongs to the caller: the walk must not dispose it
        for (int l = 0; l < taps - 1; l++)
        {
            foreach (var block in Layers[l])
            {
                var next = block.Forward(h);
                if (!hIsTap) h.Dispose();
                h = next; hIsTap = false;
            }
            outs.Add(h); hIsTap = true;
        }
        return outs;
    }
}

/// <summary>Per input channel o of the network: value = Scale[o] * rgb[Source[o]] + Offset[o], rgb in [-1, 1].</summary>
public sealed record InputMapping(int[] Source, float[] Scale, float[] Offset)
{
    /// <summary>torchvision's ImageNet normalisation: (x01 - mean) / std, RGB order.</summary>
    public static InputMapping TorchvisionImageNet { get; } = FromMeanStd([0, 1, 2], 1f, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    /// <summary>
    /// The CNTK ImageNet ResNet18 that ML.NET ships (Microsoft.ML.DnnImageFeaturizer.ResNet18): BGR in 0..255 minus a
    /// 224x224 mean image (ResNetPreprocess.onnx). Any image size is used here, so each channel takes the mean image's
    /// channel average (B 103.062624, G 115.902882, R 123.151631; the image varies by about +-10 around them).
    /// </summary>
    public static InputMapping CntkImageNet { get; } = FromMeanStd([2, 1, 0], 255f, [103.062624f, 115.902882f, 123.151631f], [1f, 1f, 1f]);

    /// <summary>Channels <paramref name="source"/> of x01 * <paramref name="range"/>, minus <paramref name="mean"/>, divided by <paramref name="std"/>.</summary>
    public static InputMapping FromMeanStd(int[] source, float range, float[] mean, float[] std)
    {
        var scale = new float[3]; var offset = new float[3];
        for (int o = 0; o < 3; o++)
        {
            // x01 = (x + 1) / 2  =>  value = (range (x + 1) / 2 - mean) / std
            scale[o] = (float)(range / 2.0 / std[o]);
            offset[o] = (float)((range / 2.0 - mean[o]) / std[o]);
        }
        return new InputMapping(source, scale, offset);
    }
}
