using Ctmsr.Kernels;

namespace Ctmsr.Tests.Gpu;

/// <summary>Device-event timings for the record (explicit: run with --filter Name~OpenClTimings).</summary>
[TestFixture, Explicit("timing, not a check")]
public sealed class OpenClTimings
{
    [Test]
    public void GemmAndConv()
    {
        using (var cl = TestDevices.OpenClOrSkip())
        {
            TestContext.Out.WriteLine(cl.Description);
            const int n = 512;
            var a = cl.Allocate(n * n); var b = cl.Allocate(n * n); var c = cl.Allocate(n * n);
            cl.FillUniform(n * n, 1, 0, a); cl.FillUniform(n * n, 2, 0, b);
            foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true) })
            {
                void Run() => cl.Gemm(ta, tb, n, n, n, 1f, a, 0, n, 0, b, 0, n, 0, 0f, c, 0, n, 0, 1);
                cl.MeasureMs(Run); // compile + warm
                double ms = Enumerable.Range(0, 3).Min(_ => cl.MeasureMs(Run));
                TestContext.Out.WriteLine($"GEMM 512^3 transA={ta} transB={tb}: {ms:F2} ms, {2.0 * n * n * n / ms / 1e6:F1} GFLOP/s");
            }
            var s = new ConvShape(1, 64, 64, 64, 64, 3, 1, 1);
            var x = cl.Allocate(64 * 64 * 64); var w = cl.Allocate(64 * 64 * 9); var bias = cl.Allocate(64); var y = cl.Allocate(64 * 64 * 64);
            cl.FillUniform(x.Length, 3, 0, x); cl.FillUniform(w.Length, 4, 0, w); cl.Fill(bias, 0.1f, 0, 64);
            foreach (var (name, op) in new (string, Action)[]
            {
                ("forward", () => cl.Conv2dForward(s, x, w, bias, y)),
                ("backward data", () => cl.Conv2dBackwardData(s, y, w, x, false)),
                ("backward weight", () => cl.Conv2dBackwardWeight(s, x, y, w, bias)),
            })
            {
                cl.MeasureMs(op);
                double ms = Enumerable.Range(0, 3).Min(_ => cl.MeasureMs(op));
                TestContext.Out.WriteLine($"conv 3x3 {s.N}x{s.Cin}x{s.H}x{s.W} -> {s.Cout} {name}: {ms:F2} ms, {s.Flops / ms / 1e6:F1} GFLOP/s");
            }
        }
    }
}
