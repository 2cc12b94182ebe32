using Ctmsr.Model.Checkpoints;

namespace Ctmsr.Tests.Checkpoints;

/// <summary>Damaged or foreign files end in a typed exception with a useful message, never a crash or a hang.</summary>
public class TorchCheckpointRobustnessTests
{
    string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("ctmsr-robust-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    string Write(string name, byte[] bytes)
    {
        var p = Path.Combine(_dir, name);
        File.WriteAllBytes(p, bytes);
        return p;
    }

    static byte[] FloatStorage(params float[] v)
    {
        var b = new byte[v.Length * 4];
        Buffer.BlockCopy(v, 0, b, 0, b.Length);
        return b;
    }

    static byte[] OneTensorPickle(string storageType = "FloatStorage", string key = "0", long numel = 4) =>
        new PickleBuilder().Proto().EmptyDict().Mark().Str("w").Tensor(storageType, key, numel, 0, [2, 2], [2, 1]).SetItems().Stop().ToArray();

    [Test]
    public void TruncatedOfficialCheckpoint_IsATypedError()
    {
        var full = File.ReadAllBytes(SharedData.Fixture("ctmsr_small_official.pth"));
        foreach (int n in new[] { 1, 3, 4, 30, 1000, full.Length / 3, full.Length / 2, full.Length - 1000, full.Length - 23, full.Length - 1 })
        {
            var p = Write("cut.pth", full[..n]);
            var e = Assert.Throws<TorchCheckpointException>(() => TorchCheckpoint.Load(p), $"cut at {n}");
            Assert.That(e!.Message, Does.StartWith(p));
        }
    }

    [Test]
    public void ZeroByteFile_SaysEmpty()
    {
        var p = Write("empty.pth", []);
        var e = Assert.Throws<TorchCheckpointException>(() => TorchCheckpoint.Load(p));
        Assert.That(e!.Message, Is.EqualTo($"{p}: not a PyTorch checkpoint (the file is empty)"));
    }

    [Test]
    public void MissingFile_IsFileNotFound() =>
        Assert.Throws<FileNotFoundException>(() => TorchCheckpoint.Load(Path.Combine(_dir, "nope.pth")));

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void RandomBytes_AreATypedError(int seed)
    {
        var rng = new Random(seed);
        foreach (var prefix in new byte[][] { [], [0x80, 0x02], [0x80, 0x04], "PK\u0003\u0004"u8.ToArray() })
        {
            var b = new byte[rng.Next(1, 5000)];
            rng.NextBytes(b);
            prefix.CopyTo(b, 0);
            if (prefix.Length == 0 && b[0] == 0x80) b[0] = 0;
            var p = Write("random.pth", b);
            var e = Assert.Throws(Is.InstanceOf<TorchCheckpointException>(), () => TorchCheckpoint.Load(p));
            if (prefix.Length == 0) Assert.That(e!.Message, Does.Contain("not a PyTorch checkpoint"));
        }
    }

    [Test]
    public void ZipWithoutDataPkl_SaysSo()
    {
        var p = Path.Combine(_dir, "nopkl.pth");
        PickleBuilder.WriteZip(p, null, new Dictionary<string, byte[]> { ["0"] = FloatStorage(1, 2) });
        var e = Assert.Throws<TorchCheckpointException>(() => TorchCheckpoint.Load(p));
        Assert.That(e!.Message, Does.Contain("not a PyTorch checkpoint (a zip archive without data.pkl"));
    }

    [Test]
    public void MissingStorageEntry_NamesIt()
    {
        var p = Path.Combine(_dir, "nostorage.pth");
        PickleBuilder.WriteZip(p, OneTensorPickle(key: "7"), new Dictionary<string, byte[]> { ["0"] = FloatStorage(1, 2, 3, 4) });
        var e = Assert.Throws<TorchCheckpointException>(() => TorchCheckpoint.Load(p));
        Assert.That(e!.Message, Does.Contain("storage entry 'archive/data/7' is missing"));
    }

    [Test]
    public void ShortStorageEntry_IsATypedError()
    {
        var p = Path.Combine(_dir, "short.pth");
        PickleBuilder.WriteZip(p, OneTensorPickle(), new Dictionary<string, byte[]> { ["0"] = FloatStorage(1, 2, 3) });
        var e = Assert.Throws<TorchCheckpointException>(() => TorchCheckpoint.Load(p));
        Assert.That(e!.Message, Does.Contain("storage '0'"));
    }

    [Test]
    public void UnsupportedDtype_NamesTheTensorAndType()
    {
        var p = Path.Combine(_dir, "int16.pth");
        PickleBuilder.WriteZip(p, OneTensorPickle("ShortStorage"), new Dictionary<string, byte[]> { ["0"] = new byte[8] });
        var e = Assert.Throws<TorchCheckpointException>(() => TorchCheckpoint.Load(p));
        Assert.That(e!.Message, Does.Contain("tensor 'w'").And.Contain("torch.ShortStorage is not supported"));
    }

    [Test]
    public void OutOfRangeView_IsATypedError()
    {
        var pickle = new PickleBuilder().Proto().EmptyDict().Mark().Str("w").Tensor("FloatStorage", "0", 4, 1, [2, 2], [2, 1]).SetItems().Stop();
        var p = Path.Combine(_dir, "range.pth");
        PickleBuilder.WriteZip(p, pickle.ToArray(), new Dictionary<string, byte[]> { ["0"] = FloatStorage(1, 2, 3, 4) });
        var e = Assert.Throws<TorchCheckpointException>(() => TorchCheckpoint.Load(p));
        Assert.That(e!.Message, Does.Contain("reaches past"));
    }

    [Test]
    public void HugeShapes_DoNotAllocateOrOverflow()
    {
        foreach (var size in new long[][] { [int.MaxValue, int.MaxValue, int.MaxValue], [1L << 40], [-1] })
        {
            var pickle = new PickleBuilder().Proto().EmptyDict().Mark().Str("w")
                .Tensor("FloatStorage", "0", 4, 0, size, size.Select(_ => 1L).ToArray()).SetItems().Stop();
            var p = Path.Combine(_dir, "huge.pth");
            PickleBuilder.WriteZip(p, pickle.ToArray(), new Dictionary<string, byte[]> { ["0"] = FloatStorage(1, 2, 3, 4) });
            Assert.Throws<TorchCheckpointException>(() => TorchCheckpoint.Load(p), string.Join(",", size));
        }
    }

    [Test]
    public void KeyNotFound_ListsTheKeys()
    {
        var pth = SharedData.Fixture("ctmsr_small_official.pth");
        var e = Assert.Throws<TorchCheckpointException>(() => TorchCheckpoint.LoadStateDict(pth, "state_dict"));
        Assert.That(e!.Message, Does.Contain("no entry 'state_dict'").And.Contain("'params', 'params_ema'"));
    }

    [Test]
    public void DictWithoutWeights_ListsTheKeys()
    {
        var pickle = new PickleBuilder().Proto().EmptyDict().Mark().Str("epoch").Int(3).Str("optimizer").EmptyDict().SetItems().Stop();
        var p = Path.Combine(_dir, "noweights.pth");
        PickleBuilder.WriteZip(p, pickle.ToArray(), new Dictionary<string, byte[]>());
        var e = Assert.Throws<TorchCheckpointException>(() => TorchCheckpoint.LoadStateDict(p));
        Assert.That(e!.Message, Does.Contain("'epoch', 'optimizer'"));
        Assert.That(TorchCheckpoint.Load(p), Is.EqualTo(new Dictionary<string, object?> { ["epoch"] = 3L, ["optimizer"] = new Dictionary<string, object?>() }));
    }

    [Test]
    public void FlippedBytes_EitherLoadOrFailTyped()
    {
        // Mutations of a small zip checkpoint and of a legacy one: any outcome but an untyped exception is fine.
        var zip = Path.Combine(_dir, "ok.pth");
        PickleBuilder.WriteZip(zip, OneTensorPickle(), new Dictionary<string, byte[]> { ["0"] = FloatStorage(1, 2, 3, 4) });
        var sources = new List<byte[]> { File.ReadAllBytes(zip) };
        var lpips = Path.Combine(Path.GetDirectoryName(SharedData.Fixture("ops.safetensors"))!, "..", "weights", "lpips-v0.1", "alex.pth");
        if (File.Exists(lpips)) sources.Add(File.ReadAllBytes(lpips));
        var rng = new Random(7);
        int loaded = 0, refused = 0;
        foreach (var src in sources)
        {
            for (int trial = 0; trial < 400; trial++)
            {
                var b = (byte[])src.Clone();
                for (int k = rng.Next(1, 4); k > 0; k--) b[rng.Next(b.Length)] = (byte)rng.Next(256);
                var p = Write("flip.pth", b);
                try { TorchCheckpoint.Load(p); loaded++; }
                catch (TorchCheckpointException) { refused++; }
            }
        }
        Assert.That(loaded + refused, Is.EqualTo(400 * sources.Count));
        TestContext.Out.WriteLine($"loaded {loaded}, refused {refused}");
    }
}
