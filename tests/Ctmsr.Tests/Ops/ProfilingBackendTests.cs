using System.Reflection;
using Ctmsr.Kernels;
using Ctmsr.Kernels.Cpu;

namespace Ctmsr.Tests.Ops;

/// <summary>The profiling decorator (`ctmsr bench --profile`) changes no result, counts every call of a known op
/// sequence with its FLOPs and bytes, and times every op of the catalogue. No timed assertions.</summary>
public sealed class ProfilingBackendTests
{
    static float[] Rand(int n, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 4 - 1.5)).ToArray();
    }

    /// <summary>The same op sequence on a backend; returns every output's bits.</summary>
    static List<int[]> Sequence(Backend be)
    {
        DeviceBuffer Up(float[] h) { var b = be.Allocate(h.Length); be.Upload(h, b); return b; }
        var outs = new List<DeviceBuffer>();
        DeviceBuffer Out(long n) { var b = be.Allocate(n); outs.Add(b); return b; }
        var s = new ConvShape(1, 5, 9, 11, 7, 3, 1, 1);
        var x = Up(Rand((int)s.InputLength(), 1));
        var w = Up(Rand((int)s.WeightLength(), 2));
        var bias = Up(Rand(7, 3));
        var y = Out(s.OutputLength());
        be.Conv2dForward(s, x, w, bias, y);
        var a = Up(Rand(13 * 17, 4)); var bm = Up(Rand(17 * 19, 5));
        var c = Out(13 * 19);
        be.Gemm(false, false, 13, 19, 17, 1f, a, 0, 17, 0, bm, 0, 19, 0, 0f, c, 0, 19, 0, 1);
        var g = Up(Rand(7, 6)); var beta = Up(Rand(7, 7));
        var gn = Out(s.OutputLength()); var mean = Out(7); var rstd = Out(7);
        be.GroupNormForward(1, 7, 99, 7, 1e-5f, y, g, beta, gn, mean, rstd);
        var gs = Out(s.OutputLength());
        be.GroupNormSiluForward(1, 7, 99, 7, 1e-5f, y, g, beta, gs, Out(7), Out(7));
        var act = Out(s.OutputLength());
        be.ActivationForward(Activation.SiLU, 0f, s.OutputLength(), gn, act);
        var sum = Out(s.OutputLength());
        be.AddScaled(s.OutputLength(), 0.5f, act, 2f, gs, sum);
        var copy = Out(99);
        be.CopyStrided([9, 11], sum, 0, [11, 1], copy, 0, [1, 9], false); // a transpose
        return outs.Select(o => { var h = new float[o.Length]; be.Download(o, h); return h.Select(BitConverter.SingleToInt32Bits).ToArray(); }).ToList();
    }

    [Test]
    public void ResultsAreBitIdenticalToTheUndecoratedBackend()
    {
        using var plain = new CpuBackend();
        using var prof = new ProfilingBackend(new CpuBackend(), ownsInner: true);
        var want = Sequence(plain);
        var got = Sequence(prof);
        Assert.That(got, Has.Count.EqualTo(want.Count));
        for (int i = 0; i < want.Count; i++) Assert.That(got[i], Is.EqualTo(want[i]), $"output {i}");
        Assert.That(prof.Timings().Select(t => t.Op), Is.SupersetOf(new[] { "Conv2dForward 3x3", "Gemm", "GroupNormSiluForward", "CopyStrided" }));
    }

    [Test]
    public void CountsCallsFlopsAndBytesOfAKnownSequence()
    {
        using var prof = new ProfilingBackend(new CpuBackend(), ownsInner: true);
        using var a = prof.Allocate(6 * 8); using var b = prof.Allocate(8 * 5); using var c = prof.Allocate(6 * 5);
        using var v = prof.Allocate(100); using var u = prof.Allocate(100);
        prof.Fill(a, 1f, 0, a.Length); prof.Fill(b, 2f, 0, b.Length);
        for (int i = 0; i < 3; i++) prof.Gemm(false, false, 6, 5, 8, 1f, a, 0, 8, 0, b, 0, 5, 0, 0f, c, 0, 5, 0, 1);
        prof.FillUniform(100, 1, 0, v);
        prof.ActivationForward(Activation.SiLU, 0f, 100, v, u);
        prof.ActivationForward(Activation.SiLU, 0f, 100, u, v);
        prof.ActivationForward(Activation.ReLU, 0f, 100, v, u);
        var s = new ConvShape(2, 3, 8, 8, 4, 3, 2, 1);
        using (var x = prof.Allocate(s.InputLength())) using (var w = prof.Allocate(s.WeightLength())) using (var y = prof.Allocate(s.OutputLength()))
            prof.Conv2dForward(s, x, w, null, y);
        var t = prof.Timings().ToDictionary(o => o.Op);
        Assert.That(t.Keys, Is.EquivalentTo(new[] { "Fill", "Gemm", "FillUniform", "ActivationForward SiLU", "ActivationForward ReLU", "Conv2dForward 3x3/2" }));
        Assert.That(t["Fill"].Calls, Is.EqualTo(2));
        Assert.That(t["Fill"].Bytes, Is.EqualTo(4.0 * (48 + 40)));
        Assert.That(t["Gemm"].Calls, Is.EqualTo(3));
        Assert.That(t["Gemm"].Flops, Is.EqualTo(3 * 2.0 * 6 * 5 * 8));
        Assert.That(t["ActivationForward SiLU"].Calls, Is.EqualTo(2));
        Assert.That(t["ActivationForward SiLU"].Bytes, Is.EqualTo(2 * 8.0 * 100));
        Assert.That(t["ActivationForward ReLU"].Calls, Is.EqualTo(1));
        Assert.That(t["Conv2dForward 3x3/2"].Flops, Is.EqualTo(2.0 * 2 * 4 * 4 * 4 * 3 * 9)); // N Cout OH OW Cin K K
        Assert.That(t.Values.All(o => o.Seconds >= 0));
        prof.Reset();
        Assert.That(prof.Timings(), Is.Empty);
    }

    /// <summary>An op the decorator does not override would run untimed and vanish from the profile.</summary>
    [Test]
    public void EveryOpOfTheCatalogueIsTimed()
    {
        string[] untimed = ["Allocate", "Synchronize", "Dispose", "PrecisionUnsupported", "SetPrecision", "Conv2dForwardScratchBytes"]; // buffers, sync, configuration and memory planning: not ops
        var ops = typeof(Backend).GetMethods(BindingFlags.Public | BindingFlags.Instance)
            .Where(m => m.IsVirtual && m.DeclaringType == typeof(Backend) && !m.IsSpecialName && !untimed.Contains(m.Name)).ToList();
        Assert.That(ops, Has.Count.GreaterThan(30));
        var missing = ops.Where(m => typeof(ProfilingBackend).GetMethod(m.Name, m.GetParameters().Select(p => p.ParameterType).ToArray())!.DeclaringType != typeof(ProfilingBackend))
            .Select(m => m.Name).ToList();
        Assert.That(missing, Is.Empty);
    }
}
