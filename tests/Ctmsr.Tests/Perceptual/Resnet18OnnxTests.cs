using Ctmsr.Autograd;
using Ctmsr.Imaging;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Model.Checkpoints;
using Ctmsr.Model.Perceptual;
using Ctmsr.Model.Verification;
using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;

namespace Ctmsr.Tests.Perceptual;

/// <summary>
/// The ONNX importer and ResNet18 built from our layers against ONNX Runtime 1.31.1 running the same file, on real
/// images; the importer's values against an independent reading of the file (a Python wire-format dump).
/// </summary>
public class Resnet18OnnxTests
{
    [Test]
    public void ImporterReadsTheCntkResnet18Graph()
    {
        var m = OnnxModel.Load(Resnet18Files.Model);
        Assert.Multiple(() =>
        {
            Assert.That(m.Producer, Is.EqualTo("CNTK"));
            Assert.That(m.IrVersion, Is.EqualTo(3));
            Assert.That(m.Opset, Is.EqualTo(8));
            Assert.That(m.Nodes, Has.Count.EqualTo(74));
            Assert.That(m.Initializers, Has.Count.EqualTo(110));
            Assert.That(m.Inputs.Single().Name, Is.EqualTo("Input247"));
            Assert.That(m.Inputs.Single().Dims, Is.EqualTo(new long[] { 1, 3, 224, 224 }));
            Assert.That(m.Outputs.Single().Dims, Is.EqualTo(new long[] { 1, 512, 1, 1 }));
            Assert.That(m.Nodes.Count(n => n.OpType == "Conv"), Is.EqualTo(22), "CNTK's ResNet18 has three blocks in its last layer");
            Assert.That(m.Nodes[0].Ints("pads"), Is.EqualTo(new long[] { 3, 3, 2, 2 }));
            Assert.That(m.Nodes[1].Float("epsilon", 0), Is.EqualTo(1e-5f).Within(1e-9f));
        });
        // values from an independent protobuf dump of the same file
        var w = m.Initializer("Parameter91");
        Assert.That(w.Shape, Is.EqualTo(new[] { 64, 3, 7, 7 }));
        var wv = w.ToFloats();
        Assert.That(new[] { wv[0], wv[1], wv[2], wv[^1] }, Is.EqualTo(new[] { -0.020473213866353035f, -0.011778326705098152f, -0.004239605739712715f, -0.005815543700009584f }));
        var c = m.Initializer("Constant420").ToFloats();
        Assert.That(new[] { c[0], c[1], c[2], c[^1] }, Is.EqualTo(new[] { 0.0975208729505539f, 0.08602294325828552f, 0.11369956284761429f, 0.09949582815170288f }));
    }

    [Test]
    public void CntkInputMappingUsesTheMeanImageChannelAverages()
    {
        var prep = OnnxModel.Load(Resnet18Files.Preprocess);
        Assert.That(prep.Nodes.Select(n => n.OpType), Is.EqualTo(new[] { "Split", "Concat", "Sub" }));
        var mean = prep.Initializer("MeanImage").ToDoubles();
        int plane = 224 * 224;
        var map = InputMapping.CntkImageNet;
        for (int c = 0; c < 3; c++)
        {
            double avg = mean.Skip(c * plane).Take(plane).Average();
            // an RGB value of -1 (x01 = 0) maps to -mean of that BGR channel; +1 to 255 - mean
            Assert.That(-map.Offset[c] + map.Scale[c], Is.EqualTo(avg).Within(1e-3), $"channel {c} mean");
            Assert.That(2 * map.Scale[c], Is.EqualTo(255.0).Within(1e-4), $"channel {c} range");
        }
        Assert.That(map.Source, Is.EqualTo(new[] { 2, 1, 0 }), "BGR from RGB");
    }

    static readonly string[] Images = ["Bicubicx4/gt/ILSVRC2012_val_00000067.png", "Bicubicx4/gt/ILSVRC2012_val_00000251.png", "ValSR/gt/ILSVRC2012_val_00000073.png"];

    /// <summary>A 224x224 centre crop of a real image, RGB 0..255, planar.</summary>
    static float[] Crop224(string relative)
    {
        var img = ImageCodec.Decode(SharedData.Path_(Path.Combine("data", relative)));
        Assume.That(img.Width >= 224 && img.Height >= 224 && img.Channels >= 3, $"{relative} is {img.Width}x{img.Height}x{img.Channels}");
        int x0 = (img.Width - 224) / 2, y0 = (img.Height - 224) / 2;
        var r = new float[3 * 224 * 224];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 224; y++)
                for (int x = 0; x < 224; x++)
                    r[(c * 224 + y) * 224 + x] = MathF.Round(img.Data[((long)c * img.Height + y0 + y) * img.Width + x0 + x] * 255f);
        return r;
    }

    static float[] RunOrt(InferenceSession s, float[] input)
    {
        var t = new DenseTensor(input, [1, 3, 224, 224]);
        using var res = s.Run([NamedOnnxValue.CreateFromTensor(s.InputMetadata.Keys.Single(), t)]);
        return res.Single().AsEnumerable<float>().ToArray();
    }

    [Test]
    public void Resnet18MatchesOnnxRuntimeOnRealImages()
    {
        var so = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var prep = new InferenceSession(Resnet18Files.Preprocess, so);
        using var ort = new InferenceSession(Resnet18Files.Model, so);
        using var ctx = new Context(new CpuBackend());
        var net = Resnet18Onnx.Load(ctx, Resnet18Files.Model);
        Assert.That(net.Blocks, Is.EqualTo(new[] { 2, 2, 2, 3 }));
        Assert.That((net.Stem.PadBegin, net.Stem.PadEnd, net.PoolPadBegin, net.PoolPadEnd), Is.EqualTo((3, 2, 1, 0)), "the CNTK export's asymmetric padding");
        foreach (var rel in Images)
        {
            var pre = RunOrt(prep, Crop224(rel));
            var want = RunOrt(ort, pre);
            using var scope = Tape.Scope();
            using var x = Tensor.From(ctx, pre, 1, 3, 224, 224);
            var feats = net.Features(x);
            Assert.That(feats.Select(f => f.Shape), Is.EqualTo(new[] { new[] { 1, 64, 112, 112 }, [1, 64, 56, 56], [1, 128, 28, 28], [1, 256, 14, 14], [1, 512, 7, 7] }));
            var l4 = feats[^1].ToArray();
            var got = new float[512];
            for (int c = 0; c < 512; c++) got[c] = (float)l4.Skip(c * 49).Take(49).Select(v => (double)v).Average();
            double rel2 = FixtureVerifier.RelL2(got, want);
            TestContext.Out.WriteLine($"{rel}: pooled layer4 rel L2 vs ONNX Runtime {rel2:E2} (|ref| mean {want.Average(MathF.Abs):F4})");
            Assert.That(rel2, Is.LessThan(1e-4), rel);
        }
    }
}
