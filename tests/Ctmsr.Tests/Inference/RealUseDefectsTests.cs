using System.Text;
using Ctmsr.Imaging;
using Ctmsr.Inference;
using Ctmsr.Kernels;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Model.Checkpoints;
using static Ctmsr.Tests.Inference.InferenceKit;

namespace Ctmsr.Tests.Inference;

/// <summary>Defects a new user hit trying the tool on real photos (issue 13), one test each.</summary>
[NonParallelizable]
public class RealUseDefectsTests
{
    string _dir = "";

    [SetUp] public void SetUp() => _dir = TempDir();
    [TearDown] public void TearDown() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    string P(string rel) => Path.Combine(_dir, rel);

    void WritePng(string rel, Image img)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(P(rel))!);
        File.WriteAllBytes(P(rel), ImageCodec.EncodePng(img));
    }

    string NanWeights()
    {
        var state = State.ToDictionary(kv => kv.Key, kv => kv.Value);
        var key = state.Keys.Where(k => state[k].DType == DType.F32 && state[k].Count > 4).Order(StringComparer.Ordinal).First();
        var v = state[key].ToFloats();
        v[3] = float.NaN;
        state[key] = HostTensor.FromFloats(v, state[key].Shape);
        SafetensorsFile.Write(P("nan.safetensors"), state);
        return key;
    }

    [Test]
    public void NanInTheWeightsIsReportedAtLoadAndNothingIsWritten()
    {
        string key = NanWeights();
        var e = Assert.Throws<InvalidDataException>(() => Upscaler.Load(P("nan.safetensors"), new CpuBackend()))!;
        Assert.That(e.Message, Does.Contain(key).And.Contain("NaN").And.Contain("nan.safetensors"));

        WritePng("in.png", Card(16, 16, 3));
        var (code, _, err) = CliRunner.Run("upscale", P("in.png"), "-o", P("out.png"), "--weights", P("nan.safetensors"));
        Assert.That(code, Is.Not.EqualTo(0));
        Assert.That(err, Does.Contain(key));
        Assert.That(File.Exists(P("out.png")), Is.False, "no all-black image");
        Assert.Throws<InvalidOperationException>(() => FiniteCheck.Result([0f, float.PositiveInfinity], "upscale"));
    }

    [Test]
    public void DeviceGpuIsAUsageError()
    {
        WritePng("in.png", Card(16, 16, 3));
        var (code, _, err) = CliRunner.Run("upscale", P("in.png"), "-o", P("out.png"), "--weights", WeightsPath, "--device", "gpu");
        Assert.That(code, Is.EqualTo(2), err);
        Assert.That(err, Does.Contain("unknown device 'gpu'"));
    }

    [Test]
    public void StaleTemporariesOfADeadProcessAreCleanedAndErrorsNameTheTarget()
    {
        Directory.CreateDirectory(P("o"));
        // pid 2^22 + 1 is above Linux's pid_max: no process has it
        File.WriteAllText(P("o/.x.png.4194305.0123456789abcdef0123456789abcdef.tmp"), "left by kill -9");
        File.WriteAllText(P($"o/.x.png.{Environment.ProcessId}.0123456789abcdef0123456789abcdef.tmp"), "ours, in flight");
        AtomicFile.WriteAllBytes(P("o/x.png"), [1, 2, 3]);
        var left = Directory.GetFiles(P("o"), "*.tmp").Select(Path.GetFileName).ToArray();
        Assert.That(left, Is.EqualTo(new[] { $".x.png.{Environment.ProcessId}.0123456789abcdef0123456789abcdef.tmp" }));

        // a folder that cannot exist (its parent is a file): the error names the target, not a temporary
        File.WriteAllText(P("file"), "");
        var e = Assert.Throws<IOException>(() => AtomicFile.WriteAllBytes(P("file/sub/out.safetensors"), [1]))!;
        Assert.That(e.Message, Does.StartWith(P("file/sub/out.safetensors") + ":").And.Not.Contain(".tmp"));
    }

    [Test]
    public void AnUnwritableOutputFolderIsFoundBeforeAnyImageIsComputed()
    {
        WritePng("in/a.png", Card(16, 16, 3));
        File.WriteAllText(P("in/notes.txt"), "not an image");
        File.WriteAllText(P("in/photo.heic"), "not read here");
        File.WriteAllText(P("blocker"), "");
        var (code, _, err) = CliRunner.Run("upscale", P("in"), "-o", P("blocker/out"), "--weights", WeightsPath);
        Assert.That(code, Is.Not.EqualTo(0));
        Assert.That(err, Does.Contain("cannot write the outputs here").And.Not.Contain("[1/1]"), "refused before the model ran");

        (code, _, err) = CliRunner.Run("upscale", P("in"), "-o", P("out"), "--weights", WeightsPath);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(err, Does.Contain("2 file(s) left out").And.Contain("notes.txt").And.Contain("photo.heic"));
    }

    [Test]
    public void SafetensorsHeaderDamageIsReportedAsSuchWithTheFileName()
    {
        static void Raw(string path, string json, int data)
        {
            var h = Encoding.UTF8.GetBytes(json);
            using var f = File.Create(path);
            f.Write(BitConverter.GetBytes((long)h.Length));
            f.Write(h);
            f.Write(new byte[data]);
        }
        Raw(P("overflow.safetensors"), "{\"w\":{\"dtype\":\"F32\",\"shape\":[4000000000,2],\"data_offsets\":[0,8]}}", 8);
        var e = Assert.Throws<InvalidDataException>(() => CheckpointFiles.LoadStateDict(P("overflow.safetensors")))!;
        Assert.That(e.Message, Does.StartWith(P("overflow.safetensors")).And.Contain("'w'"));

        // a header length that does not fit the file: the safetensors reader's diagnosis, not "not a PyTorch checkpoint"
        File.WriteAllBytes(P("bad.safetensors"), [.. BitConverter.GetBytes(1L << 40), .. "{}"u8]);
        var e2 = Assert.Throws<InvalidDataException>(() => CheckpointFiles.LoadStateDict(P("bad.safetensors")))!;
        Assert.That(e2.Message, Does.Contain("bad.safetensors").And.Contain("header length").And.Not.Contain("PyTorch"));
    }

    [Test]
    public void EvalGoesOnPastABadFileAndGivesNiqeNaForSmallImages()
    {
        string niqe = SharedData.Path_("weights/niqe_pris_params.npz");
        Directory.CreateDirectory(P("sr"));
        File.Copy(SharedData.Path_("data/Bicubicx4/gt/ILSVRC2012_val_00000067.png"), P("sr/big.png"));
        WritePng("sr/small.png", Card(120, 88, 3));
        File.WriteAllText(P("sr/badcrc.png"), "\u0089PNG damaged");
        var (code, table, err) = CliRunner.Run("eval", "--sr", P("sr"), "--niqe-params", niqe);
        Assert.That(code, Is.EqualTo(1), err);
        Assert.That(err, Does.Contain("badcrc.png"));
        var lines = table.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Is.EqualTo("image,niqe,error"));
        Assert.That(lines.Single(l => l.StartsWith("small.png")), Does.StartWith("small.png,n/a"));
        Assert.That(lines.Single(l => l.StartsWith("big.png")), Does.Match(@"^big\.png,\d+\.\d{4},$"));
        Assert.That(lines.Single(l => l.StartsWith("mean")), Does.Match(@"^mean,\d+\.\d{4},$"), "the mean covers the scored images only");

        (code, _, err) = CliRunner.Run("eval", "--sr", P("sr"), "--no-niqe");
        Assert.That(code, Is.EqualTo(2), err);
        Assert.That(err, Does.Contain("nothing to score"));
    }

    [Test]
    public void AFailedTrainStartLeavesNoRunFolder()
    {
        WritePng("data/a.png", Card(64, 64, 3));
        // a readable safetensors file that holds no model: the start fails while loading it, after the run folder was made
        SafetensorsFile.Write(P("bad-init.safetensors"), [new("foo", HostTensor.FromFloats([1f, 2f], 2))]);
        var (code, _, err) = CliRunner.Run("train", "ct", "--data", P("data"), "--run", P("run"), "--config", "small", "--init", P("bad-init.safetensors"), "--iters", "1");
        TestContext.Out.WriteLine(err);
        Assert.That(code, Is.Not.EqualTo(0));
        Assert.That(Directory.Exists(P("run")), Is.False, "a new start (or --resume) is not blocked by a half-made run folder");
    }

    [Test]
    public void FatalErrorsAreJsonUnderJson()
    {
        var (code, stdout, err) = CliRunner.Run("upscale", P("missing.png"), "-o", P("out.png"), "--weights", WeightsPath, "--json");
        Assert.That(code, Is.EqualTo(2), err);
        using var doc = System.Text.Json.JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        Assert.That(doc.RootElement.GetProperty("event").GetString(), Is.EqualTo("error"));
        Assert.That(doc.RootElement.GetProperty("message").GetString(), Does.Contain("missing.png"));
        Assert.That(doc.RootElement.GetProperty("exitCode").GetInt32(), Is.EqualTo(2));
    }
}
