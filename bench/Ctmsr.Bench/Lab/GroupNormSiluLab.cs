using System.Runtime.Intrinsics;
using Ctmsr.Kernels;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Kernels.Reference;

namespace Ctmsr.Bench.Lab;

/// <summary>
/// GroupNorm followed by SiLU on the CPU (the UNet blocks' norm0/norm1 and the aux norm at inference), x [n, c, hw]:
/// v = (x - mean_g) * rstd_g * gamma + beta, y = v / (1 + exp(-v)). Floor: read x once, write y once (8 bytes per
/// element; the statistics pass reads x again, which the floor does not count).
/// </summary>
public sealed class GroupNormSiluLab : LabKernel
{
    public override string Name => "groupnorm-silu";
    public override string Math => "y = SiLU((x - mean) rstd gamma + beta), statistics per (sample, group)";
    public override double Tolerance => 1e-5;

    public override IReadOnlyList<LabVariant> Variants { get; } =
    [
        new(1, "two ops", "what the network ran: CpuBackend.GroupNormForward into a scratch tensor, then ActivationForward(SiLU) (scalar MathF.Exp) from it"),
        new(2, "two ops, vector SiLU", "the same two passes, the SiLU pass with Vector256.Exp: how much of 3's gain is the vectorised exp alone"),
        new(3, "fused", "CpuBackend.GroupNormSiluForward: the statistics pass, then one pass writing SiLU of the normalised value (Vector256.Exp)"),
    ];

    // tiny/small at LR 256 and 64 (32 channels, 8 groups; 64 at the second level), x4 at LR 64 (192 channels, 32 groups)
    static readonly (int N, int C, int Hw, int G)[] Dims = [(1, 32, 64 * 64, 8), (1, 32, 256 * 256, 8), (1, 64, 128 * 128, 16), (1, 192, 64 * 64, 32)];
    public override IReadOnlyList<string> Shapes { get; } = [.. Dims.Select(d => $"{d.N}x{d.C}x{(int)System.Math.Sqrt(d.Hw)}^2 g{d.G}")];

    public override LabCase Prepare(int shape) => new Case(Dims[shape]);

    sealed class Case : LabCase
    {
        readonly int n, c, hw, groups;
        const float Eps = 1e-6f;
        readonly CpuBackend cpu = new();
        readonly DeviceBuffer x, gamma, beta, y, t, mean, rstd;
        readonly double[] want;

        public Case((int N, int C, int Hw, int G) d)
        {
            (n, c, hw, groups) = d;
            long count = (long)n * c * hw;
            var xh = Rand(count, 1, -2, 3); // a non-zero mean, as activations have
            var gh = Rand(c, 2, 0.5f, 1.5f);
            var bh = Rand(c, 3);
            x = Up(xh); gamma = Up(gh); beta = Up(bh);
            y = cpu.Allocate(count); t = cpu.Allocate(count);
            mean = cpu.Allocate(n * groups); rstd = cpu.Allocate(n * groups);
            var re = new ReferenceBackend();
            DeviceBuffer R(float[] h) { var r = re.Allocate(h.Length); re.Upload(h, r); return r; }
            var ry = re.Allocate(count);
            re.GroupNormSiluForward(n, c, hw, groups, Eps, R(xh), R(gh), R(bh), ry, re.Allocate(n * groups), re.Allocate(n * groups));
            want = ReferenceBackend.Raw(ry);
        }

        DeviceBuffer Up(float[] h) { var b = cpu.Allocate(h.Length); cpu.Upload(h, b); return b; }
        static float[] F(DeviceBuffer b) => ((CpuBuffer)b).Data;

        public override double Bytes => 8.0 * n * c * hw;

        public override void Run(int variant)
        {
            long count = (long)n * c * hw;
            switch (variant)
            {
                case 1:
                    cpu.GroupNormForward(n, c, hw, groups, Eps, x, gamma, beta, t, mean, rstd);
                    cpu.ActivationForward(Activation.SiLU, 0f, count, t, y);
                    break;
                case 2:
                    cpu.GroupNormForward(n, c, hw, groups, Eps, x, gamma, beta, t, mean, rstd);
                    VectorSilu(F(t), F(y), count);
                    break;
                case 3: cpu.GroupNormSiluForward(n, c, hw, groups, Eps, x, gamma, beta, y, mean, rstd); break;
                default: throw new ArgumentOutOfRangeException(nameof(variant));
            }
        }

        public override double Check(int variant)
        {
            cpu.Fill(y, float.NaN, 0, y.Length); // a variant that skips an element fails
            Run(variant);
            return RelL2(F(y), want);
        }
    }

    /// <summary>Variant 2's activation pass: y = v / (1 + exp(-v)), 8 lanes at a time, parallel over 32K-element chunks.</summary>
    static void VectorSilu(float[] v, float[] y, long count)
    {
        const int chunk = 1 << 15;
        int chunks = (int)((count + chunk - 1) / chunk);
        Parallel.For(0, chunks, ci =>
        {
            int i = ci * chunk, e = (int)System.Math.Min(count, (long)i + chunk);
            for (; i <= e - 8; i += 8)
            {
                var a = Vector256.Create(v.AsSpan(i, 8));
                (a / (Vector256<float>.One + Vector256.Exp(-a))).CopyTo(y.AsSpan(i, 8));
            }
            for (; i < e; i++) y[i] = v[i] / (1f + MathF.Exp(-v[i]));
        });
    }
}
