using Ctmsr.Model.Checkpoints;

namespace Ctmsr.Tests.Checkpoints;

/// <summary>
/// Hand-assembled checkpoints with closed-form contents: views with offsets, non-contiguous strides, shared storages,
/// every supported storage type, the legacy layout with storage views.
/// </summary>
public class TorchCheckpointSyntheticTests
{
    string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("ctmsr-pth-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    static float V(int i) => i * 0.5f - 3f;

    static byte[] Bytes<T>(T[] v) where T : unmanaged
    {
        var b = new byte[v.Length * System.Runtime.InteropServices.Marshal.SizeOf<T>()];
        Buffer.BlockCopy(v, 0, b, 0, b.Length);
        return b;
    }

    static readonly float[] Halves = [1f, -2f, 0.5f, 65504f];
    static readonly float[] BFloats = [1.5f, -0.25f, 3f, 256f];
    static readonly double[] Doubles = [Math.PI, -1e300, 2.5];
    static readonly long[] Longs = [long.MaxValue, -5, 1L << 40];

    string WriteZip()
    {
        var f = Enumerable.Range(0, 24).Select(V).ToArray();
        var storages = new Dictionary<string, byte[]>
        {
            ["0"] = Bytes(f),
            ["1"] = Bytes(Halves.Select(x => BitConverter.HalfToUInt16Bits((Half)x)).ToArray()),
            ["2"] = Bytes(BFloats.Select(x => (ushort)(BitConverter.SingleToUInt32Bits(x) >> 16)).ToArray()),
            ["3"] = Bytes(Doubles),
            ["4"] = Bytes(Longs),
            ["5"] = Bytes(new[] { 1.25f, -7f }),
        };
        var p = new PickleBuilder().Proto().Global("collections", "OrderedDict").EmptyTuple().Reduce().Mark();
        p.Str("full").Tensor("FloatStorage", "0", 24, 0, [2, 3, 4], [12, 4, 1]).Raw((byte)'q', 200);
        p.Str("view").Tensor("FloatStorage", "0", 24, 5, [3], [1]);
        p.Str("transposed").Tensor("FloatStorage", "0", 24, 0, [4, 3], [1, 4]);
        p.Str("strided").Tensor("FloatStorage", "0", 24, 1, [2, 2, 3], [12, 5, 2]);
        p.Str("scalar").Tensor("FloatStorage", "0", 24, 7, [], []);
        p.Str("empty").Tensor("FloatStorage", "0", 24, 0, [0, 3], [3, 1]);
        p.Str("expanded").Tensor("FloatStorage", "0", 24, 2, [2, 3], [0, 1]);
        p.Str("again").Raw((byte)'h', 200);
        p.Str("half").Tensor("HalfStorage", "1", 4, 0, [2, 2], [1, 2]);
        p.Str("bf16").Tensor("BFloat16Storage", "2", 4, 0, [4], [1]);
        p.Str("f64").Tensor("DoubleStorage", "3", 3, 0, [3], [1]);
        p.Str("i64").Tensor("LongStorage", "4", 3, 1, [2], [1]);
        // _rebuild_parameter(_rebuild_tensor_v3(untyped storage, 0, (2,), (1,), False, OrderedDict(), torch.float32), True, OrderedDict())
        p.Str("param").Global("torch._utils", "_rebuild_parameter").Mark();
        p.Global("torch._utils", "_rebuild_tensor_v3").Mark();
        p.Mark().Str("storage").Global("torch", "UntypedStorage").Str("5").Str("cpu").Int(8).Tuple().BinPersId();
        p.Int(0).IntTuple(2).IntTuple(1).False().Global("collections", "OrderedDict").EmptyTuple().Reduce().Global("torch", "float32").Tuple().Reduce();
        p.Raw(0x88).Global("collections", "OrderedDict").EmptyTuple().Reduce().Tuple().Reduce();
        p.SetItems();
        // state_dict()._metadata arrives through BUILD and is dropped.
        p.EmptyDict().Str("_metadata").EmptyDict().Str("").EmptyDict().Op('s').Op('s').Op('b').Stop();
        var path = Path.Combine(_dir, "synthetic.pth");
        PickleBuilder.WriteZip(path, p.ToArray(), storages);
        return path;
    }

    [Test]
    public void Zip_ViewsStridesAndDtypes_MatchClosedForm()
    {
        var sd = TorchCheckpoint.LoadStateDict(WriteZip());
        Assert.That(sd.Keys, Is.EqualTo(new[] { "full", "view", "transposed", "strided", "scalar", "empty", "expanded", "again", "half", "bf16", "f64", "i64", "param" }));

        Assert.That(sd["full"].Shape, Is.EqualTo(new[] { 2, 3, 4 }));
        Assert.That(sd["full"].ToFloats(), Is.EqualTo(Enumerable.Range(0, 24).Select(V)));
        Assert.That(sd["view"].ToFloats(), Is.EqualTo(new[] { V(5), V(6), V(7) }));

        var t = sd["transposed"].ToFloats();
        Assert.That(sd["transposed"].Shape, Is.EqualTo(new[] { 4, 3 }));
        for (int i = 0; i < 4; i++) for (int j = 0; j < 3; j++) Assert.That(t[i * 3 + j], Is.EqualTo(V(i + 4 * j)));

        var s = sd["strided"].ToFloats();
        for (int a = 0; a < 2; a++) for (int b = 0; b < 2; b++) for (int c = 0; c < 3; c++)
            Assert.That(s[a * 6 + b * 3 + c], Is.EqualTo(V(1 + 12 * a + 5 * b + 2 * c)), $"[{a},{b},{c}]");

        Assert.That(sd["scalar"].Shape, Is.Empty);
        Assert.That(sd["scalar"].ToFloats(), Is.EqualTo(new[] { V(7) }));
        Assert.That(sd["empty"].Shape, Is.EqualTo(new[] { 0, 3 }));
        Assert.That(sd["empty"].Bytes, Is.Empty);
        Assert.That(sd["expanded"].ToFloats(), Is.EqualTo(new[] { V(2), V(3), V(4), V(2), V(3), V(4) }));

        Assert.That(sd["half"].DType, Is.EqualTo(DType.F16));
        Assert.That(sd["half"].ToFloats(), Is.EqualTo(new[] { Halves[0], Halves[2], Halves[1], Halves[3] }));
        Assert.That(sd["bf16"].DType, Is.EqualTo(DType.BF16));
        Assert.That(sd["bf16"].ToFloats(), Is.EqualTo(BFloats));
        Assert.That(sd["f64"].ToDoubles(), Is.EqualTo(Doubles));
        Assert.That(sd["i64"].DType, Is.EqualTo(DType.I64));
        Assert.That(sd["i64"].ToLongs(), Is.EqualTo(new[] { Longs[1], Longs[2] }));
        Assert.That(sd["param"].DType, Is.EqualTo(DType.F32));
        Assert.That(sd["param"].ToFloats(), Is.EqualTo(new[] { 1.25f, -7f }));
    }

    [Test]
    public void Zip_SharedStorage_GivesIndependentCopies_AndMemoisedTensorIsOneObject()
    {
        var sd = TorchCheckpoint.LoadStateDict(WriteZip());
        Assert.That(sd["again"], Is.SameAs(sd["full"]));
        sd["full"].Bytes[20] ^= 0xff; // element 5 of the shared storage
        Assert.That(sd["view"].ToFloats()[0], Is.EqualTo(V(5)), "views are copies, not aliases");
    }

    [Test]
    public void Legacy_StorageViewsAndSharedRoots_MatchClosedForm()
    {
        var root = Enumerable.Range(0, 10).Select(i => i * 1.5f + 0.25f).ToArray();
        var half = new[] { (Half)3.5, (Half)(-1) };
        var ms = new MemoryStream();
        void W(PickleBuilder b) => ms.Write(b.ToArray());
        W(new PickleBuilder().Proto().Raw(0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19).Stop());
        W(new PickleBuilder().Proto().Int(1001).Stop());
        W(new PickleBuilder().Proto().EmptyDict().Str("little_endian").Raw(0x88).Op('s').Stop());
        var p = new PickleBuilder().Proto().EmptyDict().Mark();
        void Tensor(string name, string type, string key, long numel, object?[]? view, long off, long[] size, long[] stride)
        {
            p.Str(name).Global("torch._utils", "_rebuild_tensor_v2").Mark();
            p.Mark().Str("storage").Global("torch", type).Str(key).Str("cuda:0").Int(numel);
            if (view is null) p.None(); else p.Mark().Str((string)view[0]!).Int((long)view[1]!).Int((long)view[2]!).Tuple();
            p.Tuple().BinPersId().Int(off).IntTuple(size).IntTuple(stride).False().None().Tuple().Reduce();
        }
        Tensor("whole", "FloatStorage", "111", 10, null, 0, [2, 5], [5, 1]);
        Tensor("slice", "FloatStorage", "111", 10, ["222", 4L, 3L], 1, [2], [1]);
        Tensor("cols", "FloatStorage", "111", 10, null, 1, [2, 2], [5, 2]);
        Tensor("h", "HalfStorage", "333", 2, null, 0, [2], [1]);
        W(p.SetItems().Stop());
        W(new PickleBuilder().Proto().Mark().Str("111").Str("333").Op('l').Stop());
        ms.Write(BitConverter.GetBytes(10L));
        ms.Write(Bytes(root));
        ms.Write(BitConverter.GetBytes(2L));
        ms.Write(Bytes(half.Select(BitConverter.HalfToUInt16Bits).ToArray()));
        var path = Path.Combine(_dir, "legacy.pth");
        File.WriteAllBytes(path, ms.ToArray());

        var sd = TorchCheckpoint.LoadStateDict(path);
        Assert.That(sd["whole"].ToFloats(), Is.EqualTo(root));
        Assert.That(sd["slice"].ToFloats(), Is.EqualTo(new[] { root[5], root[6] }), "view starts at element 4, tensor offset 1 within it");
        Assert.That(sd["cols"].ToFloats(), Is.EqualTo(new[] { root[1], root[3], root[6], root[8] }));
        Assert.That(sd["h"].ToFloats(), Is.EqualTo(new[] { 3.5f, -1f }));

        // Every strict prefix of a legacy file is refused with a typed error.
        var full = File.ReadAllBytes(path);
        var cut = Path.Combine(_dir, "cut.pth");
        for (int n = 0; n < full.Length; n++)
        {
            File.WriteAllBytes(cut, full[..n]);
            Assert.Throws<TorchCheckpointException>(() => TorchCheckpoint.Load(cut), $"cut at {n}");
        }
    }
}
