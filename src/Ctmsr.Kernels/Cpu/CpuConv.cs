using System.Buffers;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// Conv2d on host arrays, NCHW, weight [Cout, Cin, K, K], zero padding, one GEMM per sample (parallel inside):
///   y[n] (Cout x P) = W (Cout x Cin K K) * col(x[n]) (Cin K K x P), P = OH * OW.
/// 1x1 stride 1 pad 0: col(x) is x itself, a direct GEMM. Stride 1 otherwise: implicit im2col on a zero-padded
/// copy of the input: in the padded-width output layout (OH x Wp, Wp = W + 2 pad, columns ox >= OW discarded) every
/// col row is a shifted contiguous slice of the padded input, so the GEMM packs B straight from it. Strides > 1 do the
/// same on the input split into its stride phases (plane (a, b) holds xpad[st i + a, st j + b]; tap (ky, kx) is plane
/// (ky % st, kx % st) shifted by (ky / st, kx / st); UsePhases). Small images (where the discarded columns would cost
/// more than ~10 %) and the strided shapes UsePhases declines build an explicit im2col in pooled scratch.
/// Strided backward data with enough input channels runs per output phase (BackwardDataPhases: each phase of dx is a
/// stride-1 correlation of dy with a sub-kernel), else as a GEMM and col2im.
/// Backward data at stride 1 is a forward conv of dy with the flipped, transposed weight and pad K - 1 - pad;
/// backward weight is dW += dy * col(x)^T with the same col layouts (transposed packing). 3x3 stride-1 pad-1 forward and
/// backward data with enough channels run as Winograd F(2x2, 3x3) instead (<see cref="ConvWinograd"/>, UseWinograd; at
/// most 64 output channels <see cref="ConvWinogradSmall"/>, UseWinogradSmall), and so does the weight gradient
/// (UseWinogradWeightGrad: its own measured bounds); on maps of 64 or more 4x4 tiles the GEMM-based Winograd is
/// F(4x4, 3x3) (UseWinograd4, UseWinogradWeightGrad4).
/// </summary>
public static unsafe class CpuConv
{
    static void Validate(in ConvShape s, string name, float[] a, long need) => s.CheckOperand(name, a.LongLength, need);

    static bool Pointwise(in ConvShape s) => s.K == 1 && s.Stride == 1 && s.Pad == 0;

    /// <summary>Which GEMM the forward (and the stride-1 backward data, a forward conv) runs; Auto chooses by shape.
    /// Settable so that the kernel lab and tests can run either path on any shape; the environment variable
    /// CTMSR_CONV_ROUTE (auto, gemm, direct, winograd, winogradsmall, winograd4, fewoutputs) sets it for a whole process, for before/after timings of a model.</summary>
    public static ConvRoute Route { get; set; } = RouteFromEnvironment();

    static ConvRoute RouteFromEnvironment()
    {
        string? v = Environment.GetEnvironmentVariable("CTMSR_CONV_ROUTE");
        if (string.IsNullOrEmpty(v)) return ConvRoute.Auto;
        if (Enum.TryParse<ConvRoute>(v, ignoreCase: true, out var r) && Enum.IsDefined(r)) return r;
        Console.Error.WriteLine($"CTMSR_CONV_ROUTE='{v}' is not auto, gemm, direct, winograd, winogradsmall, winograd4 or fewoutputs: ignored (convolutions choose by shape)");
        return ConvRoute.Auto;
    }

    /// <summary>Output channels up to which Auto takes the direct kernel (<see cref="ConvDirect"/>): at 32-64 channels the
    /// blocked GEMM's packed B panels serve too few rows to pay for their packing (lab conv-small: 1.15-1.45x on the
    /// tiny/small 3x3 shapes; the 96-channel 1x1 was slower direct). Its summation order differs from the GEMM's, which
    /// rounds the odd network input within ~1e-7 of a ReLU/LeakyReLU kink to the other side; the gradient tests against
    /// float64 take the subgradient there from the float64 run (Ctmsr.Model.Verification.KinkAlignedBackend). Force either route with
    /// Route or CTMSR_CONV_ROUTE.</summary>
    public const int DirectMaxCout = 64;

    static bool UseDirect(in ConvShape s) => ConvDirect.Supported && Route switch
    {
        ConvRoute.Direct => true,
        ConvRoute.Gemm or ConvRoute.Winograd => false,
        _ => s.Cout <= DirectMaxCout || WideKernelDirect(s),
    };

    /// <summary>Output channels up to which Auto also takes the direct kernel for a stride-1 convolution of a 5x5 or larger
    /// kernel on the padded-width path (<see cref="WideKernelDirect"/>).</summary>
    public const int DirectWideMaxCout = 192;

    /// <summary>Stride 1, K >= 5, at most <see cref="DirectWideMaxCout"/> outputs, the implicit padded-width path and
    /// DirectRowVectors: the direct kernel computes each row's 16-pixel vectors (31 -> 32 columns on LPIPS-Alex conv2's
    /// 31^2 map) where the GEMM computes every padded position (35) and packs B for its K^2 Cin-long reduction (lab
    /// conv-strided variant 4 against 2, one thread: 98-99 against 84-86 GFLOP/s at 64 -> 192 channels, 5x5 on 31^2).
    /// Other shapes were not measured.</summary>
    static bool WideKernelDirect(in ConvShape s) =>
        s.Stride == 1 && s.K >= 5 && s.Cout <= DirectWideMaxCout && DirectRowVectors && !UseIm2Col(s);

    /// <summary>Whether the direct kernel (<see cref="ConvDirect"/>) splits the pixel panels into a multiple of the thread count of equal tasks
    /// (default), rather than tasks of 32 pixel panels: 23 panels (LPIPS-Alex conv2's backward data)
    /// made one task, so one thread, and 86 (AlexNet conv1) three tasks on two threads. Settable for the kernel lab.</summary>
    public static bool DirectBalancedTasks { get; set; } = true;

    /// <summary>Whether the direct kernel on a padded-width layout computes only each output row's 16-pixel vectors
    /// (<see cref="ConvDirect.RunRows"/>, default) rather than every padded position. Settable for the kernel lab.</summary>
    public static bool DirectRowVectors { get; set; } = true;

    /// <summary>Whether Winograd's 16 GEMMs of a band run one per thread, each serial (default while there are at most 16
    /// threads: one fork-join a band instead of 16, and each GEMM's operands stay in one core's cache; lab conv-wino
    /// variant 6 against 2), rather than one after another, each parallel inside. The weight gradient's 16 GEMMs follow it
    /// too. Settable for the kernel lab.</summary>
    public static bool WinogradGemmsAcrossThreads { get; set; } = CpuThreads.Limit <= 16;

    /// <summary>Tiles a band's GEMMs must reduce over (the whole band: tiles of all the samples that share it) for Auto to
    /// take the Winograd weight gradient: below, the 16 Cout x Cin sums are read and written for too few products (lab
    /// conv-wino-wgrad at 384 channels: 0.4x the GEMM route's speed at 16 tiles (8^2), 0.95x at 64 (16^2), 1.2x at 256
    /// (4 samples of 16^2); 128 was not measured).</summary>
    public const int WinogradWeightGradMinTiles = 256;

    /// <summary>Whether the weight gradient runs as Winograd F(2x2, 3x3) (<see cref="ConvWinograd.BackwardWeight"/>): 3x3,
    /// stride 1, pad 1, AVX-512, and forced (Route or CTMSR_CONV_ROUTE=winograd) or, under Auto, Cin and Cout >= 32 and a
    /// band of at least <see cref="WinogradWeightGradMinTiles"/> tiles. Unlike the forward, 32-64 output channels qualify:
    /// the weight gradient has no direct kernel, and Winograd took 1.04-1.6x less time than the GEMM route at 32-128
    /// channels, 32^2-256^2 maps, and 1.5x less at the x4 model's 192-384 channels, 32^2-256^2 (lab conv-wino-wgrad,
    /// medians of 3 with DOTNET_TieredCompilation=0 on the shared 2-core machine). Fewer channels were not measured. Its 16
    /// GEMMs go across threads as the forward's (WinogradGemmsAcrossThreads: lab variant 2 against 3, as fast or up to
    /// 1.3x faster, except 64 channels at 32^2, 0.85x).</summary>
    static bool UseWinogradWeightGrad(in ConvShape s) => ConvWinograd.Supported && ConvWinograd.Fits(s) && Route switch
    {
        ConvRoute.Winograd or ConvRoute.Winograd4 => true,
        ConvRoute.Auto => s.Cin >= WinogradMinCin && s.Cout >= WinogradMinCin && ConvWinograd.WeightGradBandTiles(s) >= WinogradWeightGradMinTiles,
        _ => false,
    };

    /// <summary>4x4 tiles a band's 36 GEMMs must reduce over for Auto to take the F(4x4, 3x3) weight gradient: each band
    /// reads and writes 36 Cout x Cin sums, 2.25x F(2x2, 3x3)'s 16, for a quarter of its tiles. Lab conv-wino-wgrad, ms
    /// F(2x2, 3x3) / F(4x4, 3x3): 192 -> 192 at 64^2 (256 tiles) 13.5 / 11.1, 384 -> 192 at 64^2 35.2 or 21.7 / 16.0,
    /// 192 -> 192 at 256^2 194 / 121; 384 -> 384 at 32^2 (64 tiles) 12.9 / 13.5, on a slower machine state 26-32 / 46-52;
    /// 4 x 384 -> 384 at 16^2 (64) 39 / 56.</summary>
    public const int Winograd4WeightGradMinTiles = 256;

    /// <summary>Whether a weight gradient Winograd runs (UseWinogradWeightGrad) takes F(4x4, 3x3)
    /// (<see cref="ConvWinograd.BackwardWeight4"/>): forced (Route or CTMSR_CONV_ROUTE=winograd4) or, under Auto, a band
    /// of at least <see cref="Winograd4WeightGradMinTiles"/> 4x4 tiles.</summary>
    static bool UseWinogradWeightGrad4(in ConvShape s) => UseWinogradWeightGrad(s) && Route switch
    {
        ConvRoute.Winograd4 => true,
        ConvRoute.Auto => ConvWinograd.WeightGradBandTiles(s, true) >= Winograd4WeightGradMinTiles,
        _ => false,
    };

    /// <summary>Whether <see cref="BackwardWeight"/> of <paramref name="s"/> runs as Winograd F(4x4, 3x3) under the current Route (for tests).</summary>
    public static bool WeightGradTakesWinograd4(in ConvShape s) => UseWinogradWeightGrad4(s);

    /// <summary>Input channels from which Auto takes Winograd F(2x2, 3x3) for a 3x3 stride-1 pad-1 convolution with more
    /// than <see cref="DirectMaxCout"/> output channels (lab conv-wino: 1.3-2x less CPU time than the GEMM route at
    /// 32-384 channels, 16^2-256^2 maps; fewer input channels were not measured).</summary>
    public const int WinogradMinCin = 32;

    /// <summary>2x2 output tiles a sample from which Auto takes Winograd: on smaller maps transforming the weights (once a
    /// call, 16 products a channel pair) and the short GEMMs (one a band, a sample's tiles wide) cost more than the
    /// products save. Lab conv-wino, 384 -> 384, ms GEMM route / Winograd, forward and backward data: 8^2 (16 tiles)
    /// 2.8 / 5.7 and 4.0 / 6.5; 12^2 (36) 3.9 / 4.5 and 4.8 / 5.7; 16^2 (64) 10.2 / 8.3 and 10.3 / 10.5; batch 4 at 8^2
    /// 11.3 / 13.9 and 15.8 / 15.7.</summary>
    public const int WinogradMinTiles = 64;

    /// <summary>Whether a convolution runs as Winograd F(2x2, 3x3) (<see cref="ConvWinograd"/>): 3x3, stride 1, pad 1,
    /// AVX-512, and forced (Route or CTMSR_CONV_ROUTE=winograd) or, under Auto, Cin >= WinogradMinCin, Cout >
    /// DirectMaxCout and at least WinogradMinTiles tiles a sample. Other shapes keep their routes.</summary>
    static bool UseWinograd(in ConvShape s) => ConvWinograd.Supported && ConvWinograd.Fits(s) && Route switch
    {
        ConvRoute.Winograd or ConvRoute.Winograd4 => true,
        ConvRoute.Auto => s.Cin >= WinogradMinCin && s.Cout > DirectMaxCout && (long)((s.H + 1) / 2) * ((s.W + 1) / 2) >= WinogradMinTiles,
        _ => false,
    };

    /// <summary>4x4 output tiles a sample from which Auto takes F(4x4, 3x3) for a convolution it runs as Winograd
    /// (UseWinograd): each call transforms the weights into 36 Cout x Cin matrices, 9 multiply-adds a pair and position,
    /// against 36 a tile and pair and position in the GEMMs, so few tiles leave too little to amortise it.</summary>
    public const int Winograd4MinTiles = 64;

    /// <summary>Whether a convolution Winograd runs (UseWinograd) takes F(4x4, 3x3) (<see cref="ConvWinograd.Forward4"/>)
    /// rather than F(2x2, 3x3): forced (Route or CTMSR_CONV_ROUTE=winograd4) or, under Auto, at least
    /// <see cref="Winograd4MinTiles"/> 4x4 tiles a sample.</summary>
    static bool UseWinograd4(in ConvShape s) => UseWinograd(s) && Route switch
    {
        ConvRoute.Winograd4 => true,
        ConvRoute.Auto => (long)((s.H + 3) / 4) * ((s.W + 3) / 4) >= Winograd4MinTiles,
        _ => false,
    };

    /// <summary>Whether a Winograd forward whose samples each fit one band runs per block of output channels
    /// (<see cref="ConvWinograd"/>.ForwardCoutBlocks; default) rather than transforming all the weights first. Settable
    /// for the kernel lab and tests.</summary>
    public static bool WinogradCoutBlocks { get => ConvWinograd.CoutBlocks; set => ConvWinograd.CoutBlocks = value; }

    /// <summary>Whether <see cref="Forward"/> of <paramref name="s"/> runs as Winograd per block of output channels under
    /// the current Route and WinogradCoutBlocks (for tests).</summary>
    public static bool ForwardTakesWinogradCoutBlocks(in ConvShape s) => UseWinograd(s) && ConvWinograd.TakesCoutBlocks(s, UseWinograd4(s));

    /// <summary>Whether <see cref="Forward"/> of <paramref name="s"/> runs as Winograd F(4x4, 3x3) under the current Route (for tests).</summary>
    public static bool ForwardTakesWinograd4(in ConvShape s) => UseWinograd4(s);

    /// <summary>The Winograd forward UseWinograd chose: F(4x4, 3x3) where UseWinograd4, else F(2x2, 3x3).</summary>
    static void WinogradForward(in ConvShape s, float* x, float* w, float[]? bias, float* y, bool accumulate, bool up2 = false, bool transposed = false)
    {
        if (UseWinograd4(s)) ConvWinograd.Forward4(s, x, w, bias, y, accumulate, up2, transposed);
        else ConvWinograd.Forward(s, x, w, bias, y, accumulate, up2, transposed: transposed);
    }

    /// <summary>Whether a 3x3 stride-1 pad-1 convolution runs as Winograd F(2x2, 3x3) on the direct kernel
    /// (<see cref="ConvWinogradSmall"/>): forced (Route or CTMSR_CONV_ROUTE=winogradsmall) or, under Auto, at most
    /// <see cref="DirectMaxCout"/> output channels, maps of at least 128^2 and either Cin >= 32 or Cin, Cout >= 16. Lab conv-wino-small, one
    /// thread (the shared 2-core machine under load), CPU ms direct -> Winograd: 32->32 at 256^2 16.6 -> 10.3-11.7,
    /// 512^2 78 -> 48-52; 64->64 at 128^2 13.8 -> 11.7; 51->32 21.9 -> 16.7-19.0, 96->32 49.2 -> 32.9-38.3 at 256^2;
    /// 128->64 at 128^2 26.1 -> 21.1-23.0; 32->64 at 128^2 6.5 -> 6.2-6.4 (a tie); 16->16 at 256^2 4.8 -> 3.1-4.2; the
    /// final convolutions to 3 channels: 32->3 at 256^2 8.3 -> 5.3-6.7, at 1024^2 117 -> 91, 192->3 at 256^2 50 -> 39;
    /// backward data alike (1.1-1.6x). Slower: 8->8 (1.2 -> 4.3) and 16->3 (2.3 -> 3.4), where the transforms cost
    /// more than the products save; 32->32 at 64^2 a tie.</summary>
    static bool UseWinogradSmall(in ConvShape s) => ConvWinogradSmall.Supported && ConvWinograd.Fits(s) && Route switch
    {
        ConvRoute.WinogradSmall => true,
        ConvRoute.Auto => s.Cout <= DirectMaxCout && (long)s.H * s.W >= WinogradSmallMinPixels && (s.Cin >= 2 * WinogradSmallMinChannels || (s.Cin >= WinogradSmallMinChannels && s.Cout >= WinogradSmallMinChannels)),
        _ => false,
    };

    /// <summary>Whether a forward or weight gradient runs on <see cref="ConvFewOutputs"/>: 3x3, stride 1, pad 1, 1-3 output
    /// channels, AVX-512, under Auto or FewOutputs. Lab conv-wino-small variant 7 against 2 (the forward's route before
    /// it), conv-wino-wgrad variant 5 against 1.</summary>
    static bool UseFewOutputs(in ConvShape s) => ConvFewOutputs.Supported && ConvFewOutputs.Fits(s) && Route is ConvRoute.Auto or ConvRoute.FewOutputs;

    /// <summary>Whether <see cref="Forward"/> and <see cref="BackwardWeight"/> of <paramref name="s"/> run on <see cref="ConvFewOutputs"/> under the current Route (for tests).</summary>
    public static bool ForwardTakesFewOutputs(in ConvShape s) => UseFewOutputs(s);

    /// <summary>Channels from which Auto takes <see cref="ConvWinogradSmall"/> (see UseWinogradSmall).</summary>
    public const int WinogradSmallMinChannels = 16;
    /// <summary>Map pixels from which Auto takes <see cref="ConvWinogradSmall"/>: 128^2 (at 64^2, 32->32 measured 0.94-1.04x).</summary>
    public const long WinogradSmallMinPixels = 128 * 128;

    /// <summary>Whether a strided forward runs on the input's stride phases (<see cref="ConvLayout.PhaseSplit"/>) instead
    /// of an explicit im2col: K >= stride > 1, and the phase planes and the phase-width output within BandFloats each.
    /// Settable for the kernel lab and tests (StridedPhases = false: always im2col).</summary>
    static bool UsePhases(in ConvShape s)
    {
        if (!StridedPhases || s.Stride <= 1 || s.K < s.Stride) return false;
        long wq = PhaseDims(s).Wq;
        if (PhaseFloats(s) > BandFloats || s.Cout * s.OutH * wq > BandFloats) return false;
        // the discarded columns must not cost a GEMM panel more than ~10 % (lab conv-strided: layer4's 8 -> 9 columns
        // on an 8-row map took 3 32-column panels instead of 2, 0.73x the im2col route)
        int nr = UseDirect(s) ? ConvDirect.Cols : GemmDriver.NR;
        long phaseCols = (s.OutH * wq + nr - 1) / nr, denseCols = ((long)s.OutH * s.OutW + nr - 1) / nr;
        return phaseCols * 10 <= denseCols * 11;
    }

    /// <summary>Whether <see cref="Forward"/> of <paramref name="s"/> runs on the stride phases under the current Route (for tests).</summary>
    public static bool ForwardTakesStridePhases(in ConvShape s) => !UseWinograd(s) && !UseWinogradSmall(s) && UsePhases(s);

    /// <summary>Whether <see cref="BackwardData"/> of <paramref name="s"/> runs per output phase under the current Route (for tests).</summary>
    public static bool BackwardDataTakesStridePhases(in ConvShape s) => UsePhasesBackward(s);

    /// <summary>Whether strided convolutions may take the stride-phase paths (forward: UsePhases). Settable for the kernel lab and tests.</summary>
    public static bool StridedPhases { get; set; } = true;

    /// <summary>Rows and columns of each stride-phase plane: the output's plus the largest tap shift (K - 1) / stride.</summary>
    static (int Hq, int Wq) PhaseDims(in ConvShape s) => (s.OutH + (s.K - 1) / s.Stride, s.OutW + (s.K - 1) / s.Stride);

    static long PhaseFloats(in ConvShape s)
    {
        var (hq, wq) = PhaseDims(s);
        return (long)s.Cin * s.Stride * s.Stride * hq * wq;
    }

    /// <summary>Fraction of discarded GEMM columns from which a stride-1 convolution builds an explicit im2col (0.1). Settable for the kernel lab.</summary>
    public static double Im2ColMinWaste { get; set; } = 0.1;

    /// <summary>Explicit im2col wins when the padded-width layout would waste >10 % of the GEMM columns (small maps).</summary>
    static bool UseIm2Col(in ConvShape s)
    {
        if (s.Stride != 1) return true;
        int nr = GemmDriver.NR;
        long implicitCols = ((long)s.OutH * (s.W + 2 * s.Pad) + nr - 1) / nr;
        long denseCols = ((long)s.OutH * s.OutW + nr - 1) / nr;
        long colFloats = (long)s.Cin * s.K * s.K * s.OutH * s.OutW;
        return denseCols * (1 + Im2ColMinWaste) < implicitCols && colFloats <= Im2ColMaxFloats;
    }

    /// <summary>Whether <see cref="ForwardAct"/> computes act(conv + bias) in one pass on this shape: the shapes on the
    /// GEMM over the whole map (pointwise, or an explicit im2col), whose epilogue applies the bias and the activation.</summary>
    public static bool FusesActivation(in ConvShape s, Activation act) =>
        GemmEpilogue.Handles(act) && !UseWinograd(s) && !UseWinogradSmall(s) && !UsePhases(s) && (Pointwise(s) || UseIm2Col(s)) && !UseDirect(s);

    /// <summary>y = act(conv(x, w) + bias) on a shape where <see cref="FusesActivation"/> holds (the GEMM's epilogue).</summary>
    public static void ForwardAct(in ConvShape s, float[] x, float[] w, float[]? bias, float[] y, Activation act)
    {
        if (!FusesActivation(s, act)) throw new InvalidOperationException($"convolution {s} with {act} is not fused on this route");
        Forward(s, x, w, bias, y, act);
    }

    public static void Forward(in ConvShape s, float[] x, float[] w, float[]? bias, float[] y) => Forward(s, x, w, bias, y, Activation.Identity);

    static void Forward(in ConvShape s, float[] x, float[] w, float[]? bias, float[] y, Activation act)
    {
        Validate(s, "x", x, (long)s.N * s.Cin * s.H * s.W);
        Validate(s, "w", w, (long)s.Cout * s.Cin * s.K * s.K);
        Validate(s, "y", y, (long)s.N * s.Cout * s.OutH * s.OutW);
        if (bias is not null) Validate(s, "bias", bias, s.Cout);
        long xs = (long)s.Cin * s.H * s.W, ys = (long)s.Cout * s.OutH * s.OutW;
        fixed (float* px = x, pw = w, py = y)
        {
            if (act == Activation.Identity && UseFewOutputs(s)) { ConvFewOutputs.Forward(s, px, pw, bias, py, false); return; }
            if (UseWinograd(s)) { WinogradForward(s, px, pw, bias, py, false); return; }
            if (UseWinogradSmall(s)) { ConvWinogradSmall.Forward(s, px, pw, bias, py, false); return; }
            for (int n = 0; n < s.N; n++) Sample(s, px + n * xs, pw, bias, py + n * ys, false, act: act);
        }
    }

    /// <summary>
    /// <see cref="Forward"/> of the nearest x2 upsampling of x: x is [N, Cin, H / 2, W / 2] and <paramref name="s"/>
    /// describes the convolution of the upsampled [N, Cin, H, W] map. The stride-1 banded path and Winograd build each
    /// band's padded input straight from x with halved indices (<see cref="ConvLayout.PadRowsUp2"/>,
    /// <see cref="ConvLayout.CopyRowUp2"/>; the same route as <see cref="Forward"/> takes), so neither the
    /// upsampled map nor a pass over it exists, and every output element is the same sum in the same order as
    /// upsampling then <see cref="Forward"/>: bit for bit equal. The other paths (small maps, pointwise) upsample one
    /// sample into scratch first.
    /// </summary>
    public static void ForwardUpsample2x(in ConvShape s, float[] x, float[] w, float[]? bias, float[] y)
    {
        if (s.H % 2 != 0 || s.W % 2 != 0)
            throw new ArgumentException($"conv of an x2 upsampling: the upsampled map is {s.H}x{s.W}, which must be even on both sides");
        Validate(s, "x", x, (long)s.N * s.Cin * (s.H / 2) * (s.W / 2));
        Validate(s, "w", w, (long)s.Cout * s.Cin * s.K * s.K);
        Validate(s, "y", y, (long)s.N * s.Cout * s.OutH * s.OutW);
        if (bias is not null) Validate(s, "bias", bias, s.Cout);
        long xs = (long)s.Cin * (s.H / 2) * (s.W / 2), ys = (long)s.Cout * s.OutH * s.OutW;
        fixed (float* px = x, pw = w, py = y)
        {
            if (UseWinograd(s)) { WinogradForward(s, px, pw, bias, py, false, up2: true); return; }
            if (UseWinogradSmall(s)) { ConvWinogradSmall.Forward(s, px, pw, bias, py, false, up2: true); return; }
            for (int n = 0; n < s.N; n++) Sample(s, px + n * xs, pw, bias, py + n * ys, false, up2: true);
        }
    }

    /// <summary>y (=/+=) conv(x, w) + bias for one sample; w is [Cout, Cin K K] row-major. With <paramref name="up2"/>
    /// x is the [Cin, H / 2, W / 2] map whose nearest x2 upsampling is convolved.</summary>
    static void Sample(in ConvShape s, float* x, float* w, float[]? bias, float* y, bool accumulate, bool up2 = false, Activation act = Activation.Identity)
    {
        int oh = s.OutH, ow = s.OutW, p = oh * ow, kdim = s.Cin * s.K * s.K;
        if (up2 && (Pointwise(s) || UseIm2Col(s)))
        {
            using var uArr = Scratch<float>.Rent((long)s.Cin * s.H * s.W, "convolution (upsampled input)");
            fixed (float* u = uArr.Array)
            {
                ConvLayout.Upsample2x(x, s.Cin, s.H / 2, s.W / 2, u);
                Sample(s, u, w, bias, y, accumulate);
            }
            return;
        }
        var wa = new StridedSource(w, kdim, 1f);
        if (UsePhases(s))
        {
            // Strided: the input split into its stride phases, each tap a shift of one phase plane (PhaseOffsets), the
            // output in the phase planes' width wq (columns ox >= OW discarded); no im2col.
            var (hq, wq) = PhaseDims(s);
            int pq = oh * wq;
            using var xqArr = Scratch<float>.Rent(PhaseFloats(s) + s.K, "convolution (stride phases)");
            using var tqArr = Scratch<float>.Rent((long)s.Cout * pq, "convolution (phase-width output)");
            using var oqArr = Scratch<long>.Rent(kdim, "convolution (offsets)");
            bool dq = UseDirect(s);
            using var wqArr = Scratch<float>.Rent(dq ? ConvDirect.PackedLength(s.Cout, kdim) : 0, "convolution (packed weights)");
            fixed (float* xq = xqArr.Array, tq = tqArr.Array, wd = wqArr.Array)
            fixed (long* offs = oqArr.Array)
            {
                ConvLayout.PhaseSplit(x, s.Cin, s.H, s.W, s.Pad, s.Stride, hq, wq, xq, s.K);
                ConvLayout.PhaseOffsets(s.Cin, s.K, s.Stride, hq, wq, offs);
                if (dq)
                {
                    ConvDirect.PackWeights(w, s.Cout, kdim, wd);
                    ConvDirect.RunRows(s.Cout, oh, ow, wq, kdim, wd, xq, offs, tq, pq, false, true);
                }
                else GemmDriver.Run(s.Cout, pq, kdim, wa, new OffsetRowsSource(xq, offs), 0f, tq, pq, true);
                ConvLayout.CompactRows(tq, s.Cout, oh, ow, wq, y, (long)oh * ow, accumulate, bias);
            }
            return;
        }
        if ((Pointwise(s) || UseIm2Col(s)) && !UseDirect(s))
        {
            // bias (and act) in the GEMM's epilogue, added to the finished sum (+ y when accumulating): no pass to
            // pre-fill y with the bias, and no read of y unless accumulating
            float beta = accumulate ? 1f : 0f;
            fixed (float* pb = bias)
            {
                var epi = new GemmEpilogue(pb, act);
                if (Pointwise(s)) { GemmDriver.Run(s.Cout, p, kdim, wa, new ContigSource(x, p, 1f), beta, y, p, true, epi); return; }
                using var colArr = Scratch<float>.Rent((long)kdim * p, "convolution (im2col)");
                fixed (float* col = colArr.Array)
                {
                    ConvLayout.Im2Col(s, x, col);
                    GemmDriver.Run(s.Cout, p, kdim, wa, new ContigSource(col, p, 1f), beta, y, p, true, epi);
                }
            }
            return;
        }
        if (act != Activation.Identity) throw new InvalidOperationException($"convolution {s}: {act} is fused on the GEMM route only");
        if (Pointwise(s) || UseIm2Col(s))
        {
            // the direct kernel: y pre-filled with the bias (or the bias added to it), then accumulated onto
            if (bias is not null)
                for (int co = 0; co < s.Cout; co++)
                {
                    var row = new Span<float>(y + (long)co * p, p);
                    if (accumulate) for (int i = 0; i < p; i++) row[i] += bias[co]; else row.Fill(bias[co]);
                }
            using var wpkArr = Scratch<float>.Rent(ConvDirect.PackedLength(s.Cout, kdim), "convolution (packed weights)");
            using var rowArr = Scratch<long>.Rent(kdim, "convolution (row offsets)");
            using var colD = Scratch<float>.Rent(Pointwise(s) ? 0 : (long)kdim * p, "convolution (im2col)");
            fixed (float* wd = wpkArr.Array, col = colD.Array)
            fixed (long* offs = rowArr.Array)
            {
                ConvDirect.PackWeights(w, s.Cout, kdim, wd);
                for (int r = 0; r < kdim; r++) offs[r] = (long)r * p;
                float* b = x;
                if (!Pointwise(s)) { ConvLayout.Im2Col(s, x, col); b = col; }
                ConvDirect.Run(s.Cout, p, kdim, wd, b, offs, y, p, accumulate || bias is not null, true);
            }
            return;
        }
        // Stride 1: implicit im2col on the padded input, output in padded-width layout, then compacted; in bands of
        // output rows, so the two scratch copies stay near BandFloats whatever the map size (a whole 2048x2048 map
        // would need two more copies of the activation). Each output element's reduction is the same in any band.
        int wp = s.W + 2 * s.Pad, rows = BandRows(s, wp), bhp = rows + s.K - 1;
        using var xpArr = Scratch<float>.Rent((long)s.Cin * bhp * wp + s.K, "convolution (padded input)");
        using var tArr = Scratch<float>.Rent((long)s.Cout * rows * wp, "convolution (padded-width output)");
        using var offArr = Scratch<long>.Rent(kdim, "convolution (offsets)");
        bool direct = UseDirect(s);
        using var wdArr = Scratch<float>.Rent(direct ? ConvDirect.PackedLength(s.Cout, kdim) : 0, "convolution (packed weights)");
        fixed (float* xp = xpArr.Array, t = tArr.Array, wd = wdArr.Array)
        fixed (long* offs = offArr.Array)
        {
            if (direct) ConvDirect.PackWeights(w, s.Cout, kdim, wd);
            for (int r0 = 0; r0 < oh; r0 += rows)
            {
                int rb = Math.Min(rows, oh - r0), pw = rb * wp, hp = rb + s.K - 1;
                if (up2) ConvLayout.PadRowsUp2(x, s.Cin, s.H, s.W, s.Pad, r0, hp, xp, s.K);
                else ConvLayout.PadRows(x, s.Cin, s.H, s.W, s.Pad, r0, hp, xp, s.K);
                ConvLayout.ShiftOffsets(s.Cin, s.K, hp, wp, offs);
                if (direct) ConvDirect.RunRows(s.Cout, rb, ow, wp, kdim, wd, xp, offs, t, pw, false, true);
                else GemmDriver.Run(s.Cout, pw, kdim, wa, new OffsetRowsSource(xp, offs), 0f, t, pw, true);
                ConvLayout.CompactRows(t, s.Cout, rb, ow, wp, y + (long)r0 * ow, (long)oh * ow, accumulate, bias);
            }
        }
    }

    /// <summary>Bytes <see cref="Forward"/> rents from the array pool for one call (what <see cref="Sample"/> rents, in the
    /// pool's power-of-two buckets): the band copies on the stride-1 path, the im2col matrix on the explicit one.</summary>
    public static long ForwardScratchBytes(in ConvShape s)
    {
        // the pages a call touches: a pooled array is a power of two long, but the pages past the request stay unmapped
        static long Bucket(long n, int size) => size * Math.Max(n, 16);
        int kdim = s.Cin * s.K * s.K;
        long p = (long)s.OutH * s.OutW;
        if (UseFewOutputs(s)) return Bucket(ConvFewOutputs.ScratchFloats(s), 4);
        if (UseWinograd(s))
        {
            bool f4 = UseWinograd4(s);
            if (ConvWinograd.TakesCoutBlocks(s, f4))
            {
                var (bx, bv, bu, bm, blocks) = ConvWinograd.CoutBlockScratchLengths(s, f4);
                return Bucket(bx, 4) + Bucket(bv, 4) + Math.Min(blocks, CpuThreads.Limit) * (Bucket(bu, 4) + Bucket(bm, 4));
            }
            var (u, xp, v, m) = ConvWinograd.ScratchLengths(s, f4);
            return Bucket(u, 4) + Bucket(xp, 4) + Bucket(v, 4) + Bucket(m, 4);
        }
        if (UseWinogradSmall(s))
        {
            var (u, workers) = ConvWinogradSmall.ScratchLengths(s);
            return Bucket(u, 4) + Bucket(workers, 4) + Bucket(Math.Max(s.Cin, s.Cout), 8);
        }
        bool direct = UseDirect(s);
        long packed = direct ? Bucket(ConvDirect.PackedLength(s.Cout, kdim), 4) : 0;
        if (UsePhases(s)) return Bucket(PhaseFloats(s) + s.K, 4) + Bucket((long)s.Cout * s.OutH * PhaseDims(s).Wq, 4) + Bucket(kdim, 8) + packed;
        if (Pointwise(s)) return direct ? packed + Bucket(kdim, 8) : 0;
        if (UseIm2Col(s)) return Bucket(kdim * p, 4) + (direct ? packed + Bucket(kdim, 8) : 0);
        int wp = s.W + 2 * s.Pad, rows = BandRows(s, wp);
        return Bucket((long)s.Cin * (rows + s.K - 1) * wp + s.K, 4) + Bucket((long)s.Cout * rows * wp, 4) + Bucket(kdim, 8) + packed;
    }

    /// <summary>Floats each scratch copy of the stride-1 path may take (default 16 MB): a band of output rows is wide
    /// enough for the GEMM (tens of thousands of columns) and whole on the x4 model's maps. Settable so that tests can
    /// run many bands on small maps.</summary>
    public static long BandFloats
    {
        get => _bandFloats;
        set => _bandFloats = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), $"band size {value} must be at least 1 float");
    }
    static long _bandFloats = DefaultBandFloats;
    public const long DefaultBandFloats = 1 << 22;

    /// <summary>The largest explicit im2col buffer of the forward path (32 MB; only small maps take it).</summary>
    public const long Im2ColMaxFloats = 1 << 23;

    /// <summary>Output rows per band: the most whose padded input and padded-width output fit BandFloats (at least 1).</summary>
    internal static int BandRows(in ConvShape s, int wp)
    {
        long byOut = BandFloats / ((long)s.Cout * wp), byIn = (BandFloats - s.K) / ((long)s.Cin * wp) - (s.K - 1);
        return (int)Math.Clamp(Math.Min(byOut, byIn), 1, s.OutH);
    }

    public static void BackwardData(in ConvShape s, float[] dy, float[] w, float[] dx, bool accumulate)
    {
        Validate(s, "dy", dy, (long)s.N * s.Cout * s.OutH * s.OutW);
        Validate(s, "w", w, (long)s.Cout * s.Cin * s.K * s.K);
        Validate(s, "dx", dx, (long)s.N * s.Cin * s.H * s.W);
        int oh = s.OutH, ow = s.OutW, p = oh * ow, kk = s.K * s.K, kdim = s.Cin * kk;
        long xs = (long)s.Cin * s.H * s.W, ys = (long)s.Cout * p;
        fixed (float* pdy = dy, pw = w, pdx = dx)
        {
            if (Pointwise(s) && UseDirect(new ConvShape(1, s.Cout, s.H, s.W, s.Cin, 1, 1, 0)))
            {
                // dx[n] (Cin x P) = W^T (Cin x Cout) dy[n], the direct kernel over few input channels
                using var wtArr = Scratch<float>.Rent((long)s.Cin * s.Cout, "convolution backward (transposed weights)");
                using var wpkArr = Scratch<float>.Rent(ConvDirect.PackedLength(s.Cin, s.Cout), "convolution backward (packed weights)");
                using var rowArr = Scratch<long>.Rent(s.Cout, "convolution backward (row offsets)");
                fixed (float* wt = wtArr.Array, wd = wpkArr.Array)
                fixed (long* offs = rowArr.Array)
                {
                    for (int co = 0; co < s.Cout; co++)
                        for (int ci = 0; ci < s.Cin; ci++) wt[(long)ci * s.Cout + co] = pw[(long)co * s.Cin + ci];
                    ConvDirect.PackWeights(wt, s.Cin, s.Cout, wd);
                    for (int r = 0; r < s.Cout; r++) offs[r] = (long)r * p;
                    for (int n = 0; n < s.N; n++) ConvDirect.Run(s.Cin, p, s.Cout, wd, pdy + n * ys, offs, pdx + n * xs, p, accumulate, true);
                }
                return;
            }
            if (Pointwise(s))
            {
                // dx[n] (Cin x P) = W^T (Cin x Cout) dy[n]
                for (int n = 0; n < s.N; n++)
                    GemmDriver.Run(s.Cin, p, s.Cout, new ContigSource(pw, s.Cin, 1f), new ContigSource(pdy + n * ys, p, 1f),
                        accumulate ? 1f : 0f, pdx + n * xs, p, true);
                return;
            }
            // Full correlation with the flipped kernel: W'[ci, co, ky, kx] = W[co, ci, K-1-ky, K-1-kx].
            var t = new ConvShape(s.N, s.Cout, oh, ow, s.Cin, s.K, 1, s.K - 1 - s.Pad);
            bool wino = s.Stride == 1 && UseWinograd(t), winoSmall = s.Stride == 1 && !wino && UseWinogradSmall(t);
            if (wino && WinogradTransposedInPlace)
            {
                WinogradForward(t, pdy, pw, null, pdx, accumulate, transposed: true);
                return;
            }
            if (wino || winoSmall || (s.Stride == 1 && s.Pad <= s.K - 1 && !UseIm2Col(s)))
            {
                using var wfArr = Scratch<float>.Rent((long)s.Cout * kdim, "convolution backward (flipped weights)");
                fixed (float* wf = wfArr.Array)
                {
                    FlipTranspose(pw, s.Cout, s.Cin, kk, wf);
                    if (wino) WinogradForward(t, pdy, wf, null, pdx, accumulate);
                    else if (winoSmall) ConvWinogradSmall.Forward(t, pdy, wf, null, pdx, accumulate);
                    else for (int n = 0; n < s.N; n++) Sample(t, pdy + n * ys, wf, null, pdx + n * xs, accumulate);
                }
                return;
            }
            if (UsePhasesBackward(s))
            {
                for (int n = 0; n < s.N; n++) BackwardDataPhases(s, pdy + n * ys, pw, pdx + n * xs, accumulate);
                return;
            }
            // General: dcol = W^T dy, then scatter-add (col2im).
            using var colArr = Scratch<float>.Rent((long)kdim * p, "convolution backward (columns)");
            fixed (float* col = colArr.Array)
                for (int n = 0; n < s.N; n++)
                {
                    GemmDriver.Run(kdim, p, s.Cout, new ContigSource(pw, kdim, 1f), new ContigSource(pdy + n * ys, p, 1f), 0f, col, p, true);
                    if (!accumulate) new Span<float>(pdx + n * xs, checked((int)xs)).Clear();
                    ConvLayout.Col2ImAdd(s, col, pdx + n * xs);
                }
        }
    }

    /// <summary>Output rows i (of one stride phase a) whose input row s i + a - pad lies in the image: [i0, i0 + count).</summary>
    static (int I0, int Count) PhaseRange(int a, int st, int pad, int h)
    {
        int i0 = (pad - a + st - 1) / st; // pad - a >= 1 - st: never negative
        int last = h - 1 + pad - a;
        return last < 0 ? (i0, 0) : (i0, Math.Max(0, last / st - i0 + 1));
    }

    /// <summary>Geometry of the stride-phase backward data: T = (K - 1) / stride, the largest tap shift; dy zero-padded by T
    /// on the top and left into Hd x Wd planes, wide and tall enough that no phase's kept column or row reads across a
    /// plane row.</summary>
    static (int T, int Hd, int Wd) PhaseBackwardDims(in ConvShape s)
    {
        int st = s.Stride, t = (s.K - 1) / st, ilast = 0, jlast = 0;
        for (int a = 0; a < st; a++)
        {
            var (i0, ni) = PhaseRange(a, st, s.Pad, s.H);
            var (j0, nj) = PhaseRange(a, st, s.Pad, s.W);
            ilast = Math.Max(ilast, i0 + ni); jlast = Math.Max(jlast, j0 + nj);
        }
        return (t, Math.Max(s.OutH, ilast) + t + 1, Math.Max(s.OutW, jlast) + t);
    }

    /// <summary>Whether strided backward data runs per output phase (<see cref="BackwardDataPhases"/>) instead of a GEMM
    /// and col2im: K >= stride > 1, StridedPhases, the padded dy within BandFloats, and the phases' discarded columns
    /// costing at most ~10 % more GEMM panels.</summary>
    static bool UsePhasesBackward(in ConvShape s)
    {
        if (!StridedPhases || s.Stride <= 1 || s.K < s.Stride || s.Cin < PhasesBackwardMinCin) return false;
        var (_, hd, wd) = PhaseBackwardDims(s);
        if ((long)s.Cout * hd * wd > BandFloats || (long)s.Cin * hd * wd > BandFloats) return false;
        int nr = UseDirect(new ConvShape(1, s.Cout, s.OutH, s.OutW, s.Cin, s.K, 1, 0)) ? ConvDirect.Cols : GemmDriver.NR;
        long phaseCols = 0, denseCols = 0;
        for (int a = 0; a < s.Stride; a++)
            for (int b = 0; b < s.Stride; b++)
            {
                int ni = PhaseRange(a, s.Stride, s.Pad, s.H).Count, nj = PhaseRange(b, s.Stride, s.Pad, s.W).Count;
                phaseCols += ((long)ni * wd + nr - 1) / nr;
                denseCols += ((long)ni * nj + nr - 1) / nr;
            }
        return phaseCols * 10 <= denseCols * 11;
    }

    /// <summary>Input channels (the phase GEMMs' rows) from which strided backward data runs per phase: lab conv-strided,
    /// 64 channels (layer2 entry) 1.15x the GEMM and col2im, 3 channels (the 7x7/2 stem, 11x11/4 conv1) 0.66-0.68x.</summary>
    public const int PhasesBackwardMinCin = 32;

    /// <summary>Whether the per-phase backward data on the direct kernel runs its phases across the threads (in chunks of
    /// rows, <see cref="RunPhaseChunks"/>) while a phase is fewer ~1.5 K-pixel tasks than there are threads (default;
    /// else the phases run one after another, each split into a multiple of the thread count of tasks,
    /// DirectBalancedTasks). Lab conv-strided at two threads, layer2 entry: 1.1-1.5 ms either way on this noisy machine
    /// (variant 5 is the serial order); the chunks keep more than four threads busy. Settable for the kernel lab.</summary>
    public static bool PhasesAcrossThreads { get; set; } = true;

    /// <summary>
    /// Backward data of one sample by output phase: the dx pixels (y, x) with (y + pad, x + pad) = (st i + a, st j + b)
    /// receive only the taps ky = a + st t, kx = b + st u, from dy[i - t, j - u]; so each phase (a, b) is a stride-1
    /// correlation of dy with its sub-kernel, run as one GEMM (Cin x Cout taps) over shifts of the padded dy (no col
    /// matrix, no scatter-add), its output in the padded width Wd, then written to its dx pixels. The phases cover every
    /// dx pixel once (K >= stride: every phase has taps).
    /// </summary>
    static void BackwardDataPhases(in ConvShape s, float* dy, float* w, float* dx, bool accumulate)
    {
        int st = s.Stride, k = s.K, cin = s.Cin, cout = s.Cout, phases = st * st;
        var (tmax, hd, wd) = PhaseBackwardDims(s);
        long plane = (long)hd * wd;
        int taps = (k + st - 1) / st, kmax = cout * taps * taps, nmax = 0;
        for (int a = 0; a < st; a++) nmax = Math.Max(nmax, PhaseRange(a, st, s.Pad, s.H).Count);
        bool direct = UseDirect(new ConvShape(1, cout, s.OutH, s.OutW, cin, k, 1, 0));
        // A phase under ~1.5 K pixels (layer2's 32 x 32) is small for a fork-join of its own: the phases themselves go
        // across the threads (each serial inside) while a phase is fewer 32-panel tasks than threads.
        bool across = PhasesAcrossThreads && direct && ((long)nmax * wd / ConvDirect.Cols + 31) / 32 < CpuThreads.Limit;
        long oLen = (long)cin * nmax * wd, wLen = (long)cin * kmax, pLen = direct ? ConvDirect.PackedLength(cin, kmax) : 0;
        using var dypArr = Scratch<float>.Rent(cout * plane + wd + st, "convolution backward (padded dy)");
        using var outArr = Scratch<float>.Rent(phases * oLen, "convolution backward (phase outputs)");
        using var wabArr = Scratch<float>.Rent(direct ? 0 : phases * wLen, "convolution backward (phase weights)");
        using var wpkArr = Scratch<float>.Rent(phases * pLen, "convolution backward (packed weights)");
        using var offArr = Scratch<long>.Rent((long)phases * kmax, "convolution backward (offsets)");
        fixed (float* dyp = dypArr.Array, o = outArr.Array, wab = wabArr.Array, wpk = wpkArr.Array)
        fixed (long* offs = offArr.Array)
        {
            // dyp[co, r, c] = dy[co, r - T, c - T], zero elsewhere
            new Span<float>(dyp, checked((int)(cout * plane + wd + st))).Clear();
            for (int co = 0; co < cout; co++)
                for (int r = 0; r < s.OutH; r++)
                    new ReadOnlySpan<float>(dy + ((long)co * s.OutH + r) * s.OutW, s.OutW)
                        .CopyTo(new Span<float>(dyp + co * plane + (long)(r + tmax) * wd + tmax, s.OutW));
            var sh = s;
            nint dyps = (nint)dyp, os = (nint)o, wabs = (nint)wab, wpks = (nint)wpk, offss = (nint)offs, ws = (nint)w, dxs = (nint)dx;
            // the phase's body is a static method: captured variables (fields of the closure) would be reloaded after
            // every store through a float pointer in its loops
            (int Ni, int Nj, int Kab) Prepare(int ph) => PreparePhase(sh, ph, tmax, wd, plane, direct,
                (float*)wabs + ph * wLen, (float*)wpks + ph * pLen, (long*)offss + (long)ph * kmax, (float*)ws);
            if (across)
            {
                var dims = new (int Ni, int Nj, int Kab)[phases];
                Parallel.For(0, phases, CpuThreads.Options, ph => dims[ph] = Prepare(ph));
                RunPhaseChunks(cin, wd, dims, (float*)dyps, (float*)os, oLen, (float*)wpks, pLen, (long*)offss, kmax);
            }
            else
                for (int ph = 0; ph < phases; ph++)
                {
                    var (ni, nj, kab) = Prepare(ph);
                    if (ni == 0 || nj == 0) continue;
                    float* po = (float*)os + ph * oLen;
                    if (direct) ConvDirect.RunRows(cin, ni, nj, wd, kab, (float*)wpks + ph * pLen, (float*)dyps, (long*)offss + (long)ph * kmax, po, (long)ni * wd, false, true);
                    else GemmDriver.Run(cin, ni * wd, kab, new StridedSource((float*)wabs + ph * wLen, kab, 1f),
                        new OffsetRowsSource((float*)dyps, (long*)offss + (long)ph * kmax), 0f, po, ni * wd, true);
                }
            // written once all phases are done, row by row of dx (the phases wrote interleaved pixels of the same lines)
            WritePhases(s, o, oLen, wd, dx, accumulate);
        }
    }

    /// <summary>
    /// The phases of <see cref="BackwardDataPhases"/> across the threads (direct kernel): each phase's output rows in
    /// chunks sized so that there are about 8 chunks a thread over all phases (a phase's share of the chunks follows its
    /// multiply-adds: at stride 2 and 3x3 its taps are 4, 2, 2 and 1), the largest chunks first, each thread taking the
    /// next chunk when it is done. Whole phases one per thread split 4 + 1 against 2 + 2 taps at best (lab conv-strided,
    /// layer2 entry). Each output element is the same reduction in any chunk: the same bits.
    /// </summary>
    static void RunPhaseChunks(int cin, int wd, (int Ni, int Nj, int Kab)[] dims, float* dyp, float* o, long oLen, float* pk, long pLen, long* offs, int kmax)
    {
        long total = 0;
        foreach (var (ni, nj, kab) in dims) total += (long)ni * nj * kab;
        if (total == 0) return;
        int target = 8 * CpuThreads.Limit;
        var chunks = new List<(int Ph, int R0, int R1, long Work)>();
        for (int ph = 0; ph < dims.Length; ph++)
        {
            var (ni, nj, kab) = dims[ph];
            if (ni == 0 || nj == 0) continue;
            long work = (long)ni * nj * kab;
            int count = (int)Math.Clamp(Math.Round((double)work * target / total), 1, ni);
            for (int c = 0; c < count; c++)
            {
                int r0 = (int)((long)c * ni / count), r1 = (int)((long)(c + 1) * ni / count);
                chunks.Add((ph, r0, r1, (long)(r1 - r0) * nj * kab));
            }
        }
        // largest first; ties in phase and row order (the list's order: a stable sort)
        var order = chunks.Select((c, i) => (c, i)).OrderByDescending(t => t.c.Work).ThenBy(t => t.i).Select(t => t.c).ToArray();
        nint ds = (nint)dyp, os = (nint)o, pks = (nint)pk, ofs = (nint)offs;
        int next = -1;
        Parallel.For(0, Math.Min(CpuThreads.Limit, order.Length), CpuThreads.Options, _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < order.Length)
            {
                var (ph, r0, r1, _) = order[i];
                var (ni, nj, kab) = dims[ph];
                ConvDirect.RunRows(cin, r1 - r0, nj, wd, kab, (float*)pks + ph * pLen, (float*)ds + (long)r0 * wd, (long*)ofs + (long)ph * kmax,
                    (float*)os + ph * oLen + (long)r0 * wd, (long)ni * wd, false, false);
            }
        });
    }

    /// <summary>One output phase (ph = a st + b) of <see cref="BackwardDataPhases"/>: its offsets, and its weights packed
    /// for the direct kernel (pk) or gathered for the GEMM (wa); returns the phase's rows, columns and reduction length
    /// (no rows or columns: nothing to do).</summary>
    static (int Ni, int Nj, int Kab) PreparePhase(in ConvShape s, int ph, int tmax, int wd, long plane, bool direct,
        float* wa, float* pk, long* off, float* w)
    {
        int st = s.Stride, k = s.K, cin = s.Cin, cout = s.Cout, a = ph / st, b = ph % st;
        var (i0, ni) = PhaseRange(a, st, s.Pad, s.H);
        var (j0, nj) = PhaseRange(b, st, s.Pad, s.W);
        if (ni == 0 || nj == 0) return (ni, nj, 0);
        int ta = (k - a + st - 1) / st, tb = (k - b + st - 1) / st, kab = cout * ta * tb;
        // offsets of dy[i - t, j - u] for output (i0, j0), reduction index (co, t, u)
        int r = 0;
        for (int co = 0; co < cout; co++)
            for (int t = 0; t < ta; t++)
                for (int u = 0; u < tb; u++)
                    off[r++] = co * plane + (long)(i0 - t + tmax) * wd + (j0 - u + tmax);
        long wci = (long)k * k, wco = cin * wci, w0 = (long)a * k + b;
        if (direct)
        {
            // packed straight from w: pk[q][(co, t, u)][i] = w[co, q Rows + i, a + st t, b + st u] (the 8 channels of a
            // panel lie k^2 floats apart; a gather into wa first read w with a stride of Cin k^2 floats)
            const int R = ConvDirect.Rows;
            for (int q = 0; q * R < cin; q++)
            {
                float* d = pk + (long)q * R * kab;
                int rows = Math.Min(R, cin - q * R);
                for (int co = 0; co < cout; co++)
                    for (int t = 0; t < ta; t++)
                        for (int u = 0; u < tb; u++)
                        {
                            float* src = w + co * wco + (long)q * R * wci + w0 + (long)st * t * k + st * u;
                            int i = 0;
                            for (; i < rows; i++) d[i] = src[i * wci];
                            for (; i < R; i++) d[i] = 0f;
                            d += R;
                        }
            }
        }
        else
        {
            // wa[ci, (co, t, u)] = w[co, ci, a + st t, b + st u]
            for (int ci = 0; ci < cin; ci++)
            {
                float* d = wa + (long)ci * kab;
                for (int co = 0; co < cout; co++)
                    for (int t = 0; t < ta; t++)
                        for (int u = 0; u < tb; u++)
                            *d++ = w[co * wco + ci * wci + w0 + (long)st * t * k + st * u];
            }
        }
        return (ni, nj, kab);
    }

    /// <summary>dx[ci, y, x] (=/+=) the phase outputs' po[(a, b)][ci, i, j] for y + pad = st (i0_a + i) + a, x + pad =
    /// st (j0_b + j) + b (po of phase ph at o + ph oLen, rows wd apart): a pass over dx's rows, parallel over channels;
    /// at stride 2 each row interleaves two phase rows with two-source permutes.</summary>
    static void WritePhases(in ConvShape s, float* o, long oLen, int wd, float* dx, bool accumulate)
    {
        int st = s.Stride, h = s.H, w = s.W, pad = s.Pad, cin = s.Cin;
        int* i0 = stackalloc int[st], ni = stackalloc int[st], j0 = stackalloc int[st], nj = stackalloc int[st];
        for (int a = 0; a < st; a++) { (i0[a], ni[a]) = PhaseRange(a, st, pad, h); (j0[a], nj[a]) = PhaseRange(a, st, pad, w); }
        var sh = s;
        nint os = (nint)o, ds = (nint)dx, i0s = (nint)i0, nis = (nint)ni, j0s = (nint)j0;
        void Channel(int ci)
        {
            int* pi0 = (int*)i0s, pni = (int*)nis, pj0 = (int*)j0s;
            float** src = stackalloc float*[st];
            for (int y = 0; y < sh.H; y++)
            {
                int a = (y + sh.Pad) % st, i = (y + sh.Pad) / st - pi0[a];
                float* drow = (float*)ds + ((long)ci * sh.H + y) * sh.W;
                // src[b] + j is the phase (a, b) output for x + pad = st (j0_b + j) + b
                for (int b = 0; b < st; b++) src[b] = (float*)os + (a * st + b) * oLen + ((long)ci * pni[a] + i) * wd - pj0[b];
                WritePhaseRow(drow, src, st, sh.W, sh.Pad, accumulate);
            }
        }
        if ((long)cin * h * w < 1L << 16) for (int ci = 0; ci < cin; ci++) Channel(ci);
        else Parallel.For(0, cin, CpuThreads.Options, Channel);
    }

    /// <summary>drow[x] (=/+=) src[(x + pad) % st][(x + pad) / st] for x &lt; w.</summary>
    static void WritePhaseRow(float* drow, float** src, int st, int w, int pad, bool accumulate)
    {
        int x = 0;
        if (st == 2 && Avx512F.IsSupported)
        {
            // x = 2m + e: even x read phase pe = pad % 2 at (2m + pad) / 2, odd x phase 1 - pe at (2m + 1 + pad) / 2
            int pe = pad & 1;
            float* se = src[pe] + pad / 2, so = src[1 - pe] + (1 + pad) / 2;
            var lo = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
            var hi = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
            for (; x + 32 <= w; x += 32)
            {
                var e = Vector512.Load(se + x / 2);
                var od = Vector512.Load(so + x / 2);
                var v0 = Avx512F.PermuteVar16x32x2(e, lo, od);
                var v1 = Avx512F.PermuteVar16x32x2(e, hi, od);
                if (accumulate) { v0 += Vector512.Load(drow + x); v1 += Vector512.Load(drow + x + 16); }
                v0.Store(drow + x); v1.Store(drow + x + 16);
            }
        }
        for (; x < w; x++)
        {
            float v = src[(x + pad) % st][(x + pad) / st];
            if (accumulate) drow[x] += v; else drow[x] = v;
        }
    }

    /// <summary>wf[ci, co, q] = w[co, ci, kk - 1 - q].</summary>
    /// <summary>Whether the Winograd backward data reads the weights in place, transposed and with the taps reversed in
    /// the weight transform (default), rather than from a flipped, transposed copy (<see cref="FlipTranspose"/>: at 384
    /// channels 5.3 MB written and read back, lab conv-wino variant 12 against 5: a quarter of the call's time at 16^2).
    /// Settable for the kernel lab.</summary>
    public static bool WinogradTransposedInPlace { get; set; } = true;

    static void FlipTranspose(float* w, int cout, int cin, int kk, float* wf)
    {
        nint ws = (nint)w, fs = (nint)wf;
        Parallel.For(0, cout, CpuThreads.Options, co =>
        {
            float* src = (float*)ws + (long)co * cin * kk;
            for (int ci = 0; ci < cin; ci++)
            {
                float* d = (float*)fs + ((long)ci * cout + co) * kk, sr = src + (long)ci * kk + kk - 1;
                for (int q = 0; q < kk; q++) d[q] = sr[-q];
            }
        });
    }

    public static void BackwardWeight(in ConvShape s, float[] x, float[] dy, float[] dw, float[]? db)
    {
        Validate(s, "x", x, (long)s.N * s.Cin * s.H * s.W);
        Validate(s, "dy", dy, (long)s.N * s.Cout * s.OutH * s.OutW);
        Validate(s, "dw", dw, (long)s.Cout * s.Cin * s.K * s.K);
        if (db is not null) Validate(s, "db", db, s.Cout);
        int oh = s.OutH, ow = s.OutW, p = oh * ow, kdim = s.Cin * s.K * s.K;
        long xs = (long)s.Cin * s.H * s.W, ys = (long)s.Cout * p;
        fixed (float* px = x, pdy = dy, pdw = dw)
        {
            if (db is not null) BiasGradient(s.N, s.Cout, p, pdy, db);
            if (UseFewOutputs(s)) { ConvFewOutputs.BackwardWeight(s, px, pdy, pdw); return; }
            if (UseWinogradWeightGrad4(s)) { ConvWinograd.BackwardWeight4(s, px, pdy, pdw); return; }
            if (UseWinogradWeightGrad(s)) { ConvWinograd.BackwardWeight(s, px, pdy, pdw); return; }
            if (Pointwise(s))
            {
                // dW (Cout x Cin) += dy[n] (Cout x P) x[n]^T
                for (int n = 0; n < s.N; n++)
                    GemmDriver.Run(s.Cout, s.Cin, p, new StridedSource(pdy + n * ys, p, 1f), new StridedSource(px + n * xs, p, 1f), 1f, pdw, kdim, true);
                return;
            }
            if (UseIm2Col(s))
            {
                using var colArr = Scratch<float>.Rent((long)kdim * p, "convolution weight gradient (im2col)");
                fixed (float* col = colArr.Array)
                    for (int n = 0; n < s.N; n++)
                    {
                        ConvLayout.Im2Col(s, px + n * xs, col);
                        GemmDriver.Run(s.Cout, kdim, p, new StridedSource(pdy + n * ys, p, 1f), new StridedSource(col, p, 1f), 1f, pdw, kdim, true);
                    }
                return;
            }
            // Stride 1: reduce over the padded-width positions; dy is widened with zero columns so they add nothing.
            int hp = s.H + 2 * s.Pad, wp = s.W + 2 * s.Pad, pw = oh * wp;
            using var xpArr = Scratch<float>.Rent((long)s.Cin * hp * wp + s.K, "convolution weight gradient (padded input)");
            using var tArr = Scratch<float>.Rent((long)s.Cout * pw, "convolution weight gradient (widened dy)");
            using var offArr = Scratch<long>.Rent(kdim, "convolution weight gradient (offsets)");
            fixed (float* xp = xpArr.Array, t = tArr.Array)
            fixed (long* offs = offArr.Array)
            {
                ConvLayout.ShiftOffsets(s.Cin, s.K, hp, wp, offs);
                for (int n = 0; n < s.N; n++)
                {
                    ConvLayout.Pad(px + n * xs, s.Cin, s.H, s.W, s.Pad, xp, s.K);
                    ConvLayout.Widen(pdy + n * ys, s.Cout, oh, ow, wp, t);
                    GemmDriver.Run(s.Cout, kdim, pw, new StridedSource(t, pw, 1f), new OffsetColsSource(xp, offs), 1f, pdw, kdim, true);
                }
            }
        }
    }

    /// <summary>db[co] += sum of dy[n, co, :] for each sample in order; channels in parallel, each row summed in lanes
    /// (<see cref="CpuGroupNorm.Total"/>). A scalar double chain on one thread took 1-4 ms a call at the x4 shapes.</summary>
    static void BiasGradient(int n, int cout, int p, float* dy, float[] db)
    {
        nint pdy = (nint)dy;
        long ys = (long)cout * p;
        Parallel.For(0, cout, CpuThreads.Options, co =>
        {
            for (int i = 0; i < n; i++) db[co] += (float)CpuGroupNorm.Total(new ReadOnlySpan<float>((float*)pdy + i * ys + (long)co * p, p));
        });
    }
}

/// <summary>The GEMM a CPU convolution runs: chosen by shape, or forced (kernel lab, tests).</summary>
public enum ConvRoute
{
    /// <summary>The direct kernel for few output channels, the blocked GEMM otherwise.</summary>
    Auto,
    /// <summary>Always the blocked, packed GEMM (12 x 32 micro-kernel).</summary>
    Gemm,
    /// <summary>Always the direct kernel (unpacked input, 8 channels x 48 pixels), where AVX-512 has it.</summary>
    Direct,
    /// <summary>Winograd F(2x2, 3x3) on the blocked GEMM for 3x3 stride-1 pad-1 convolutions (forward, backward data and weight),
    /// where AVX-512 has it; the blocked GEMM for other shapes.</summary>
    Winograd,
    /// <summary>Winograd F(2x2, 3x3) on the direct kernel (<see cref="ConvWinogradSmall"/>) for 3x3 stride-1 pad-1
    /// convolutions (forward and backward data), where AVX-512 has it; the Auto route for other shapes.</summary>
    WinogradSmall,
    /// <summary>Winograd F(4x4, 3x3) on the blocked GEMM (<see cref="ConvWinograd.Forward4"/>,
    /// <see cref="ConvWinograd.BackwardWeight4"/>) for 3x3 stride-1 pad-1 convolutions (forward, backward data and weight),
    /// where AVX-512 has it; the blocked GEMM for other shapes.</summary>
    Winograd4,
    /// <summary>The few-output kernel (<see cref="ConvFewOutputs"/>) for 3x3 stride-1 pad-1 forwards and weight gradients to 1-3 channels,
    /// where AVX-512 has it (Auto takes it there too); the Auto route for other shapes.</summary>
    FewOutputs,
}
