namespace Ctmsr.Model.Lpips;

/// <summary>The ImageNet feature extractor under LPIPS: VGG16 (the training loss) or AlexNet (the metric).</summary>
public enum LpipsBackbone { Vgg16, Alex }

/// <summary>One convolution of torchvision's <c>features</c> Sequential, followed by a ReLU.</summary>
public readonly record struct LpipsConv(int Index, int Cin, int Cout, int K, int Stride, int Pad)
{
    public string WeightKey => $"features.{Index}.weight";
    public string BiasKey => $"features.{Index}.bias";
}

/// <summary>A stage: an optional max pool (k, stride) first, then conv+ReLU layers; LPIPS taps the last ReLU.</summary>
public sealed record LpipsStage(int PoolK, int PoolStride, LpipsConv[] Convs)
{
    public int Channels => Convs[^1].Cout;
}

/// <summary>The torchvision layouts (vgg16 features 0..29, alexnet features 0..11) split at LPIPS's taps.</summary>
public static class LpipsLayout
{
    public static IReadOnlyList<LpipsStage> Stages(LpipsBackbone b) => b switch
    {
        LpipsBackbone.Vgg16 =>
        [
            new(0, 0, [new(0, 3, 64, 3, 1, 1), new(2, 64, 64, 3, 1, 1)]),
            new(2, 2, [new(5, 64, 128, 3, 1, 1), new(7, 128, 128, 3, 1, 1)]),
            new(2, 2, [new(10, 128, 256, 3, 1, 1), new(12, 256, 256, 3, 1, 1), new(14, 256, 256, 3, 1, 1)]),
            new(2, 2, [new(17, 256, 512, 3, 1, 1), new(19, 512, 512, 3, 1, 1), new(21, 512, 512, 3, 1, 1)]),
            new(2, 2, [new(24, 512, 512, 3, 1, 1), new(26, 512, 512, 3, 1, 1), new(28, 512, 512, 3, 1, 1)]),
        ],
        LpipsBackbone.Alex =>
        [
            new(0, 0, [new(0, 3, 64, 11, 4, 2)]),
            new(3, 2, [new(3, 64, 192, 5, 1, 2)]),
            new(3, 2, [new(6, 192, 384, 3, 1, 1)]),
            new(0, 0, [new(8, 384, 256, 3, 1, 1)]),
            new(0, 0, [new(10, 256, 256, 3, 1, 1)]),
        ],
        _ => throw new ArgumentOutOfRangeException(nameof(b)),
    };

    /// <summary>Every convolution in forward order (the order the fixture's weight formula numbers them).</summary>
    public static IEnumerable<LpipsConv> Convs(LpipsBackbone b) => Stages(b).SelectMany(s => s.Convs);

    /// <summary>The smallest input side the backbone accepts (every stage keeps at least one pixel).</summary>
    public static int MinSide(LpipsBackbone b) => b == LpipsBackbone.Vgg16 ? 16 : 31;
}
