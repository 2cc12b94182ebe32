using System.Runtime.Intrinsics;
using Ctmsr.Kernels;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Kernels.Reference;

namespace Ctmsr.Bench.Lab;

/// <summary>
/// GroupNorm backward on the CPU, x and dy [n, c, hw], groups of c/groups channels:
/// dx = rstd * (dy*gamma - mean_g(dy*gamma) - xhat * mean_g(dy*gamma*xhat)), xhat = (x - mean) * rstd;
/// dgamma[c] += sum dy*xhat, dbeta[c] += sum dy. Floor: read x and dy once, write dx once (12 bytes per element).
/// </summary>
public sealed class GroupNormBackwardLab : LabKernel
{
    public override string Name => "groupnorm-backward";
    public override string Math => "dx = rstd (dy gamma - mean(dy gamma) - xhat mean(dy gamma xhat)); dgamma += sum dy xhat; dbeta += sum dy";
    public override double Tolerance => 1e-5;

    public override IReadOnlyList<LabVariant> Variants { get; } =
    [
        new(1, "cpu backend", "today's CpuBackend.GroupNormBackward (variant 4 on AVX-512 machines, else variant 3)"),
        new(2, "one-pass dy*x", "sums of dy and dy*x in one pass (no per-element xhat), sum dy*xhat = rstd (sum dy*x - mean sum dy); variant 3's dx pass"),
        new(3, "double lanes", "the backward before issue 14's last pass: per (sample, group) sums of dy and dy*xhat in Vector256<double> lanes, then the dx pass in 8-float vectors"),
        new(4, "float lanes", "CpuGroupNorm.Backward(wide: true): sums of dy and dy*(x - mean) in 16-float lanes over blocks of 512, doubles across blocks; dx by two FMAs a 16-float vector"),
    ];

    static readonly (int N, int C, int Hw, int G)[] Dims = [(1, 64, 64 * 64, 16), (1, 192, 64 * 64, 32), (1, 384, 32 * 32, 32), (4, 192, 64 * 64, 32)];
    public override IReadOnlyList<string> Shapes { get; } = [.. Dims.Select(d => $"{d.N}x{d.C}x{(int)System.Math.Sqrt(d.Hw)}^2 g{d.G}")];

    public override LabCase Prepare(int shape) => new Case(Dims[shape]);

    sealed class Case : LabCase
    {
        readonly int n, c, hw, groups;
        readonly CpuBackend cpu = new();
        readonly DeviceBuffer x, gamma, mean, rstd, dy, dx, dgamma, dbeta;
        readonly float[] dgamma0, dbeta0;
        readonly double[] wantDx, wantDgamma, wantDbeta;

        public Case((int N, int C, int Hw, int G) d)
        {
            (n, c, hw, groups) = d;
            long count = (long)n * c * hw;
            var xh = Rand(count, 1);
            for (long i = 0; i < count; i++) xh[i] += 0.3f; // a non-zero mean, as activations have
            var gh = Rand(c, 2, 0.5f, 1.5f);
            var dyh = Rand(count, 3);
            dgamma0 = Rand(c, 4); dbeta0 = Rand(c, 5);
            x = Up(xh); gamma = Up(gh); dy = Up(dyh);
            mean = cpu.Allocate(n * groups); rstd = cpu.Allocate(n * groups);
            dx = cpu.Allocate(count); dgamma = cpu.Allocate(c); dbeta = cpu.Allocate(c);
            // mean and rstd as the CPU forward saves them; the reference gets the same float values
            using (var y = cpu.Allocate(count)) using (var beta = cpu.Allocate(c))
            {
                cpu.Fill(beta, 0.1f, 0, c);
                cpu.GroupNormForward(n, c, hw, groups, 1e-6f, x, gamma, beta, y, mean, rstd);
            }
            var re = new ReferenceBackend();
            DeviceBuffer R(DeviceBuffer b) { var h = new float[b.Length]; cpu.Download(b, h); var r = re.Allocate(h.Length); re.Upload(h, r); return r; }
            var rdx = re.Allocate(count); var rdg = re.Allocate(c); var rdb = re.Allocate(c);
            re.Upload(dgamma0, rdg); re.Upload(dbeta0, rdb);
            re.GroupNormBackward(n, c, hw, groups, R(x), R(gamma), R(mean), R(rstd), R(dy), rdx, false, rdg, rdb);
            wantDx = ReferenceBackend.Raw(rdx); wantDgamma = ReferenceBackend.Raw(rdg); wantDbeta = ReferenceBackend.Raw(rdb);
        }

        DeviceBuffer Up(float[] h) { var b = cpu.Allocate(h.Length); cpu.Upload(h, b); return b; }
        static float[] F(DeviceBuffer b) => ((CpuBuffer)b).Data;

        public override double Bytes => 12.0 * n * c * hw;

        public override void Run(int variant)
        {
            switch (variant)
            {
                case 1: cpu.GroupNormBackward(n, c, hw, groups, x, gamma, mean, rstd, dy, dx, false, dgamma, dbeta); break;
                case 3: CpuGroupNorm.Backward(n, c, hw, groups, F(x), F(gamma), F(mean), F(rstd), F(dy), F(dx), false, F(dgamma), F(dbeta), wide: false); break;
                case 4: CpuGroupNorm.Backward(n, c, hw, groups, F(x), F(gamma), F(mean), F(rstd), F(dy), F(dx), false, F(dgamma), F(dbeta), wide: true); break;
                case 2: OnePass(n, c, hw, groups, F(x), F(gamma), F(mean), F(rstd), F(dy), F(dx), false, F(dgamma), F(dbeta)); break;
                default: throw new ArgumentOutOfRangeException(nameof(variant));
            }
        }

        public override double Check(int variant)
        {
            cpu.Upload(dgamma0, dgamma); cpu.Upload(dbeta0, dbeta);
            cpu.Fill(dx, float.NaN, 0, dx.Length); // a variant that skips an element fails
            Run(variant);
            return new[] { RelL2(F(dx), wantDx), RelL2(F(dgamma), wantDgamma), RelL2(F(dbeta), wantDbeta) }.Max();
        }
    }

    /// <summary>Variant 2. The dx pass is variant 1's; the reductions form sum dy and sum dy*x in one sweep.</summary>
    static void OnePass(int n, int c, int hw, int groups, float[] x, float[] gamma, float[] mean, float[] rstd, float[] dy,
        float[] dx, bool accumulate, float[] dgamma, float[] dbeta)
    {
        int cg = c / groups;
        long cnt = (long)cg * hw;
        var sdy = new double[n * c];
        var sdyx = new double[n * c];
        Parallel.For(0, n * groups, sg =>
        {
            int s = sg / groups, g = sg % groups;
            long b0 = (long)sg * cnt;
            float m = mean[sg], r = rstd[sg];
            double a1 = 0, a2 = 0;
            for (int ch = 0; ch < cg; ch++)
            {
                int cc = g * cg + ch;
                var (cdy, cdx) = SumsDyAndDyX(x.AsSpan((int)(b0 + (long)ch * hw), hw), dy.AsSpan((int)(b0 + (long)ch * hw), hw));
                double cdyx = r * (cdx - m * cdy);
                sdy[s * c + cc] = cdy; sdyx[s * c + cc] = cdyx;
                a1 += cdy * gamma[cc]; a2 += cdyx * gamma[cc];
            }
            float k1 = (float)(a1 / cnt), k2 = (float)(a2 / cnt);
            for (int ch = 0; ch < cg; ch++)
                CpuGroupNorm.DxDouble(x, dy, dx, (int)(b0 + (long)ch * hw), hw, m, r, gamma[g * cg + ch], k1, k2, accumulate);
        });
        for (int cc = 0; cc < c; cc++)
        {
            double a = 0, b = 0;
            for (int s = 0; s < n; s++) { a += sdyx[s * c + cc]; b += sdy[s * c + cc]; }
            dgamma[cc] += (float)a; dbeta[cc] += (float)b;
        }
    }

    /// <summary>(sum dy, sum dy*x) in double lanes, 8 floats at a time; the products in float.</summary>
    static (double Dy, double DyX) SumsDyAndDyX(ReadOnlySpan<float> x, ReadOnlySpan<float> dy)
    {
        int i = 0;
        double s1 = 0, s2 = 0;
        Vector256<double> a0 = Vector256<double>.Zero, a1 = a0, b0 = a0, b1 = a0;
        for (; i <= x.Length - 8; i += 8)
        {
            var d = Vector256.Create(dy.Slice(i, 8));
            var (dl, dh) = Vector256.Widen(d);
            var (pl, ph) = Vector256.Widen(d * Vector256.Create(x.Slice(i, 8)));
            a0 += dl; a1 += dh; b0 += pl; b1 += ph;
        }
        s1 = Vector256.Sum(a0 + a1); s2 = Vector256.Sum(b0 + b1);
        for (; i < x.Length; i++) { s1 += dy[i]; s2 += dy[i] * x[i]; }
        return (s1, s2);
    }
}
