using Ctmsr.Model.Checkpoints;

namespace Ctmsr.Tests.Checkpoints;

/// <summary>Hostile pickles must be refused by name before anything is called or instantiated.</summary>
public class PickleSafetyTests
{
    string _dir = "";
    string Sentinel => Path.Combine(_dir, "pwned");

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("ctmsr-pickle-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    // The same pickle is tried as a zip checkpoint's data.pkl and as a bare (legacy-looking) pickle file.
    void AssertRefused(byte[] pickle, string expectedName)
    {
        var zip = Path.Combine(_dir, "evil.pth");
        PickleBuilder.WriteZip(zip, pickle, new Dictionary<string, byte[]>());
        var bare = Path.Combine(_dir, "evil.pkl");
        File.WriteAllBytes(bare, pickle);
        foreach (var f in new[] { zip, bare })
        {
            var e = Assert.Throws<PickleRefusedException>(() => TorchCheckpoint.Load(f), f);
            Assert.That(e!.Message, Does.Contain(expectedName));
            Assert.That(e.Message, Does.Contain("Ctmsr only reads tensor checkpoints, like torch.load(weights_only=True)"));
            Assert.That(e.Message, Does.StartWith(f));
        }
        Assert.That(File.Exists(Sentinel), Is.False, "the payload must not have run");
    }

    [Test]
    public void GlobalOsSystem_IsRefused()
    {
        var p = new PickleBuilder().Proto().Global("os", "system").Str($"touch {Sentinel}").Raw(0x85).Reduce().Stop();
        AssertRefused(p.ToArray(), "refusing to load 'os.system'");
    }

    [Test]
    public void BuiltinsEval_IsRefused()
    {
        var p = new PickleBuilder().Proto().Global("builtins", "eval").Str($"open('{Sentinel}', 'w')").Raw(0x85).Reduce().Stop();
        AssertRefused(p.ToArray(), "refusing to load 'builtins.eval'");
    }

    [Test]
    public void StackGlobalSubprocess_IsRefused()
    {
        // Protocol 4 names globals from the stack.
        var p = new PickleBuilder().Proto(4).Str("subprocess").Str("check_output").Raw(0x93)
            .Mark().Str("touch").Str(Sentinel).Op('l').Raw(0x85).Reduce().Stop();
        AssertRefused(p.ToArray(), "refusing to load 'subprocess.check_output'");
    }

    [Test]
    public void ReduceOfAllowedNonCallable_IsRefused()
    {
        // torch.FloatStorage is allowed only as a tag inside a persistent id, never as something to call.
        var p = new PickleBuilder().Proto().Global("torch", "FloatStorage").EmptyTuple().Reduce().Stop();
        AssertRefused(p.ToArray(), "refusing to call 'torch.FloatStorage'");
    }

    [Test]
    public void RebuildFromTypeWithDisallowedFunction_IsRefused()
    {
        // _rebuild_from_type_v2(func, type, args, state) must not become a way to call a tag.
        var p = new PickleBuilder().Proto().Global("torch._utils", "_rebuild_from_type_v2")
            .Mark().Global("torch", "FloatStorage").Global("torch", "Tensor").EmptyTuple().EmptyDict().Tuple().Reduce().Stop();
        AssertRefused(p.ToArray(), "refusing to call 'torch.FloatStorage'");
    }

    [Test]
    public void NewObjOfArbitraryClass_IsRefused()
    {
        var p = new PickleBuilder().Proto().Global("torch.nn.modules.conv", "Conv2d").EmptyTuple().Raw(0x81).Stop();
        AssertRefused(p.ToArray(), "refusing to load 'torch.nn.modules.conv.Conv2d'");
    }

    [Test]
    public void NewObjOfAllowedFunction_IsRefused()
    {
        var p = new PickleBuilder().Proto().Global("torch._utils", "_rebuild_tensor_v2").EmptyTuple().Raw(0x81).Stop();
        AssertRefused(p.ToArray(), "refusing to instantiate 'torch._utils._rebuild_tensor_v2'");
    }

    [Test]
    public void InstOpcode_IsRefused()
    {
        // Protocol 0 INST: MARK args 'i' module\n name\n
        var p = new PickleBuilder().Proto().Mark().Str($"touch {Sentinel}").Op('i').Raw("posix\nsystem\n"u8.ToArray()).Stop();
        AssertRefused(p.ToArray(), "refusing to load 'posix.system'");
    }

    [Test]
    public void ObjOpcodeWithTypeTag_IsRefused()
    {
        var p = new PickleBuilder().Proto().Mark().Global("torch", "Tensor").Op('o').Stop();
        AssertRefused(p.ToArray(), "refusing to instantiate 'torch.Tensor'");
    }

    [Test]
    public void ExtensionCodes_AreRefused()
    {
        var p = new PickleBuilder().Proto().Raw(0x82, 1).EmptyTuple().Reduce().Stop();
        AssertRefused(p.ToArray(), "copyreg extension");
    }

    [Test]
    public void RefusalHappensBeforeEarlierValuesAreUsed()
    {
        // A refused global inside an otherwise valid state dict still stops the load.
        var p = new PickleBuilder().Proto().EmptyDict().Mark().Str("w").Global("numpy.core.multiarray", "_reconstruct")
            .EmptyTuple().Reduce().SetItems().Stop();
        AssertRefused(p.ToArray(), "refusing to load 'numpy.core.multiarray._reconstruct'");
    }

    [Test]
    public void AllowedFunctionWithGarbageArguments_IsATypedError()
    {
        var p = new PickleBuilder().Proto().Global("torch._utils", "_rebuild_tensor_v2")
            .Mark().Str("not a storage").Int(0).IntTuple(1).IntTuple(1).False().None().Tuple().Reduce().Stop();
        var f = Path.Combine(_dir, "bad.pth");
        PickleBuilder.WriteZip(f, p.ToArray(), new Dictionary<string, byte[]>());
        var e = Assert.Throws<TorchCheckpointException>(() => TorchCheckpoint.Load(f));
        Assert.That(e!.Message, Does.Contain("must be a storage"));
    }
}

/// <summary>The pickle machine's plain-data opcodes, checked through a zip checkpoint's data.pkl.</summary>
public class PickleOpcodeTests
{
    static object? Run(PickleBuilder p)
    {
        var dir = Directory.CreateTempSubdirectory("ctmsr-ops-").FullName;
        try
        {
            var f = Path.Combine(dir, "x.pth");
            PickleBuilder.WriteZip(f, p.ToArray(), new Dictionary<string, byte[]>());
            return TorchCheckpoint.Load(f);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Test]
    public void ScalarsContainersAndMemo_DecodeAsPythonWould()
    {
        // {'i': [-2, 300, 2**70, True, None, 1.5, 'é', b'ab'], 'n': (1, 2), 'k': same list again via memo}
        var p = new PickleBuilder().Proto(4).Raw(0x95, 0, 0, 0, 0, 0, 0, 0, 0).EmptyDict().Raw(0x94).Mark()
            .Str("i").EmptyList().Raw(0x94).Mark()
            .Int(-2).Int(300).Raw(0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0x40).Raw(0x88).None()
            .Raw((byte)'G', 0x3f, 0xf8, 0, 0, 0, 0, 0, 0).Raw(0x8c, 2, 0xc3, 0xa9).Raw((byte)'C', 2, (byte)'a', (byte)'b')
            .Op('e')
            .Str("n").Int(1).Int(2).Raw(0x86)
            .Str("k").Raw((byte)'h', 1)
            .SetItems().Stop();
        var d = (Dictionary<string, object?>)Run(p)!;
        var list = (List<object?>)d["i"]!;
        Assert.That(list[0], Is.EqualTo(-2L));
        Assert.That(list[1], Is.EqualTo(300L));
        Assert.That(list[2], Is.EqualTo(System.Numerics.BigInteger.Pow(2, 70)));
        Assert.That(list[3], Is.EqualTo(true));
        Assert.That(list[4], Is.Null);
        Assert.That(list[5], Is.EqualTo(1.5));
        Assert.That(list[6], Is.EqualTo("é"));
        Assert.That(list[7], Is.EqualTo("ab"u8.ToArray()));
        Assert.That(d["n"], Is.EqualTo(new object?[] { 1L, 2L }));
        Assert.That(d["k"], Is.SameAs(list));
    }

    [Test]
    public void CorruptStructure_IsATypedError()
    {
        foreach (var p in new[]
        {
            new PickleBuilder().Proto().Stop(),                                  // empty stack
            new PickleBuilder().Proto().Op('t').Stop(),                          // tuple without mark
            new PickleBuilder().Proto().Raw((byte)'h', 9).Stop(),                // memo never stored
            new PickleBuilder().Proto().Int(1).Int(2).Op('a').Stop(),            // append to an int
            new PickleBuilder().Proto().Raw(0xff),                               // unknown opcode
            new PickleBuilder().Proto().Str("x").EmptyTuple().Reduce().Stop(),  // call a string
            new PickleBuilder().Proto().Raw(0x80, 9).Stop(),                     // protocol 9
        })
            Assert.Throws<TorchCheckpointException>(() => Run(p));
    }
}
