using Ctmsr.Autograd;
using Ctmsr.Model.Checkpoints;

namespace Ctmsr.Model.Perceptual;

/// <summary>
/// Builds <see cref="Resnet18"/> from an ONNX ResNet18 graph (the CNTK export in NuGet
/// Microsoft.ML.DnnImageFeaturizer.ResNet18, tools/DnnImageModels/ResNet18Onnx/ResNet18.onnx, or a torchvision
/// export): follows the data flow from the graph input through the stem (Conv, BatchNormalization, Relu, MaxPool)
/// and the eight basic blocks (Conv, BN, Relu, Conv, BN, Add with the identity or a 1x1 Conv + BN projection, Relu),
/// checks every shape and attribute against ResNet18, and folds each BatchNorm into its convolution in float64.
/// </summary>
public static class Resnet18Onnx
{
    /// <summary>The ResNet18 in <paramref name="path"/>, with the input mapping of the CNTK model unless told otherwise.</summary>
    public static Resnet18 Load(Context ctx, string path, InputMapping? input = null) => Build(ctx, OnnxModel.Load(path), input);

    public static Resnet18 Build(Context ctx, OnnxModel m, InputMapping? input = null)
    {
        var graphInput = m.Inputs.FirstOrDefault(i => !m.Initializers.ContainsKey(i.Name))
                         ?? throw Bad(m, "has no image input");
        string t = graphInput.Name;

        var (stemConv, stemBn) = ConvBn(m, Only(m, t, "Conv"));
        var relu = Only(m, stemBn.Outputs[0], "Relu");
        var pool = Only(m, relu.Outputs[0], "MaxPool");
        var pk = pool.Ints("kernel_shape"); var ps = pool.Ints("strides");
        if (pk.Count != 2 || pk[0] != 3 || pk[1] != 3 || ps.Count != 2 || ps[0] != 2 || ps[1] != 2)
            throw Bad(m, $"has a stem max pool of kernel [{string.Join(", ", pk)}] stride [{string.Join(", ", ps)}], ResNet18's is 3x3 stride 2");
        t = pool.Outputs[0];

        // walk the blocks until the data flow leaves them (global pooling or the graph output); a block with a
        // projection shortcut starts a new layer
        var blocks = new List<BlockNodes>();
        while (true)
        {
            var convs = m.Consumers(t).Where(n => n.OpType == "Conv").ToList();
            if (convs.Count == 0) break;
            string where = $"block {blocks.Count + 1}";
            var main = convs.Where(c => KernelOf(m, c) == 3).ToList();
            var proj = convs.Where(c => KernelOf(m, c) == 1).ToList();
            if (main.Count != 1 || proj.Count > 1 || convs.Count != main.Count + proj.Count)
                throw Bad(m, $"does not have a ResNet basic block ({where}): after '{t}' come {convs.Count} convolutions ({string.Join(", ", convs.Select(c => c.Name))})");
            var (c1, bn1) = ConvBn(m, main[0]);
            var r1 = Only(m, bn1.Outputs[0], "Relu");
            var (c2, bn2) = ConvBn(m, Only(m, r1.Outputs[0], "Conv"));
            (OnnxNode, OnnxNode)? ds = proj.Count == 1 ? ConvBn(m, proj[0]) : null;
            string shortcut = ds is { } d ? d.Item2.Outputs[0] : t;
            var add = Only(m, bn2.Outputs[0], "Add");
            if (add.Inputs.Count != 2 || !add.Inputs.Contains(shortcut))
                throw Bad(m, $"does not add {where}'s shortcut ('{shortcut}') to its residual: Add '{add.Name}' reads {string.Join(", ", add.Inputs)}");
            blocks.Add(new BlockNodes(c1, bn1, c2, bn2, ds));
            t = Only(m, add.Outputs[0], "Relu").Outputs[0];
            if (blocks.Count > 64) throw Bad(m, "has more than 64 residual blocks");
        }
        var perLayer = new List<int>();
        for (int i = 0; i < blocks.Count; i++)
        {
            if (i == 0 || blocks[i].Downsample is not null) perLayer.Add(0);
            perLayer[^1]++;
        }
        if (perLayer.Count != 4 || blocks[0].Downsample is not null)
            throw Bad(m, $"has {blocks.Count} residual blocks in {perLayer.Count} layers ([{string.Join(", ", perLayer)}]); a ResNet18 has 4 layers, the first without a projection");

        var net = new Resnet18(ctx, perLayer.ToArray()) { Input = input ?? InputMapping.CntkImageNet };
        Load(m, stemConv, stemBn, net.Stem);
        (net.PoolPadBegin, net.PoolPadEnd) = Pads(m, pool, 3);
        int k = 0;
        foreach (var layer in net.Layers)
            foreach (var block in layer)
            {
                var bn = blocks[k++];
                Load(m, bn.Conv1, bn.Bn1, block.Conv1);
                Load(m, bn.Conv2, bn.Bn2, block.Conv2);
                if (block.Downsample is not null && bn.Downsample is { } d) Load(m, d.Item1, d.Item2, block.Downsample);
            }
        return net;
    }

    sealed record BlockNodes(OnnxNode Conv1, OnnxNode Bn1, OnnxNode Conv2, OnnxNode Bn2, (OnnxNode, OnnxNode)? Downsample);

    static OnnxFormatException Bad(OnnxModel m, string what) =>
        new($"{m.Path} {what}; it is not a ResNet18 this importer maps (use ResNet18.onnx from NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18)");

    /// <summary>The one node of type <paramref name="op"/> that reads <paramref name="value"/>.</summary>
    static OnnxNode Only(OnnxModel m, string value, string op)
    {
        var found = m.Consumers(value).Where(n => n.OpType == op).ToList();
        if (found.Count != 1)
            throw Bad(m, $"has {found.Count} {op} nodes reading '{value}' where ResNet18 has one (readers: {string.Join(", ", m.Consumers(value).Select(n => n.OpType))})");
        return found[0];
    }

    static long KernelOf(OnnxModel m, OnnxNode conv) =>
        conv.Inputs.Count > 1 && m.Initializers.TryGetValue(conv.Inputs[1], out var w) && w.Shape.Length == 4 ? w.Shape[3] : -1;

    static (OnnxNode Conv, OnnxNode Bn) ConvBn(OnnxModel m, OnnxNode conv) => (conv, Only(m, conv.Outputs[0], "BatchNormalization"));

    /// <summary>ONNX pads [top, left, bottom, right] as (begin, end); rows and columns must agree (our kernels are square).</summary>
    static (int Begin, int End) Pads(OnnxModel m, OnnxNode n, int k)
    {
        string autoPad = n.Text("auto_pad") ?? "NOTSET";
        if (autoPad != "NOTSET") throw Bad(m, $"pads node '{n.Name}' with auto_pad {autoPad}, which the importer does not map");
        var p = n.Ints("pads");
        if (p.Count == 0) return (0, 0);
        if (p.Count != 4 || p[0] != p[1] || p[2] != p[3] || p[0] < 0 || p[2] < 0 || p[0] >= k || p[2] >= k)
            throw Bad(m, $"pads node '{n.Name}' by [{string.Join(", ", p)}]; the importer needs the same padding on rows and columns");
        return ((int)p[0], (int)p[2]);
    }

    /// <summary>Checks a Conv + BatchNormalization pair against <paramref name="dst"/>'s geometry and loads the folded weights.</summary>
    static void Load(OnnxModel m, OnnxNode conv, OnnxNode bn, FoldedConv dst)
    {
        var w = m.Initializer(conv.Inputs[1]);
        if (!w.Shape.SequenceEqual(dst.Weight.Shape))
            throw Bad(m, $"has convolution '{conv.Name}' of weight [{string.Join(", ", w.Shape)}] where ResNet18 has [{string.Join(", ", dst.Weight.Shape)}]");
        var st = conv.Ints("strides");
        if (st.Any(s => s != dst.Stride) || conv.Int("group", 1) != 1 || conv.Ints("dilations").Any(d => d != 1))
            throw Bad(m, $"has convolution '{conv.Name}' with strides [{string.Join(", ", st)}], group {conv.Int("group", 1)}, dilations [{string.Join(", ", conv.Ints("dilations"))}]; ResNet18 there has stride {dst.Stride}, group 1, dilation 1");
        (dst.PadBegin, dst.PadEnd) = Pads(m, conv, dst.K);
        if (bn.Inputs.Count != 5) throw Bad(m, $"has BatchNormalization '{bn.Name}' with {bn.Inputs.Count} inputs (expects x, scale, bias, mean, var)");
        int cout = dst.Weight[0];
        double[] gamma = Vec(m, bn.Inputs[1], cout), beta = Vec(m, bn.Inputs[2], cout), mean = Vec(m, bn.Inputs[3], cout), var = Vec(m, bn.Inputs[4], cout);
        double[] bias0 = conv.Inputs.Count > 2 && conv.Inputs[2].Length > 0 ? Vec(m, conv.Inputs[2], cout) : new double[cout];
        double eps = bn.Float("epsilon", 1e-5f);
        var wv = w.ToDoubles();
        int per = wv.Length / cout;
        var wf = new float[wv.Length];
        var bf = new float[cout];
        for (int o = 0; o < cout; o++)
        {
            if (var[o] + eps <= 0) throw Bad(m, $"has BatchNormalization '{bn.Name}' with variance {var[o]} (channel {o})");
            double s = gamma[o] / Math.Sqrt(var[o] + eps);
            for (int i = 0; i < per; i++) wf[o * per + i] = (float)(wv[o * per + i] * s);
            bf[o] = (float)((bias0[o] - mean[o]) * s + beta[o]);
        }
        dst.Weight.CopyFrom(wf);
        dst.Bias.CopyFrom(bf);
    }

    static double[] Vec(OnnxModel m, string name, int n)
    {
        var t = m.Initializer(name);
        if (t.Count != n) throw Bad(m, $"has '{name}' of {t.Count} values where {n} are expected");
        return t.ToDoubles();
    }
}
