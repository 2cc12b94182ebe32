using Ctmsr.Kernels;
using Ctmsr.Model.Checkpoints;

namespace Ctmsr.Tests.Checkpoints;

public class SafetensorsTests
{
    string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("ctmsr-st-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    static Dictionary<string, HostTensor> Sample()
    {
        var halves = new[] { (Half)0.5, (Half)(-3), (Half)65504, Half.Epsilon };
        var hb = new byte[8];
        for (int i = 0; i < 4; i++) BitConverter.TryWriteBytes(hb.AsSpan(2 * i), BitConverter.HalfToUInt16Bits(halves[i]));
        return new()
        {
            ["b.f32"] = HostTensor.FromFloats([1f, -2.5f, float.MaxValue, float.Epsilon, 0f, -0f], 2, 3),
            ["a.f16"] = new HostTensor(DType.F16, [4], hb),
            ["c.i64"] = HostTensor.FromLongs([long.MinValue, 0, 42], 3),
            ["d.scalar"] = HostTensor.FromFloats([7f]),
        };
    }

    [Test]
    public void RoundTrip_KeepsDtypesShapesValuesAndMetadata()
    {
        var path = Path.Combine(_dir, "rt.safetensors");
        var meta = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode \"quoted\"" };
        SafetensorsFile.Write(path, Sample(), meta);

        // Header as the format specifies it: 8-byte little-endian length, JSON, then data.
        var raw = File.ReadAllBytes(path);
        long hlen = BitConverter.ToInt64(raw, 0);
        Assert.That(8 + hlen, Is.LessThanOrEqualTo(raw.Length));
        Assert.That(raw.Length - 8 - hlen, Is.EqualTo(6 * 4 + 4 * 2 + 3 * 8 + 4));

        using var f = SafetensorsFile.Open(path);
        Assert.That(f.Metadata, Is.EquivalentTo(meta));
        Assert.That(f.Names.Order(), Is.EqualTo(Sample().Keys.Order()));
        foreach (var (k, t) in Sample())
        {
            var r = f.Get(k);
            Assert.That(r.DType, Is.EqualTo(t.DType), k);
            Assert.That(r.Shape, Is.EqualTo(t.Shape), k);
            Assert.That(r.Bytes, Is.EqualTo(t.Bytes), k);
        }
        Assert.That(f.Get("c.i64").ToLongs(), Is.EqualTo(new[] { long.MinValue, 0, 42 }));
        Assert.That(f.Get("a.f16").ToFloats(), Is.EqualTo(new[] { 0.5f, -3f, 65504f, (float)Half.Epsilon }));
    }

    [Test]
    public void AtomicWrite_LeavesOnlyTheTarget_AndReplacesAnOldFile()
    {
        var path = Path.Combine(_dir, "w.safetensors");
        File.WriteAllText(path, "old contents");
        SafetensorsFile.Write(path, Sample());
        Assert.That(Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName), Is.EqualTo(new[] { "w.safetensors" }));
        using var f = SafetensorsFile.Open(path);
        Assert.That(f.Get("b.f32").ToFloats()[1], Is.EqualTo(-2.5f));
    }

    [Test]
    public void FailedWrite_LeavesNoTempFileAndKeepsTheOld()
    {
        var path = Path.Combine(_dir, "keep.safetensors");
        File.WriteAllText(path, "old");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s => { s.WriteByte(1); throw new InvalidOperationException("boom"); }));
        Assert.That(Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName), Is.EqualTo(new[] { "keep.safetensors" }));
        Assert.That(File.ReadAllText(path), Is.EqualTo("old"));
    }

    [Test]
    public void TruncatedFile_IsInvalidData()
    {
        var path = Path.Combine(_dir, "full.safetensors");
        SafetensorsFile.Write(path, Sample());
        var full = File.ReadAllBytes(path);
        long hlen = BitConverter.ToInt64(full, 0);
        var cut = Path.Combine(_dir, "cut.safetensors");
        foreach (int n in new[] { 0, 4, 8, 20, (int)(8 + hlen) - 1, (int)(8 + hlen) + 3, full.Length - 1 })
        {
            File.WriteAllBytes(cut, full[..n]);
            Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(cut).Dispose(), $"cut at {n}");
        }
    }

    /// <summary>A training checkpoint (params., params_ema., optim. groups) read as a model: the EMA group by default, the
    /// asked group with --key, a clear error for a group it does not hold.</summary>
    [Test]
    public void TrainingCheckpointGroupsAreSelectedByKey()
    {
        var path = Path.Combine(_dir, "ckpt.safetensors");
        SafetensorsFile.Write(path, new Dictionary<string, HostTensor>
        {
            ["params.model.w"] = HostTensor.FromFloats([1f, 2f], 2),
            ["params_ema.model.w"] = HostTensor.FromFloats([3f, 4f], 2),
            ["optim.model.w.m"] = HostTensor.FromFloats([5f, 6f], 2),
        });
        var ema = CheckpointFiles.LoadStateDict(path);
        Assert.That(ema.Keys, Is.EquivalentTo(new[] { "model.w" }));
        Assert.That(ema["model.w"].ToFloats(), Is.EqualTo(new[] { 3f, 4f }));
        Assert.That(CheckpointFiles.LoadStateDict(path, "params")["model.w"].ToFloats(), Is.EqualTo(new[] { 1f, 2f }));
        var e = Assert.Throws<InvalidDataException>(() => CheckpointFiles.LoadStateDict(path, "state_dict"));
        Assert.That(e!.Message, Does.Contain("state_dict").And.Contain("--key params"));
        // a plain model file is read whole whatever the default key
        var model = Path.Combine(_dir, "model.safetensors");
        SafetensorsFile.Write(model, new Dictionary<string, HostTensor> { ["model.w"] = HostTensor.FromFloats([7f], 1) });
        Assert.That(CheckpointFiles.LoadStateDict(model, "params_ema").Keys, Is.EquivalentTo(new[] { "model.w" }));
    }

    /// <summary>`ctmsr convert` of a training checkpoint keeps the network's configuration and iteration (without them a
    /// tiny model reads as the x4 default) and drops the training state.</summary>
    [Test]
    public void ConvertKeepsTheModelConfigurationOfATrainingCheckpoint()
    {
        var ckpt = Path.Combine(_dir, "ckpt_00000250.safetensors");
        var meta = Ctmsr.Model.Network.CtmsrConfig.Tiny.ToMetadata();
        meta["format"] = "ctmsr-train"; meta["iteration"] = "250"; meta["adam_step"] = "250"; meta["stage"] = "ct";
        SafetensorsFile.Write(ckpt, new Dictionary<string, HostTensor>
        {
            ["params.model.w"] = HostTensor.FromFloats([1f, 2f], 2),
            ["params_ema.model.w"] = HostTensor.FromFloats([3f, 4f], 2),
        }, meta);
        var outp = Path.Combine(_dir, "model.safetensors");
        Assert.That(Ctmsr.Cli.Verbs.ConvertVerb.Create().Parse([ckpt, outp]).Invoke(), Is.Zero);
        using var f = SafetensorsFile.Open(outp);
        Assert.That(Ctmsr.Model.Network.CtmsrConfig.FromMetadata(f.Metadata).ChannelMult, Is.EqualTo(new[] { 1, 2 }));
        Assert.That(f.Metadata["model_channels"], Is.EqualTo("32"));
        Assert.That(f.Metadata["iteration"], Is.EqualTo("250"));
        Assert.That(f.Metadata["format"], Is.EqualTo("ctmsr"));
        Assert.That(f.Metadata.ContainsKey("adam_step") || f.Metadata.ContainsKey("stage"), Is.False);
        Assert.That(f.Floats("model.w"), Is.EqualTo(new[] { 3f, 4f }));
    }

    /// <summary>`ctmsr convert A OUT --blend B --alpha 0.25`: 0.75 A + 0.25 B tensor by tensor (values worked by hand),
    /// index tables copied, the configuration kept; mismatched models and a lone --alpha are refused with the cause.</summary>
    [Test]
    public void ConvertBlend_IsTheWeightedSumOfTwoModels_AndRefusesMismatchedOnes()
    {
        var meta = Ctmsr.Model.Network.CtmsrConfig.Tiny.ToMetadata();
        meta["iteration"] = "400";
        string a = Path.Combine(_dir, "a.safetensors"), b = Path.Combine(_dir, "b.safetensors"), outp = Path.Combine(_dir, "ab.safetensors");
        SafetensorsFile.Write(a, new Dictionary<string, HostTensor>
        {
            ["model.w"] = HostTensor.FromFloats([1f, 2f, -4f, 0.001f], 2, 2),
            ["model.idx"] = HostTensor.FromLongs([3, 1], 2),
        }, meta);
        SafetensorsFile.Write(b, new Dictionary<string, HostTensor>
        {
            ["model.w"] = HostTensor.FromFloats([5f, -2f, 4f, 3f], 2, 2),
            ["model.idx"] = HostTensor.FromLongs([3, 1], 2),
        });
        Assert.That(Ctmsr.Cli.Verbs.ConvertVerb.Create().Parse([a, outp, "--blend", b, "--alpha", "0.25"]).Invoke(), Is.Zero);
        using (var f = SafetensorsFile.Open(outp))
        {
            Assert.That(f.Floats("model.w"), Is.EqualTo(new[] { 2f, 1f, -2f, 0.75075f }));
            Assert.That(f.Get("model.w").Shape, Is.EqualTo(new[] { 2, 2 }));
            Assert.That(f.Get("model.idx").ToLongs(), Is.EqualTo(new long[] { 3, 1 }));
            Assert.That(f.Metadata["model_channels"], Is.EqualTo("32"), "the input's configuration is kept");
            Assert.That(f.Metadata.ContainsKey("iteration"), Is.False, "a blend is of no one iteration");
            Assert.That(f.Metadata["source"], Does.Contain("a.safetensors").And.Contain("b.safetensors").And.Contain("0.25"));
        }
        Assert.That(Ctmsr.Cli.Verbs.ConvertVerb.Create().Parse([a, outp, "--blend", b, "--alpha", "0"]).Invoke(), Is.Zero);
        using (var f = SafetensorsFile.Open(outp)) Assert.That(f.Floats("model.w"), Is.EqualTo(new[] { 1f, 2f, -4f, 0.001f }), "alpha 0 is the input bit for bit");

        var err = new StringWriter();
        var stderr = Console.Error;
        Console.SetError(err);
        try
        {
            Assert.That(Ctmsr.Cli.Verbs.ConvertVerb.Create().Parse([a, outp, "--alpha", "0.5"]).Invoke(), Is.EqualTo(2));
            Assert.That(Ctmsr.Cli.Verbs.ConvertVerb.Create().Parse([a, outp, "--blend", b, "--alpha", "1.5"]).Invoke(), Is.EqualTo(2));
            string c = Path.Combine(_dir, "c.safetensors");
            SafetensorsFile.Write(c, new Dictionary<string, HostTensor>
            {
                ["model.w"] = HostTensor.FromFloats([5f, -2f, 4f], 3),
                ["model.idx"] = HostTensor.FromLongs([3, 1], 2),
            });
            Assert.That(Ctmsr.Cli.Verbs.ConvertVerb.Create().Parse([a, outp, "--blend", c, "--alpha", "0.5"]).Invoke(), Is.Not.Zero);
        }
        finally { Console.SetError(stderr); }
        var lines = err.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(3), "one line per failure");
        Assert.That(lines[0], Does.Contain("--blend and --alpha go together"));
        Assert.That(lines[1], Does.Contain("from 0 to 1"));
        Assert.That(lines[2], Does.Contain("'model.w'").And.Contain("same network configuration"));
        using (var f = SafetensorsFile.Open(outp)) Assert.That(f.Floats("model.w"), Is.EqualTo(new[] { 1f, 2f, -4f, 0.001f }), "a refused blend leaves the old output");
    }

    [Test]
    public void StreamingWrite_OfDeviceTensors_ReadsBackTheirValues_AndFillsOneAtATime()
    {
        using var ctx = new Ctmsr.Autograd.Context(new Ctmsr.Kernels.Cpu.CpuBackend());
        float[] big = Enumerable.Range(0, 1000).Select(i => MathF.Sin(i) * 1e3f).ToArray();
        using var a = Ctmsr.Autograd.Tensor.From(ctx, big, 10, 100);
        using var b = Ctmsr.Autograd.Tensor.From(ctx, [float.NaN, -0f, float.NegativeInfinity], 3);
        var filled = new List<string>();
        TensorSource Traced(string name, TensorSource t) => new(t.DType, t.Shape, d =>
        {
            Assert.That(d.Length, Is.EqualTo(t.ByteLength), name);
            filled.Add(name);
            t.Fill(d);
        });
        var path = Path.Combine(_dir, "dev.safetensors");
        SafetensorsFile.WriteSources(path, new Dictionary<string, TensorSource>
        {
            ["z.b"] = Traced("z.b", TensorSource.Of(b)),
            ["a.big"] = Traced("a.big", TensorSource.Of(a, [1000])),
            ["m.host"] = Traced("m.host", TensorSource.Of(HostTensor.FromLongs([5, -6], 2))),
        });
        Assert.That(filled, Is.EqualTo(new[] { "a.big", "m.host", "z.b" }), "filled in file order, each once");
        using var f = SafetensorsFile.Open(path);
        Assert.That(f.Get("a.big").Shape, Is.EqualTo(new[] { 1000 }));
        Assert.That(f.Floats("a.big"), Is.EqualTo(big));
        Assert.That(f.Floats("z.b").Select(BitConverter.SingleToInt32Bits), Is.EqualTo(new[] { float.NaN, -0f, float.NegativeInfinity }.Select(BitConverter.SingleToInt32Bits)));
        Assert.That(f.Get("m.host").ToLongs(), Is.EqualTo(new long[] { 5, -6 }));
    }

    [Test]
    public void StreamingWrite_ThatFailsMidway_LeavesTheOldFileAndNoTemporary()
    {
        var path = Path.Combine(_dir, "keep.safetensors");
        SafetensorsFile.Write(path, new Dictionary<string, HostTensor> { ["w"] = HostTensor.FromFloats([1f], 1) });
        var before = File.ReadAllBytes(path);
        Assert.Throws<IOException>(() => SafetensorsFile.WriteSources(path, new Dictionary<string, TensorSource>
        {
            ["a"] = TensorSource.Of(HostTensor.FromFloats([2f], 1)),
            ["b"] = new(DType.F32, [1], _ => throw new IOException("device lost")),
        }));
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(before));
        Assert.That(Directory.GetFiles(_dir), Is.EqualTo(new[] { path }));
    }
}
