using Ctmsr.Kernels;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Kernels.Reference;

namespace Ctmsr.Bench.Lab;

/// <summary>
/// GELU forward on the CPU (the Swin MLP's activation), y = 0.5 x (1 + erf(x / sqrt 2)) elementwise over the hidden
/// tensor [tokens, 4 E]. Floor: read x, write y (8 bytes per element); the scalar form is bound by its Math.Exp calls.
/// </summary>
public sealed class GeluLab : LabKernel
{
    public override string Name => "gelu";
    public override string Math => "y = 0.5 x (1 + erf(x / sqrt 2)), erf from the Chebyshev-fitted erfc (abs error < 1.2e-7)";
    public override double Tolerance => 1e-6;

    public override IReadOnlyList<LabVariant> Variants { get; } =
    [
        new(1, "scalar", "what CpuBackend ran before: one element at a time, erf in double with Math.Exp"),
        new(2, "vector", "8 floats at a time, the same erf in Vector256<double> halves with Vector256.Exp (the backend before issue 14's last pass; still its form without AVX-512)"),
        new(3, "float lanes", "CpuActivation.GeluForward(wide: true), the backend with AVX-512: 16 floats, the same erfc formula in float with FMAs and Vector512.Exp"),
    ];

    // the Swin MLP hidden tensor: tiny/small (E 32 -> 128) at LR 64 and 256, x4 (E 192 -> 768) at LR 64
    static readonly (long Count, string Shape)[] Dims = [(4096L * 128, "64^2 x 128"), (65536L * 128, "256^2 x 128"), (4096L * 768, "64^2 x 768")];
    public override IReadOnlyList<string> Shapes { get; } = [.. Dims.Select(d => d.Shape)];

    public override LabCase Prepare(int shape) => new Case(Dims[shape].Count);

    sealed class Case : LabCase
    {
        readonly long count;
        readonly CpuBackend cpu = new();
        readonly DeviceBuffer x, y;
        readonly double[] want;

        public Case(long count)
        {
            this.count = count;
            var xh = Rand(count, 1, -4, 4);
            x = cpu.Allocate(count); cpu.Upload(xh, x);
            y = cpu.Allocate(count);
            var re = new ReferenceBackend();
            var rx = re.Allocate(count); var ry = re.Allocate(count);
            re.Upload(xh, rx);
            re.ActivationForward(Activation.Gelu, 0f, count, rx, ry);
            want = ReferenceBackend.Raw(ry);
        }

        static float[] F(DeviceBuffer b) => ((CpuBuffer)b).Data;
        public override double Bytes => 8.0 * count;

        public override void Run(int variant)
        {
            switch (variant)
            {
                case 1: Scalar(F(x), F(y), count); break;
                case 2: Chunked(count, (s, e) => CpuActivation.GeluForward(F(x), F(y), s, e, wide: false)); break;
                case 3: cpu.ActivationForward(Activation.Gelu, 0f, count, x, y); break;
                default: throw new ArgumentOutOfRangeException(nameof(variant));
            }
        }

        public override double Check(int variant)
        {
            cpu.Fill(y, float.NaN, 0, y.Length);
            Run(variant);
            return RelL2(F(y), want);
        }
    }

    /// <summary>[s, e) chunks of 32K elements in parallel, as the backend runs elementwise ops.</summary>
    static void Chunked(long count, Action<int, int> body)
    {
        const int chunk = 1 << 15;
        Parallel.For(0, (int)((count + chunk - 1) / chunk), ci => body(ci * chunk, (int)System.Math.Min(count, (long)ci * chunk + chunk)));
    }

    /// <summary>Variant 1: the scalar loop, parallel over 32K-element chunks as the backend's.</summary>
    static void Scalar(float[] x, float[] y, long count)
    {
        const int chunk = 1 << 15;
        Parallel.For(0, (int)((count + chunk - 1) / chunk), ci =>
        {
            int e = (int)System.Math.Min(count, (long)ci * chunk + chunk);
            for (int i = ci * chunk; i < e; i++) y[i] = 0.5f * x[i] * (1f + Erf(x[i] * 0.70710678118654752f));
        });
    }

    static float Erf(float xf)
    {
        double v = xf, ax = System.Math.Abs(v);
        double t = 1.0 / (1.0 + 0.5 * ax);
        double erfc = t * System.Math.Exp(-ax * ax - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
            t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        double r = 1 - erfc;
        return (float)(v < 0 ? -r : r);
    }
}
