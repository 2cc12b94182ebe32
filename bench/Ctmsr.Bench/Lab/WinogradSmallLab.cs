using Ctmsr.Kernels;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Kernels.Reference;

namespace Ctmsr.Bench.Lab;

/// <summary>
/// The tiny and small models' 3x3 convolutions (stride 1, pad 1, batch 1, 3-96 channels, 128^2-1024^2 maps): the direct
/// kernel against Winograd F(2x2, 3x3) on the direct kernel (ConvWinogradSmall), forward and backward data. Rate:
/// GFLOP/s of the direct convolution (2 Cout Cin 9 P), so Winograd's figure is an effective rate.
/// </summary>
public sealed class WinogradSmallLab : LabKernel
{
    public override string Name => "conv-wino-small";
    public override string Math => "y = conv2d(x, w) + b and dx = conv2d^T(dy, w), 3x3, stride 1, pad 1, few channels";
    public override double Tolerance => 1e-5;
    public override bool CountsFlops => true;

    public override IReadOnlyList<LabVariant> Variants { get; } =
    [
        new(1, "direct fwd", "forward, the direct kernel (8 channels x 48 pixels, padded-width implicit im2col), as routed before"),
        new(2, "winograd-small fwd", "forward, Winograd F(2x2, 3x3): 16 products Cout x tiles x Cin on the direct kernel, one 48-tile piece of a tile row at a time in per-worker buffers"),
        new(4, "direct bwd-data", "backward data, the direct kernel on the flipped, transposed kernel"),
        new(5, "winograd-small bwd-data", "backward data, Winograd on the direct kernel, flipped, transposed kernel"),
        new(6, "auto fwd", "forward, CpuConv as routed now"),
        new(7, "few-outputs fwd", "forward, ConvFewOutputs (1-3 output channels; on other shapes Route = FewOutputs falls back to the non-Winograd routes): 3 channels x 2 rows x 32 pixels in registers, the input rows read in place, neighbours by lane shifts"),
    ];

    static readonly ConvShape[] Dims =
    [
        new(1, 32, 64, 64, 32, 3, 1, 1), // first: the cheapest float64 reference (KernelLabTests checks shape 0)
        new(1, 32, 256, 256, 32, 3, 1, 1),
        new(1, 64, 128, 128, 64, 3, 1, 1),
        new(1, 32, 128, 128, 64, 3, 1, 1),
        new(1, 96, 256, 256, 32, 3, 1, 1),
        new(1, 51, 256, 256, 32, 3, 1, 1),
        new(1, 128, 128, 128, 64, 3, 1, 1),
        new(1, 32, 512, 512, 32, 3, 1, 1),
        new(1, 32, 1024, 1024, 32, 3, 1, 1),
        new(1, 32, 1024, 1024, 3, 3, 1, 1),
        new(1, 16, 256, 256, 16, 3, 1, 1),
        new(1, 8, 256, 256, 8, 3, 1, 1),
        new(1, 192, 256, 256, 3, 3, 1, 1),
        new(1, 32, 256, 256, 3, 3, 1, 1),
        new(1, 16, 256, 256, 3, 3, 1, 1),
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
            var before = CpuConv.Route;
            CpuConv.Route = variant switch
            {
                1 or 4 => ConvRoute.Direct,
                2 or 5 => ConvRoute.WinogradSmall,
                6 => ConvRoute.Auto,
                7 => ConvRoute.FewOutputs,
                _ => throw new ArgumentOutOfRangeException(nameof(variant)),
            };
            try
            {
                if (variant is 4 or 5) CpuConv.BackwardData(s, dy, w, dx, false);
                else CpuConv.Forward(s, x, w, b, y);
            }
            finally { CpuConv.Route = before; }
        }

        public override double Check(int variant)
        {
            Array.Fill(y, float.NaN);
            Array.Fill(dx, float.NaN);
            Run(variant);
            return variant is 4 or 5 ? RelL2(dx, wantDx) : RelL2(y, wantY);
        }
    }
}
