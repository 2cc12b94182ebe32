using Ctmsr.Model.Checkpoints;

namespace Ctmsr.Tests.Checkpoints;

/// <summary>Real checkpoints written by torch.save against the safetensors fixtures made from the same weights.</summary>
public class TorchCheckpointFixtureTests
{
    [Test]
    public void OfficialZip_ParamsEma_EqualsSafetensorsParamsBitForBit()
    {
        var pth = SharedData.Fixture("ctmsr_small_official.pth");
        using var st = SafetensorsFile.Open(SharedData.Fixture("ctmsr_small.safetensors"));
        var expected = st.ReadAll("param.");
        var ema = TorchCheckpoint.LoadStateDict(pth, "params_ema");

        Assert.That(ema.Keys.Order(StringComparer.Ordinal), Is.EqualTo(expected.Keys.Order(StringComparer.Ordinal)));
        foreach (var (k, e) in expected)
        {
            var a = ema[k];
            Assert.That(a.DType, Is.EqualTo(e.DType), k);
            Assert.That(a.Shape, Is.EqualTo(e.Shape), k);
            Assert.That(a.Bytes.AsSpan().SequenceEqual(e.Bytes), Is.True, $"{k}: values differ");
        }
        Assert.That(expected.Values.Count(t => t.DType == DType.I64), Is.GreaterThan(0), "fixture should hold int64 buffers");
    }

    [Test]
    public void OfficialZip_DefaultKeyPicksParamsEma_AndParamsDiffersOnlyInConvLastBias()
    {
        var pth = SharedData.Fixture("ctmsr_small_official.pth");
        var byDefault = TorchCheckpoint.LoadStateDict(pth);
        var ema = TorchCheckpoint.LoadStateDict(pth, "params_ema");
        var plain = TorchCheckpoint.LoadStateDict(pth, "params");
        Assert.That(byDefault.Keys, Is.EqualTo(ema.Keys));
        foreach (var (k, t) in ema) Assert.That(byDefault[k].Bytes.AsSpan().SequenceEqual(t.Bytes), Is.True, k);

        Assert.That(plain.Keys.Order(StringComparer.Ordinal), Is.EqualTo(ema.Keys.Order(StringComparer.Ordinal)));
        var differing = ema.Keys.Where(k => !plain[k].Bytes.AsSpan().SequenceEqual(ema[k].Bytes)).ToList();
        Assert.That(differing, Is.EqualTo(new[] { "model.conv_last.bias" }));
    }

    [Test]
    public void OfficialZip_Load_GivesOrderedTree()
    {
        var root = TorchCheckpoint.Load(SharedData.Fixture("ctmsr_small_official.pth"));
        var top = root as Dictionary<string, object?>;
        Assert.That(top, Is.Not.Null);
        Assert.That(top!.Keys, Is.EqualTo(new[] { "params", "params_ema" }));
        var first = ((Dictionary<string, object?>)top["params"]!).First();
        Assert.That(first.Key, Is.EqualTo("model.map_layer0.weight"), "file order is kept");
        Assert.That(((HostTensor)first.Value!).Shape, Is.EqualTo(new[] { 128, 32 }));
    }

    [TestCase("vgg", new[] { 64, 128, 256, 512, 512 })]
    [TestCase("alex", new[] { 64, 192, 384, 256, 256 })]
    public void LegacyLpipsHeads_MatchOpsFixture(string net, int[] channels)
    {
        var heads = TorchCheckpoint.LoadStateDict(SharedData.Path_($"weights/lpips-v0.1/{net}.pth"));
        Assert.That(heads.Keys, Is.EqualTo(Enumerable.Range(0, 5).Select(k => $"lin{k}.model.1.weight")));
        using var ops = SafetensorsFile.Open(SharedData.Fixture("ops.safetensors"));
        for (int k = 0; k < 5; k++)
        {
            var t = heads[$"lin{k}.model.1.weight"];
            Assert.That(t.DType, Is.EqualTo(DType.F32));
            Assert.That(t.Shape, Is.EqualTo(new[] { 1, channels[k], 1, 1 }));
            var v = t.ToFloats();
            Assert.That(v.All(x => float.IsFinite(x) && x >= 0), Is.True, "LPIPS heads are finite and non-negative");
            var e = ops.Get($"lpips_{net}.lin{k}.model.1.weight");
            Assert.That(e.Shape, Is.EqualTo(t.Shape));
            Assert.That(v, Is.EqualTo(e.ToFloats()), $"lin{k}");
        }
    }
}
