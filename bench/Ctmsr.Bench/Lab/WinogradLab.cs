using Ctmsr.Kernels;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Kernels.Reference;

namespace Ctmsr.Bench.Lab;

/// <summary>
/// The x4 model's 3x3 convolutions (stride 1, pad 1, batch 1): the blocked GEMM on the implicit im2col against Winograd
/// F(2x2, 3x3) and F(4x4, 3x3) on the same GEMM, forward and backward data. Rate: GFLOP/s of the direct convolution
/// (2 Cout Cin 9 P), so Winograd's figure is an effective rate (it does 2.25x, or 4x, fewer multiply-adds).
/// </summary>
public sealed class WinogradLab : LabKernel
{
    public override string Name => "conv-wino";
    public override string Math => "y = conv2d(x, w) + b and dx = conv2d^T(dy, w), 3x3, stride 1, pad 1";
    public override double Tolerance => 1e-5;
    public override bool CountsFlops => true;

    public override IReadOnlyList<LabVariant> Variants { get; } =
    [
        new(1, "gemm fwd", "forward, the blocked GEMM (12 x 32 micro-kernel, B packed from the implicit im2col), as routed now"),
        new(2, "winograd fwd", "forward, Winograd F(2x2, 3x3): 16 GEMMs Cout x tiles x Cin between AVX-512 transforms, one after another, each parallel inside"),
        new(3, "winograd fwd, 1M-float bands", "forward, Winograd with bands capped at 1M floats of V and M (CpuConv.BandFloats), however few tiles"),
        new(4, "gemm bwd-data", "backward data, the blocked GEMM on the flipped, transposed kernel"),
        new(5, "winograd bwd-data", "backward data, Winograd on the flipped, transposed kernel read in place by the weight transform (GEMMs across threads), as routed now"),
        new(6, "winograd fwd, GEMMs across threads", "forward, Winograd with its 16 GEMMs one per thread (each serial) instead of each parallel inside"),
        new(7, "winograd fwd, 1M-float bands, GEMMs across threads", "variants 3 and 6 together"),
        new(8, "winograd4 fwd", "forward, Winograd F(4x4, 3x3): 36 GEMMs Cout x tiles x Cin (GEMMs across threads), 1.78x fewer multiply-adds than F(2x2, 3x3)"),
        new(9, "winograd4 bwd-data", "backward data, Winograd F(4x4, 3x3) on the flipped, transposed kernel read in place (GEMMs across threads)"),
        new(10, "winograd fwd, all channels", "variant 6 (F(2x2, 3x3), GEMMs across threads) with CpuConv.WinogradCoutBlocks off: all the weights transformed first, then each position's GEMM over all output channels"),
        new(11, "winograd4 fwd, all channels", "variant 8 (F(4x4, 3x3)) with CpuConv.WinogradCoutBlocks off"),
        new(12, "winograd bwd-data, flipped copy", "variant 5 with CpuConv.WinogradTransposedInPlace off: the flipped, transposed kernel copied first (what it ran before)"),
        new(13, "winograd4 bwd-data, flipped copy", "variant 9 with CpuConv.WinogradTransposedInPlace off"),
    ];

    static readonly ConvShape[] Dims =
    [
        new(1, 384, 16, 16, 384, 3, 1, 1), // first: the cheapest float64 reference (KernelLabTests checks shape 0)
        new(1, 192, 64, 64, 192, 3, 1, 1),
        new(1, 384, 32, 32, 384, 3, 1, 1),
        new(1, 384, 64, 64, 192, 3, 1, 1),
        new(1, 192, 128, 128, 192, 3, 1, 1),
        new(1, 32, 128, 128, 128, 3, 1, 1),
        new(1, 384, 8, 8, 384, 3, 1, 1), // x4's deepest level at LR 64: 16 tiles, the transformed weights cost as much as the products
        new(1, 384, 12, 12, 384, 3, 1, 1), // 36 tiles: between the two
        new(4, 384, 8, 8, 384, 3, 1, 1), // the deepest level at batch 4: 64 tiles share the transformed weights
    ];
    public override IReadOnlyList<string> Shapes { get; } =
        [.. Dims.Select(s => $"{s.N}x{s.Cin}x{s.H}x{s.W} -> {s.Cout}")];

    public override LabCase Prepare(int shape) => new Case(Dims[shape]);

    sealed class Case : LabCase
    {
        readonly ConvShape s;
        readonly float[] x, w, b, y, dy, dx;
        readonly double[] wantY, wantDx;

        public Case(ConvShape s)
        {
            this.s = s;
            x = Rand(s.InputLength(), 1); w = Rand(s.WeightLength(), 2, -0.1f, 0.1f); b = Rand(s.Cout, 3);
            dy = Rand(s.OutputLength(), 4);
            y = new float[s.OutputLength()];
            dx = new float[s.InputLength()];
            var re = new ReferenceBackend();
            DeviceBuffer Up(float[] v) { var d = re.Allocate(v.Length); re.Upload(v, d); return d; }
            var ry = re.Allocate(y.Length);
            re.Conv2dForward(s, Up(x), Up(w), Up(b), ry);
            wantY = ReferenceBackend.Raw(ry);
            var rdx = re.Allocate(dx.Length);
            re.Conv2dBackwardData(s, Up(dy), Up(w), rdx, false);
            wantDx = ReferenceBackend.Raw(rdx);
        }

        public override double Bytes => 4.0 * (s.InputLength() + s.OutputLength());
        public override double Flops => s.Flops;

        public override void Run(int variant)
        {
            var route = variant switch { 1 or 4 => ConvRoute.Gemm, 8 or 9 or 11 or 13 => ConvRoute.Winograd4, _ => ConvRoute.Winograd };
            var before = CpuConv.Route;
            bool across = CpuConv.WinogradGemmsAcrossThreads;
            CpuConv.Route = route;
            if (variant is 3 or 7) CpuConv.BandFloats = 1 << 20;
            CpuConv.WinogradGemmsAcrossThreads = variant is 5 or 6 or 7 or 8 or 9 or 10 or 11 or 12 or 13;
            CpuConv.WinogradTransposedInPlace = variant is not (12 or 13);
            CpuConv.WinogradCoutBlocks = variant is not (10 or 11);
            try
            {
                if (variant is 1 or 2 or 3 or 6 or 7 or 8 or 10 or 11) CpuConv.Forward(s, x, w, b, y);
                else if (variant is 4 or 5 or 9 or 12 or 13) CpuConv.BackwardData(s, dy, w, dx, false);
                else throw new ArgumentOutOfRangeException(nameof(variant));
            }
            finally { CpuConv.Route = before; CpuConv.BandFloats = CpuConv.DefaultBandFloats; CpuConv.WinogradGemmsAcrossThreads = across; CpuConv.WinogradCoutBlocks = true; CpuConv.WinogradTransposedInPlace = true; }
        }

        public override double Check(int variant)
        {
            Array.Fill(y, float.NaN);
            Array.Fill(dx, float.NaN);
            Run(variant);
            return variant is 4 or 5 or 9 or 12 or 13 ? RelL2(dx, wantDx) : RelL2(y, wantY);
        }
    }
}
