using Ctmsr.Kernels;
using Ctmsr.Kernels.Conformance;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Kernels.Reference;

namespace Ctmsr.Tests.Cpu;

/// <summary>
/// The CPU window attention against the float64 ReferenceBackend at the shapes its blocked path handles by edges
/// (head width not a multiple of 16: padded tiles; 40 = a 32-column block and a 16-column one; T = 144: a 64-column and
/// a 16-column block of S; one window) and at shapes that take the per-row path (T = 9, 49: not a multiple of 16);
/// forward (probabilities and output) and backward (dqkv written and accumulated, dScores), relative L2 under 1e-5.
/// </summary>
public class CpuAttentionTests
{
    static float[] Rand(long n, int seed, float scale = 1f)
    {
        var r = new Random(seed);
        var a = new float[n];
        for (long i = 0; i < n; i++) a[i] = scale * (float)(r.NextDouble() * 2 - 1);
        return a;
    }

    [TestCase(1, 4, 3, 24), TestCase(2, 8, 1, 40), TestCase(1, 12, 1, 8), TestCase(3, 8, 2, 5), TestCase(2, 3, 2, 7), TestCase(1, 7, 2, 16)]
    public void MatchesTheFloat64Reference(int windows, int ws, int heads, int d)
    {
        int t = ws * ws, e = heads * d, span = 2 * ws - 1;
        float scale = 1f / MathF.Sqrt(d);
        long nq = (long)windows * t * 3 * e, np = (long)windows * heads * t * t, no = (long)windows * t * e;
        var cpu = new CpuBackend();
        var re = new ReferenceBackend();
        DeviceBuffer C(float[] h) { var b = cpu.Allocate(h.Length); cpu.Upload(h, b); return b; }
        DeviceBuffer R(float[] h) { var b = re.Allocate(h.Length); re.Upload(h, b); return b; }
        float[] Get(DeviceBuffer b) { var h = new float[b.Length]; cpu.Download(b, h); return h; }
        void Check(DeviceBuffer got, DeviceBuffer want, string what)
        {
            double err = OpConformance.RelL2(Get(got), ReferenceBackend.Raw(want));
            Assert.That(err, Is.LessThan(1e-5), $"{what}, {windows} windows, ws {ws}, {heads} heads, d {d}");
        }

        var qkv = Rand(nq, 1, 2f); var table = Rand(span * span * heads, 2); var dOut = Rand(no, 3);
        var nan = new float[np]; Array.Fill(nan, float.NaN);
        DeviceBuffer cp = C(nan), co = C(new float[no]), rp = re.Allocate(np), ro = re.Allocate(no);
        cpu.WindowAttentionForward(windows, ws, heads, d, scale, C(qkv), C(table), cp, co);
        re.WindowAttentionForward(windows, ws, heads, d, scale, R(qkv), R(table), rp, ro);
        Check(cp, rp, "probabilities"); Check(co, ro, "output");

        // backward from the CPU's probabilities, given to both
        var probs = Get(cp);
        foreach (bool accumulate in new[] { false, true })
        {
            var dq0 = Rand(nq, 4);
            DeviceBuffer cdq = C(dq0), cds = C(nan), rdq = R(dq0), rds = re.Allocate(np);
            cpu.WindowAttentionBackward(windows, ws, heads, d, scale, C(qkv), C(probs), C(dOut), cdq, accumulate, cds);
            re.WindowAttentionBackward(windows, ws, heads, d, scale, R(qkv), R(probs), R(dOut), rdq, accumulate, rds);
            Check(cdq, rdq, accumulate ? "dqkv accumulated" : "dqkv"); Check(cds, rds, "dScores");
        }
    }
}
