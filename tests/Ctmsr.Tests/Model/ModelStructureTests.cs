using System.Globalization;
using Ctmsr.Autograd;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Model.Checkpoints;
using Ctmsr.Model.Network;

namespace Ctmsr.Tests.Model;

public class ModelStructureTests
{
    [Test]
    public void FullConfigMatchesTheOfficialKeyListAndParameterCount()
    {
        var rows = File.ReadAllLines(SharedData.Path_("spec/ctmsr_x4_state_dict.tsv"))
            .Where(l => l.Length > 0).Select(l => l.Split('\t')).ToList();
        using var ctx = new Context(new CpuBackend());
        var net = new CtmsrNet(ctx, CtmsrConfig.X4);
        var ours = net.StateDict().ToDictionary(s => ModelWeights.Prefix + s.name, s => (s.t.Shape, s.dtype));
        Assert.That(ours.Count, Is.EqualTo(942));
        Assert.That(ours.Keys.OrderBy(k => k, StringComparer.Ordinal), Is.EqualTo(rows.Select(r => r[0]).OrderBy(k => k, StringComparer.Ordinal)));
        foreach (var r in rows)
        {
            var shape = r[1].Trim('(', ')').Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            Assert.That(ours[r[0]].Shape, Is.EqualTo(shape), r[0]);
            string dtype = r[2] switch { "float32" => "F32", "float16" => "F16", "int64" => "I64", _ => r[2] };
            Assert.That(ours[r[0]].dtype, Is.EqualTo(dtype), r[0]);
        }
        Assert.That(net.ParameterCount, Is.EqualTo(171_518_529));
    }

    [Test]
    public void PreconditioningClosedForms()
    {
        Assert.That(Precond.CSkip(0), Is.EqualTo(1.0));
        Assert.That(Precond.COut(0), Is.EqualTo(0.0));
        // sigma = 0.1: s = 1 -> c_skip = 0.25/1.25, c_out = 1/sqrt(1.25)
        Assert.That(Precond.CSkip(0.1), Is.EqualTo(0.2).Within(1e-15));
        Assert.That(Precond.COut(0.1), Is.EqualTo(1 / Math.Sqrt(1.25)).Within(1e-15));
        Assert.That(Precond.CNoise(1.0), Is.EqualTo(Math.Log(1.002) / 4).Within(1e-15));
    }

    [Test]
    public void DAtSigmaZeroIsTheIdentity()
    {
        using var ctx = new Context(new CpuBackend());
        var net = new CtmsrNet(ctx, CtmsrConfig.Small); net.InitializeRandom(4); net.Eval();
        var r = new Random(2);
        var xs = Enumerable.Range(0, 3 * 256 * 256).Select(_ => (float)r.NextDouble()).ToArray();
        using var _ = Tape.NoGrad();
        using var scope = Tape.Scope();
        var x = Tensor.From(ctx, xs, 1, 3, 256, 256);
        var lq = Tensor.Zeros(ctx, 1, 3, 64, 64);
        Assert.That(Precond.D(net, x, [0f], lq).ToArray(), Is.EqualTo(xs));
    }

    [Test]
    public void InputsThatAreNotMultiplesOfTheWindowAreRejected()
    {
        using var ctx = new Context(new CpuBackend());
        var net = new CtmsrNet(ctx, CtmsrConfig.Small);
        using var scope = Tape.Scope();
        var x = Tensor.Zeros(ctx, 1, 3, 4 * 72, 4 * 64);
        var lq = Tensor.Zeros(ctx, 1, 3, 72, 64);
        var ex = Assert.Throws<ArgumentException>(() => net.Forward(x, [0.0], lq))!;
        Assert.That(ex.Message, Does.Contain("multiples of 64"));
    }

    [Test]
    public void EveryParameterReceivesANonZeroGradient()
    {
        using var fx = SafetensorsFile.Open(SharedData.Fixture("ctmsr_small_lite.safetensors"));
        using var ctx = new Context(new CpuBackend());
        var net = new CtmsrNet(ctx, CtmsrConfig.FromMetadata(fx.Metadata), dropoutSeed: 5);
        ModelWeights.Load(net, fx.ReadAll("param."));
        net.Train(); // dropout on, as in CT training
        using var scope = Tape.Scope();
        var x = Tensor.From(ctx, fx.Floats("input.x"), fx.Get("input.x").Shape);
        var lq = Tensor.From(ctx, fx.Floats("input.lq"), fx.Get("input.lq").Shape);
        var d = Precond.D(net, x, fx.Floats("input.sigma"), lq);
        F.Mean(F.Charbonnier(d, x)).Backward();
        foreach (var (name, p) in net.NamedParameters())
        {
            Assert.That(p.Grad, Is.Not.Null, $"{name} has no gradient");
            Assert.That(p.Grad!.ToArray().Any(v => v != 0f), $"{name} has an all-zero gradient");
        }
    }
}
