using Ctmsr.Kernels;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Kernels.Reference;

namespace Ctmsr.Bench.Lab;

/// <summary>
/// The perceptual networks' strided and large-kernel convolutions (ResNet18 stem and stage entries, LPIPS-Alex conv1
/// and conv2 at the x4 model's 256^2 HR crop), forward and backward data. Rate: GFLOP/s of the convolution.
/// </summary>
public sealed class StridedConvLab : LabKernel
{
    public override string Name => "conv-strided";
    public override string Math => "y = conv2d(x, w) + b (fwd) or dx = conv2d^T(dy, w) (bwd-data), NCHW, stride s, zero padding";
    public override double Tolerance => 1e-5;
    public override bool CountsFlops => true;

    public override IReadOnlyList<LabVariant> Variants { get; } =
    [
        new(1, "im2col", "strided: explicit im2col then the GEMM / direct kernel; backward data GEMM then col2im (StridedPhases off), what CpuConv ran before"),
        new(2, "phases", "strided: the input split into stride phases, taps as shifts of a phase plane (forward); backward data per output phase (StridedPhases on)"),
        new(3, "implicit", "stride 1: never an explicit im2col (Im2ColMinWaste 1): the padded-width implicit path, and backward data as the flipped forward"),
        new(4, "phases-direct", "variant 2 with Route = Direct: the direct kernel whatever the output channels"),
        new(5, "phases-serial", "variant 2 with PhasesAcrossThreads off: backward data's phases one after another, each parallel inside"),
        new(6, "fixed-tasks", "variant 2 with CpuConv.DirectBalancedTasks off: the direct kernel in tasks of 32 pixel panels (what it ran before)"),
        new(7, "phases-gemm", "variant 2 with Route = Gemm: the blocked GEMM (12 x 32) whatever the output channels"),
        new(8, "all-positions", "variant 2 with DirectRowVectors off: the direct kernel over every padded-width position, not each row's 16-pixel vectors (what it ran before)"),
    ];

    static readonly (ConvShape S, bool Bwd)[] Dims =
    [
        (new(1, 3, 256, 256, 64, 7, 2, 3), false),
        (new(1, 3, 256, 256, 64, 7, 2, 3), true),
        (new(1, 64, 64, 64, 128, 3, 2, 1), false),
        (new(1, 64, 64, 64, 128, 3, 2, 1), true),
        (new(1, 256, 16, 16, 512, 3, 2, 1), false),
        (new(1, 256, 16, 16, 512, 3, 2, 1), true),
        (new(1, 3, 256, 256, 64, 11, 4, 2), false),
        (new(1, 3, 256, 256, 64, 11, 4, 2), true),
        (new(1, 64, 31, 31, 192, 5, 1, 2), false),
        (new(1, 64, 31, 31, 192, 5, 1, 2), true),
    ];
    public override IReadOnlyList<string> Shapes { get; } =
        [.. Dims.Select(d => $"{d.S.N}x{d.S.Cin}x{d.S.H}x{d.S.W} -> {d.S.Cout} {d.S.K}x{d.S.K}/{d.S.Stride} {(d.Bwd ? "bwd-data" : "fwd")}")];

    public override LabCase Prepare(int shape) => new Case(Dims[shape].S, Dims[shape].Bwd);

    sealed class Case : LabCase
    {
        readonly ConvShape s;
        readonly bool bwd;
        readonly float[] x, w, b, y;
        readonly double[] want;

        public Case(ConvShape s, bool bwd)
        {
            this.s = s; this.bwd = bwd;
            w = Rand(s.WeightLength(), 2, -0.1f, 0.1f); b = Rand(s.Cout, 3);
            var re = new ReferenceBackend();
            DeviceBuffer Up(float[] v) { var d = re.Allocate(v.Length); re.Upload(v, d); return d; }
            if (bwd)
            {
                x = Rand(s.OutputLength(), 1); y = new float[s.InputLength()];
                var rdx = re.Allocate(y.Length);
                re.Conv2dBackwardData(s, Up(x), Up(w), rdx, false);
                want = ReferenceBackend.Raw(rdx);
            }
            else
            {
                x = Rand(s.InputLength(), 1); y = new float[s.OutputLength()];
                var ry = re.Allocate(y.Length);
                re.Conv2dForward(s, Up(x), Up(w), Up(b), ry);
                want = ReferenceBackend.Raw(ry);
            }
        }

        public override double Bytes => 4.0 * (s.InputLength() + s.OutputLength());
        public override double Flops => s.Flops;

        public override void Run(int variant)
        {
            var before = CpuConv.StridedPhases;
            double waste = CpuConv.Im2ColMinWaste;
            var route = CpuConv.Route;
            CpuConv.StridedPhases = variant switch { 1 => false, 2 or 3 or 4 or 5 or 6 or 7 or 8 => true, _ => throw new ArgumentOutOfRangeException(nameof(variant)) };
            if (variant == 4) CpuConv.Route = ConvRoute.Direct;
            if (variant == 7) CpuConv.Route = ConvRoute.Gemm;
            if (variant == 8) CpuConv.DirectRowVectors = false;
            if (variant == 5) CpuConv.PhasesAcrossThreads = false;
            if (variant == 3) CpuConv.Im2ColMinWaste = 1;
            if (variant == 6) CpuConv.DirectBalancedTasks = false;
            try
            {
                if (bwd) CpuConv.BackwardData(s, x, w, y, false);
                else CpuConv.Forward(s, x, w, b, y);
            }
            finally { CpuConv.StridedPhases = before; CpuConv.Im2ColMinWaste = waste; CpuConv.Route = route; CpuConv.PhasesAcrossThreads = true; CpuConv.DirectBalancedTasks = true; CpuConv.DirectRowVectors = true; }
        }

        public override double Check(int variant)
        {
            Array.Fill(y, float.NaN);
            Run(variant);
            return RelL2(y, want);
        }
    }
}
