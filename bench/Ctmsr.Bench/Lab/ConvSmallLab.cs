using Ctmsr.Kernels;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Kernels.Reference;

namespace Ctmsr.Bench.Lab;

/// <summary>
/// Conv2d forward on the CPU for few channels over large maps (the tiny and small models at a photo's size), with one
/// x4 shape to show the blocked GEMM's shapes are not slowed. Rate: GFLOP/s of the convolution (2 Cout Cin K^2 P).
/// </summary>
public sealed class ConvSmallLab : LabKernel
{
    public override string Name => "conv-small";
    public override string Math => "y = conv2d(x, w) + b, NCHW, stride 1, zero padding (K - 1) / 2";
    public override double Tolerance => 1e-5;
    public override bool CountsFlops => true;

    public override IReadOnlyList<LabVariant> Variants { get; } =
    [
        new(1, "gemm", "the blocked GEMM (12 x 32 micro-kernel, B packed from the implicit im2col), what CpuConv ran before"),
        new(2, "direct", "ConvDirect: W packed once in 8-channel panels, B read unpacked from the padded input, 8 x 48 pixels in registers"),
        new(3, "auto", "CpuConv.Forward as routed now (DirectMaxCout)"),
    ];

    static readonly ConvShape[] Dims =
    [
        new(1, 32, 256, 256, 32, 3, 1, 1),
        new(1, 64, 128, 128, 64, 3, 1, 1),
        new(1, 32, 1024, 1024, 32, 3, 1, 1),
        new(1, 64, 256, 256, 32, 3, 1, 1),
        new(1, 32, 256, 256, 96, 1, 1, 0),
        new(1, 128, 256, 256, 32, 1, 1, 0),
        new(1, 192, 64, 64, 192, 3, 1, 1),
    ];
    public override IReadOnlyList<string> Shapes { get; } =
        [.. Dims.Select(s => $"{s.N}x{s.Cin}x{s.H}x{s.W} -> {s.Cout} {s.K}x{s.K}")];

    public override LabCase Prepare(int shape) => new Case(Dims[shape]);

    sealed class Case : LabCase
    {
        readonly ConvShape s;
        readonly float[] x, w, b, y;
        readonly double[] want;

        public Case(ConvShape s)
        {
            this.s = s;
            x = Rand(s.InputLength(), 1); w = Rand(s.WeightLength(), 2, -0.1f, 0.1f); b = Rand(s.Cout, 3);
            y = new float[s.OutputLength()];
            var re = new ReferenceBackend();
            DeviceBuffer Up(float[] v) { var d = re.Allocate(v.Length); re.Upload(v, d); return d; }
            var ry = re.Allocate(y.Length);
            re.Conv2dForward(s, Up(x), Up(w), Up(b), ry);
            want = ReferenceBackend.Raw(ry);
        }

        public override double Bytes => 4.0 * (s.InputLength() + s.OutputLength());
        public override double Flops => s.Flops;

        public override void Run(int variant)
        {
            var route = variant switch
            {
                1 => ConvRoute.Gemm,
                2 => ConvRoute.Direct,
                3 => ConvRoute.Auto,
                _ => throw new ArgumentOutOfRangeException(nameof(variant)),
            };
            var before = CpuConv.Route;
            CpuConv.Route = route;
            try { CpuConv.Forward(s, x, w, b, y); }
            finally { CpuConv.Route = before; }
        }

        public override double Check(int variant)
        {
            Array.Fill(y, float.NaN);
            Run(variant);
            return RelL2(y, want);
        }
    }
}
