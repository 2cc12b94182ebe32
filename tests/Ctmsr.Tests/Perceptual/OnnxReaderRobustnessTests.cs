using Ctmsr.Autograd;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Model.Checkpoints;
using Ctmsr.Model.Perceptual;

namespace Ctmsr.Tests.Perceptual;

/// <summary>Bad ONNX files end in one clear exception that names the file, never an out-of-range read or a hang.</summary>
public class OnnxReaderRobustnessTests
{
    string _dir = "";

    [SetUp] public void SetUp() { _dir = Path.Combine(Path.GetTempPath(), "ctmsr-onnx-" + Guid.NewGuid().ToString("N")); Directory.CreateDirectory(_dir); }
    [TearDown] public void TearDown() => Directory.Delete(_dir, true);

    string Write(string name, byte[] bytes) { var p = Path.Combine(_dir, name); File.WriteAllBytes(p, bytes); return p; }

    [Test]
    public void EveryTruncationOfARealFileIsRefusedWithTheFileName()
    {
        var full = File.ReadAllBytes(Resnet18Files.Preprocess);
        // cut inside the header, the graph, the mean image's float data and one byte short of the end
        foreach (int len in new[] { 1, 7, 40, 200, full.Length / 2, full.Length - 1 })
        {
            var p = Write($"cut{len}.onnx", full[..len]);
            var e = Assert.Throws<OnnxFormatException>(() => OnnxModel.Load(p), $"cut at {len}");
            Assert.That(e!.Message, Does.Contain(p), $"cut at {len}");
        }
    }

    [Test]
    public void RandomBytesAreRefused()
    {
        var rng = new Random(11);
        for (int i = 0; i < 50; i++)
        {
            var b = new byte[rng.Next(1, 4000)];
            rng.NextBytes(b);
            var p = Write($"r{i}.onnx", b);
            Assert.That(() => OnnxModel.Load(p), Throws.InstanceOf<OnnxFormatException>(), $"random file {i}");
        }
    }

    [Test]
    public void MissingAndEmptyFilesSayWhat()
    {
        Assert.That(() => OnnxModel.Load(Path.Combine(_dir, "none.onnx")), Throws.InstanceOf<FileNotFoundException>().With.Message.Contains("none.onnx"));
        var empty = Write("empty.onnx", []);
        Assert.That(() => OnnxModel.Load(empty), Throws.InstanceOf<OnnxFormatException>().With.Message.Contains("empty"));
    }

    [Test]
    public void AModelThatIsNotResnet18IsRefusedByTheMapper()
    {
        // the preprocessing graph is a valid ONNX file but no ResNet: the mapper names the file and what it expected
        using var ctx = new Context(new CpuBackend());
        var e = Assert.Throws<OnnxFormatException>(() => Resnet18Onnx.Load(ctx, Resnet18Files.Preprocess));
        Assert.That(e!.Message, Does.Contain("ResNetPreprocess.onnx").And.Contain("ResNet18"));
    }
}
