using Ctmsr.Autograd;
using Ctmsr.Kernels;
using Ctmsr.Kernels.OpenCL;
using Ctmsr.Kernels.Reference;
using Ctmsr.Model.Checkpoints;
using Ctmsr.Model.Network;

namespace Ctmsr.Tests.Gpu;

/// <summary>
/// Diagnostic, not a check: runs the golden model on OpenCL and replays every op, on that op's own inputs,
/// on the float64 reference; prints the worst relative L2 error per (op, geometry). Finds which kernel
/// loses precision at the model's real shapes. Run with --filter Name~OpenClOpErrorSurvey.
/// </summary>
[TestFixture, Explicit("diagnostic survey: replays every op of the golden model on the float64 reference (minutes)")]
public sealed class OpenClOpErrorSurvey
{
    sealed class Shadow(Backend inner, Backend oracle) : Ops.InterceptingBackend(inner)
    {
        public readonly Dictionary<string, (double Full, double Delta, int Calls)> Worst = [];

        protected override void Op(string name, string shape, DeviceBuffer?[] reads, DeviceBuffer[] writes, Action<Backend, Func<DeviceBuffer, DeviceBuffer>> run)
        {
            var map = new Dictionary<DeviceBuffer, DeviceBuffer>(ReferenceEqualityComparer.Instance);
            var pre = new Dictionary<DeviceBuffer, float[]>(ReferenceEqualityComparer.Instance);
            foreach (var b in reads.Concat(writes))
            {
                if (b is null || map.ContainsKey(b)) continue;
                var host = new float[b.Length];
                Inner.Download(b, host);
                var r = oracle.Allocate(b.Length);
                oracle.Upload(host, r);
                map[b] = r;
                pre[b] = host;
            }
            run(Inner, b => b);
            run(oracle, b => map[b]);
            string key = $"{name} {shape}";
            var (full, delta, calls) = Worst.GetValueOrDefault(key);
            foreach (var w in writes)
            {
                var got = new float[w.Length];
                Inner.Download(w, got);
                var want = new float[w.Length];
                oracle.Download(map[w], want);
                var before = pre[w];
                double nf = 0, df = 0, nd = 0, dd = 0;
                for (long i = 0; i < got.Length; i++)
                {
                    double e = got[i] - want[i];
                    nf += e * e; df += want[i] * want[i];
                    double step = want[i] - before[i];
                    nd += e * e; dd += step * step;
                }
                full = Math.Max(full, Math.Sqrt(nf / Math.Max(df, 1e-300)));
                delta = Math.Max(delta, Math.Sqrt(nd / Math.Max(dd, 1e-300)));
            }
            Worst[key] = (full, delta, calls + 1);
        }
    }

    /// <summary>Runs a second, independent copy of the whole computation on the oracle (twin buffers) and logs
    /// where the two chains first drift apart.</summary>
    sealed class Twin(Backend inner, Backend oracle) : Ops.InterceptingBackend(inner)
    {
        readonly Dictionary<DeviceBuffer, DeviceBuffer> twins = new(ReferenceEqualityComparer.Instance);
        public readonly List<string> Log = [];
        int index;

        public override DeviceBuffer Allocate(long count)
        {
            var b = Inner.Allocate(count);
            twins[b] = oracle.Allocate(count);
            return b;
        }

        public override void Upload(ReadOnlySpan<float> src, DeviceBuffer dst, long dstOffset = 0)
        {
            Inner.Upload(src, dst, dstOffset);
            oracle.Upload(src, twins[dst], dstOffset);
        }

        protected override void Op(string name, string shape, DeviceBuffer?[] reads, DeviceBuffer[] writes, Action<Backend, Func<DeviceBuffer, DeviceBuffer>> run)
        {
            index++;
            var inErr = reads.Where(r => r is not null).Select(r => Err(r!)).DefaultIfEmpty(0).Max();
            run(Inner, b => b);
            run(oracle, b => twins[b]);
            var outErr = writes.Select(Err).Max();
            if (name == "ActivationBackward" && outErr > 1e-5 && outErr > 3 * inErr)
            {
                var xs = Host(reads[0]!, false); var xo = Host(reads[0]!, true);
                var ds = Host(writes[0], false); var dso = Host(writes[0], true);
                int shown = 0;
                for (int i = 0; i < ds.Length && shown < 12; i++)
                    if (Math.Abs(ds[i] - dso[i]) > 1e-2 * Math.Abs(dso[i]) + 1e-12 || Math.Sign(xs[i]) != Math.Sign(xo[i])) { Log.Add($"   #{index} [{i}] x cl {xs[i]:E3} oracle {xo[i]:E3}  dx cl {ds[i]:E3} oracle {dso[i]:E3}"); shown++; }
            }
            if (outErr > 1e-5 && outErr > 3 * inErr)
                Log.Add($"#{index} {name} {shape}: inputs {inErr:E2} -> outputs {outErr:E2} [{string.Join(", ", writes.Select(w => Err(w).ToString("E1")))}]");
        }

        float[] Host(DeviceBuffer b, bool ofOracle)
        {
            var h = new float[b.Length];
            if (ofOracle) oracle.Download(twins[b], h); else Inner.Download(b, h);
            return h;
        }

        double Err(DeviceBuffer b)
        {
            var got = new float[b.Length]; Inner.Download(b, got);
            var want = new float[b.Length]; oracle.Download(twins[b], want);
            return Model.GoldenModelTests.RelL2(got, want);
        }
    }

    [TestCase("cpu"), TestCase("reference")]
    public void WhereTheChainsDrift(string oracleSpec)
    {
        OpenClBackend cl;
        try { cl = new OpenClBackend(0); } catch (OpenClException e) { Assert.Ignore(e.Message); return; }
        var twin = new Twin(cl, Devices.Create(oracleSpec));
        using var fx = SafetensorsFile.Open(SharedData.Fixture("ctmsr_small.safetensors"));
        var cfg = CtmsrConfig.FromMetadata(fx.Metadata);
        using var ctx = new Context(twin);
        var net = new CtmsrNet(ctx, cfg);
        ModelWeights.Load(net, fx.ReadAll("param."));
        net.Eval();
        using var scope = Tape.Scope();
        var xh = fx.Get("input.x"); var lqh = fx.Get("input.lq");
        var x = Tensor.From(ctx, xh.ToFloats(), xh.Shape); x.RequiresGrad = true;
        var lq = Tensor.From(ctx, lqh.ToFloats(), lqh.Shape);
        var d = Precond.D(net, x, fx.Floats("input.sigma"), lq);
        TestContext.Out.WriteLine("---- backward");
        var g = fx.Get("grad_seed.G");
        d.Backward(Tensor.From(ctx, g.ToFloats(), g.Shape));
        TestContext.Out.WriteLine($"grad.x rel L2 {Model.GoldenModelTests.RelL2(x.Grad!.ToArray(), fx.Floats("grad.x")):E2}");
        foreach (var line in twin.Log.Take(60)) TestContext.Out.WriteLine(line);
    }

    [TestCase("reference"), TestCase("cpu")]
    public void WorstErrorPerOp(string oracleSpec)
    {
        OpenClBackend cl;
        try { cl = new OpenClBackend(0); } catch (OpenClException e) { Assert.Ignore(e.Message); return; }
        var shadow = new Shadow(cl, Devices.Create(oracleSpec));
        using var fx = SafetensorsFile.Open(SharedData.Fixture("ctmsr_small.safetensors"));
        var cfg = CtmsrConfig.FromMetadata(fx.Metadata);
        using var ctx = new Context(shadow);
        var net = new CtmsrNet(ctx, cfg);
        ModelWeights.Load(net, fx.ReadAll("param."));
        net.Eval();
        using var scope = Tape.Scope();
        var xh = fx.Get("input.x"); var lqh = fx.Get("input.lq");
        var x = Tensor.From(ctx, xh.ToFloats(), xh.Shape); x.RequiresGrad = true;
        var lq = Tensor.From(ctx, lqh.ToFloats(), lqh.Shape);
        var d = Precond.D(net, x, fx.Floats("input.sigma"), lq);
        var g = fx.Get("grad_seed.G");
        d.Backward(Tensor.From(ctx, g.ToFloats(), g.Shape));
        TestContext.Out.WriteLine($"grad.x rel L2 {Model.GoldenModelTests.RelL2(x.Grad!.ToArray(), fx.Floats("grad.x")):E2} (every op synchronised)");
        foreach (var (key, (full, delta, calls)) in shadow.Worst.OrderByDescending(kv => kv.Value.Delta))
            TestContext.Out.WriteLine($"{full:E2} {delta:E2} x{calls,-4} {key}");
    }
}
