using System.Numerics;
using Ctmsr.Kernels;
using Ctmsr.Kernels.Cpu;

namespace Ctmsr.Bench.Lab;

/// <summary>
/// The weight gradient of the 3x3 convolutions (stride 1, pad 1) of the x4 model and of the tiny/small models
/// (32-128 channels at 256^2), batch 1 and a few at batch 4: the blocked GEMM on the implicit im2col (dW += dy col(x)^T) against Winograd F(2x2, 3x3)
/// on the same GEMM (<see cref="ConvWinograd"/>'s BackwardWeight). No bias gradient (the same serial sum on both
/// routes). Rate: GFLOP/s of the direct sum (2 Cout Cin 9 P). The float64 answer is the direct sum
/// dW[co, ci, ky, kx] = sum_p dy[co, p] x[ci, p + (ky - 1, kx - 1)] in doubles, here in parallel and vectorised (the
/// reference backend's serial loop would take minutes at 256^2). Time it with DOTNET_TieredCompilation=0: otherwise the
/// variant timed first runs partly on unoptimised (tier-0) code of the shared transforms and looks slower.
/// </summary>
public sealed class WinogradWeightGradLab : LabKernel
{
    public override string Name => "conv-wino-wgrad";
    public override string Math => "dW += conv2d weight gradient(x, dy), 3x3, stride 1, pad 1";
    public override double Tolerance => 1e-5;
    public override bool CountsFlops => true;

    public override IReadOnlyList<LabVariant> Variants { get; } =
    [
        new(1, "gemm bwd-weight", "the blocked GEMM, A = dy, B = col(x)^T packed from the padded input (the route before Winograd)"),
        new(2, "winograd bwd-weight", "Winograd F(2x2, 3x3): 16 NT GEMMs Cout x Cin x tiles between AVX-512 transforms, one per thread (each serial), then dW += M^T Kr (as routed)"),
        new(3, "winograd bwd-weight, GEMMs parallel inside", "variant 2 with the 16 GEMMs one after another, each parallel inside"),
        new(4, "winograd4 bwd-weight", "Winograd F(4x4, 3x3): 36 NT GEMMs Cout x Cin x tiles (one per thread, each serial), then dW += M^T Kr4"),
        new(5, "few-outputs bwd-weight", "ConvFewOutputs.BackwardWeight (1-3 output channels; other shapes fall back to the routes without Winograd): a thread an input channel, its 27 sums in zmm lanes over 16-row blocks, then in doubles"),
    ];

    static readonly ConvShape[] Dims =
    [
        new(1, 384, 16, 16, 384, 3, 1, 1), // first: the cheapest float64 answer (KernelLabTests checks shape 0)
        new(1, 192, 64, 64, 192, 3, 1, 1),
        new(1, 384, 32, 32, 384, 3, 1, 1),
        new(1, 384, 64, 64, 192, 3, 1, 1),
        new(1, 192, 256, 256, 192, 3, 1, 1),
        new(1, 32, 256, 256, 32, 3, 1, 1),
        new(1, 64, 256, 256, 32, 3, 1, 1),
        new(1, 64, 256, 256, 64, 3, 1, 1),
        new(1, 128, 256, 256, 128, 3, 1, 1),
        new(1, 384, 8, 8, 384, 3, 1, 1),
        new(4, 384, 16, 16, 384, 3, 1, 1),
        new(1, 32, 64, 64, 32, 3, 1, 1),
        new(1, 64, 32, 32, 64, 3, 1, 1),
        new(4, 64, 32, 32, 64, 3, 1, 1),
        new(1, 192, 256, 256, 3, 3, 1, 1), // x4's RGB layer
        new(1, 32, 1024, 1024, 3, 3, 1, 1), // tiny's and small's
    ];
    public override IReadOnlyList<string> Shapes { get; } =
        [.. Dims.Select(s => $"{s.N}x{s.Cin}x{s.H}x{s.W} -> {s.Cout}")];

    public override LabCase Prepare(int shape) => new Case(Dims[shape]);

    sealed class Case : LabCase
    {
        readonly ConvShape s;
        readonly float[] x, dy, dw;
        readonly double[] want;

        public Case(ConvShape s)
        {
            this.s = s;
            x = Rand(s.InputLength(), 1); dy = Rand(s.OutputLength(), 4);
            dw = new float[s.WeightLength()];
            want = DirectSum(s, x, dy);
        }

        /// <summary>dW in doubles, one (co, ci) pair per task: for each sample and tap, row by row over the output
        /// positions whose input lies inside the image.</summary>
        static double[] DirectSum(ConvShape s, float[] x, float[] dy)
        {
            int h = s.H, w = s.W, p = h * w, vw = Vector<double>.Count;
            var xd = Array.ConvertAll(x, v => (double)v);
            var dd = Array.ConvertAll(dy, v => (double)v);
            var r = new double[s.WeightLength()];
            Parallel.For(0, s.Cout * s.Cin, pair =>
            {
                int co = pair / s.Cin, ci = pair % s.Cin;
                for (int n = 0; n < s.N; n++)
                {
                    var g = new ReadOnlySpan<double>(dd, (n * s.Cout + co) * p, p);
                    var xc = new ReadOnlySpan<double>(xd, (n * s.Cin + ci) * p, p);
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++)
                        {
                            int ox0 = System.Math.Max(0, 1 - kx), len = System.Math.Min(w, w + 1 - kx) - ox0;
                            var acc = Vector<double>.Zero;
                            double tail = 0;
                            for (int oy = System.Math.Max(0, 1 - ky); oy < System.Math.Min(h, h + 1 - ky); oy++)
                            {
                                var a = g.Slice(oy * w + ox0, len);
                                var b = xc.Slice((oy + ky - 1) * w + ox0 + kx - 1, len);
                                int i = 0;
                                for (; i + vw <= len; i += vw) acc += new Vector<double>(a.Slice(i)) * new Vector<double>(b.Slice(i));
                                for (; i < len; i++) tail += a[i] * b[i];
                            }
                            r[(long)pair * 9 + 3 * ky + kx] += Vector.Sum(acc) + tail;
                        }
                }
            });
            return r;
        }

        public override double Bytes => 4.0 * (s.InputLength() + s.OutputLength());
        public override double Flops => s.Flops;

        public override void Run(int variant)
        {
            var before = CpuConv.Route;
            bool across = CpuConv.WinogradGemmsAcrossThreads;
            CpuConv.Route = variant switch { 1 => ConvRoute.Gemm, 2 or 3 => ConvRoute.Winograd, 4 => ConvRoute.Winograd4, 5 => ConvRoute.FewOutputs, _ => throw new ArgumentOutOfRangeException(nameof(variant)) };
            CpuConv.WinogradGemmsAcrossThreads = variant != 3;
            try { CpuConv.BackwardWeight(s, x, dy, dw, null); }
            finally { CpuConv.Route = before; CpuConv.WinogradGemmsAcrossThreads = across; }
        }

        public override double Check(int variant)
        {
            Array.Clear(dw);
            Run(variant);
            return RelL2(dw, want);
        }
    }
}
