using Ctmsr.Kernels;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Kernels.Reference;

namespace Ctmsr.Bench.Lab;

/// <summary>
/// Window attention on the CPU, qkv [windows, T, 3E], E = heads*d, T = ws^2. Forward: S = scale Q K^T + bias,
/// P = softmax_rows(S) (saved), O = P V; backward: dV = P^T dO, dP = dO V^T, dS = P (dP - rowsum(dP P)) (saved),
/// dQ = scale dS K, dK = scale dS^T Q. Compute-bound: 4 T^2 d flops per (window, head) forward, twice that backward.
/// </summary>
public sealed class AttentionLab : LabKernel
{
    public override string Name => "attention";
    public override string Math => "fwd: P = softmax(scale Q K^T + bias), O = P V; bwd: dV = P^T dO, dS = P (dO V^T - rowsum), dQ = scale dS K, dK = scale dS^T Q";
    public override double Tolerance => 1e-5;
    public override bool CountsFlops => true;

    public override IReadOnlyList<LabVariant> Variants { get; } =
    [
        new(1, "per row", "CpuAttention's unblocked path (the kernel it shipped before, kept for T not a multiple of 16 or no AVX-512): per (window, head) task, each row of S by Vector<float> dot products, P V and the gradients by axpy"),
        new(2, "blocked", "CpuAttention now: Q, K^T (16x16 in-register transposes), V tiles per thread; 4x64 (S, dP) and 8x32 (P V, dS K, P^T dO, dS^T Q) Vector512 register blocks; softmax / dS per 8-row block; own Cody-Waite exp"),
    ];

    // x4 (6 heads x 32) at LR 64: level 0 (64 windows) and level 1 (16); tiny (2 heads x 16) at LR 128 (256 windows)
    static readonly (int Windows, int Ws, int Heads, int D, bool Bwd, string Name)[] Dims =
    [
        (64, 8, 6, 32, false, "x4 L0 64w 6x32 fwd"), (64, 8, 6, 32, true, "x4 L0 64w 6x32 bwd"),
        (16, 8, 6, 32, false, "x4 L1 16w 6x32 fwd"), (16, 8, 6, 32, true, "x4 L1 16w 6x32 bwd"),
        (256, 8, 2, 16, false, "tiny 256w 2x16 fwd"), (256, 8, 2, 16, true, "tiny 256w 2x16 bwd"),
    ];
    public override IReadOnlyList<string> Shapes { get; } = [.. Dims.Select(d => d.Name)];

    public override LabCase Prepare(int shape) => new Case(Dims[shape]);

    sealed class Case : LabCase
    {
        readonly int windows, ws, heads, d;
        readonly bool bwd;
        readonly float scale;
        readonly CpuBackend cpu = new();
        readonly DeviceBuffer qkv, table, probs, output, dOut, dqkv, dScores;
        readonly double[] wantProbs, wantOut, wantDqkv, wantDs;

        public Case((int Windows, int Ws, int Heads, int D, bool Bwd, string Name) s)
        {
            (windows, ws, heads, d, bwd, _) = s;
            int t = ws * ws, e = heads * d, span = 2 * ws - 1;
            scale = 1f / MathF.Sqrt(d);
            long nq = (long)windows * t * 3 * e, np = (long)windows * heads * t * t, no = (long)windows * t * e;
            var hq = Rand(nq, 1, -1.5f, 1.5f); var ht = Rand(span * span * heads, 2); var hdo = Rand(no, 3);
            qkv = Up(hq); table = Up(ht); dOut = Up(hdo);
            probs = cpu.Allocate(np); output = cpu.Allocate(no); dqkv = cpu.Allocate(nq); dScores = cpu.Allocate(np);
            var re = new ReferenceBackend();
            DeviceBuffer R(float[] h) { var b = re.Allocate(h.Length); re.Upload(h, b); return b; }
            var rp = re.Allocate(np); var ro = re.Allocate(no);
            re.WindowAttentionForward(windows, ws, heads, d, scale, R(hq), R(ht), rp, ro);
            wantProbs = ReferenceBackend.Raw(rp); wantOut = ReferenceBackend.Raw(ro);
            // backward from the probabilities the CPU saves (as the tape does); the reference gets the same floats
            cpu.WindowAttentionForward(windows, ws, heads, d, scale, qkv, table, probs, output);
            var hp = new float[np]; cpu.Download(probs, hp);
            var rdq = re.Allocate(nq); var rds = re.Allocate(np);
            re.WindowAttentionBackward(windows, ws, heads, d, scale, R(hq), R(hp), R(hdo), rdq, false, rds);
            wantDqkv = ReferenceBackend.Raw(rdq); wantDs = ReferenceBackend.Raw(rds);
        }

        DeviceBuffer Up(float[] h) { var b = cpu.Allocate(h.Length); cpu.Upload(h, b); return b; }
        static float[] F(DeviceBuffer b) => ((CpuBuffer)b).Data;

        public override double Bytes => 4.0 * (qkv.Length + probs.Length + output.Length);
        public override double Flops => (bwd ? 8.0 : 4.0) * windows * heads * System.Math.Pow(ws, 4) * d;

        public override void Run(int variant)
        {
            switch (variant)
            {
                case 1 when !bwd: CpuAttention.Forward(windows, ws, heads, d, scale, F(qkv), F(table), F(probs), F(output), perRow: true); break;
                case 1: CpuAttention.Backward(windows, ws, heads, d, scale, F(qkv), F(probs), F(dOut), F(dqkv), false, F(dScores), perRow: true); break;
                case 2 when !bwd: cpu.WindowAttentionForward(windows, ws, heads, d, scale, qkv, table, probs, output); break;
                case 2: cpu.WindowAttentionBackward(windows, ws, heads, d, scale, qkv, probs, dOut, dqkv, false, dScores); break;
                default: throw new ArgumentOutOfRangeException(nameof(variant));
            }
        }

        public override double Check(int variant)
        {
            if (!bwd)
            {
                cpu.Fill(probs, float.NaN, 0, probs.Length); cpu.Fill(output, float.NaN, 0, output.Length);
                Run(variant);
                return System.Math.Max(RelL2(F(probs), wantProbs), RelL2(F(output), wantOut));
            }
            // the backward reads the saved probabilities: restore the CPU forward's, which the reference was given
            cpu.WindowAttentionForward(windows, ws, heads, d, scale, qkv, table, probs, output);
            cpu.Fill(dqkv, float.NaN, 0, dqkv.Length); cpu.Fill(dScores, float.NaN, 0, dScores.Length);
            Run(variant);
            return System.Math.Max(RelL2(F(dqkv), wantDqkv), RelL2(F(dScores), wantDs));
        }
    }
}
