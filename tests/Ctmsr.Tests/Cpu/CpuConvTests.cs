using Ctmsr.Kernels;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Kernels.Reference;

namespace Ctmsr.Tests.Cpu;

/// <summary>CpuConv forward / backward-data / backward-weight against the float64 ReferenceBackend.</summary>
public class CpuConvTests
{
    // N, Cin, H, W, Cout, K, stride, pad: every code path (pointwise GEMM, implicit stride-1, explicit im2col,
    // flipped-kernel backward data, col2im) with odd channels, batch 2, non-square maps.
    static readonly ConvShape[] Shapes =
    [
        new(2, 3, 9, 7, 5, 1, 1, 0),
        new(1, 5, 8, 6, 3, 1, 2, 0),
        new(1, 3, 6, 6, 2, 1, 1, 1),
        new(2, 3, 10, 9, 4, 3, 1, 1),
        new(1, 7, 12, 11, 6, 3, 1, 0),
        new(1, 4, 9, 13, 5, 3, 2, 1),
        new(2, 2, 12, 12, 3, 3, 1, 2),
        new(1, 6, 8, 8, 5, 3, 1, 1),
        new(1, 5, 30, 30, 7, 3, 1, 1),
        new(1, 3, 70, 40, 13, 3, 1, 1),
        new(2, 3, 13, 12, 5, 5, 1, 2),
        new(1, 3, 15, 14, 4, 5, 2, 2),
        new(1, 3, 23, 21, 4, 11, 4, 2),
        new(1, 64, 27, 27, 33, 5, 1, 2),
    ];

    static float[] Rand(Random r, long n) { var x = new float[n]; for (long i = 0; i < n; i++) x[i] = (float)(r.NextDouble() * 2 - 1); return x; }

    static readonly ReferenceBackend Ref = new();

    static DeviceBuffer Up(float[] v) { var b = Ref.Allocate(v.Length); Ref.Upload(v, b); return b; }
    static float[] Down(DeviceBuffer b) { var v = new float[b.Length]; Ref.Download(b, v); return v; }

    static void Close(float[] got, float[] want, string what)
    {
        double e = 0, n = 0;
        for (int i = 0; i < want.Length; i++) { double d = got[i] - (double)want[i]; e += d * d; n += (double)want[i] * want[i]; }
        Assert.That(Math.Sqrt(e / Math.Max(n, 1e-30)), Is.LessThan(1e-5), what);
    }

    static (float[] x, float[] w, float[] b, float[] dy) Data(ConvShape s)
    {
        var r = new Random(s.GetHashCode());
        return (Rand(r, (long)s.N * s.Cin * s.H * s.W), Rand(r, (long)s.Cout * s.Cin * s.K * s.K), Rand(r, s.Cout),
            Rand(r, (long)s.N * s.Cout * s.OutH * s.OutW));
    }

    [TestCaseSource(nameof(Shapes))]
    public void Forward(ConvShape s)
    {
        var (x, w, b, _) = Data(s);
        var y = new float[(long)s.N * s.Cout * s.OutH * s.OutW];
        Array.Fill(y, float.NaN);
        CpuConv.Forward(s, x, w, b, y);
        var ry = Ref.Allocate(y.Length);
        Ref.Conv2dForward(s, Up(x), Up(w), Up(b), ry);
        Close(y, Down(ry), $"forward {s}");
        CpuConv.Forward(s, x, w, null, y);
        Ref.Conv2dForward(s, Up(x), Up(w), null, ry);
        Close(y, Down(ry), $"forward no bias {s}");
    }

    /// <summary>The stride-1 path in bands of output rows (3x3: bands of 3 rows, the last of 1; 5x5: bands of 1 row): the
    /// same as the float64 reference, and bit for bit the same as one band over the whole map.</summary>
    [TestCase(1, 31, 27)]
    [TestCase(2, 20, 60)]
    public void ForwardInRowBandsMatchesTheReferenceAndOneBand(int pad, int h, int w)
    {
        int k = 2 * pad + 1;
        var s = new ConvShape(2, 5, h, w, 7, k, 1, pad);
        var (x, wt, b, _) = Data(s);
        var whole = new float[(long)s.N * s.Cout * s.OutH * s.OutW];
        CpuConv.Forward(s, x, wt, b, whole);
        var banded = new float[whole.Length];
        try
        {
            int wp = w + 2 * pad;
            CpuConv.BandFloats = 4L * 7 * wp;
            CpuConv.Forward(s, x, wt, b, banded);
        }
        finally { CpuConv.BandFloats = CpuConv.DefaultBandFloats; }
        Assert.That(banded, Is.EqualTo(whole), "bands change no output element");
        var ry = Ref.Allocate(whole.Length);
        Ref.Conv2dForward(s, Up(x), Up(wt), Up(b), ry);
        Close(banded, Down(ry), $"banded forward {s}");
    }

    [TestCaseSource(nameof(Shapes))]
    public void BackwardData(ConvShape s)
    {
        var (x, w, _, dy) = Data(s);
        foreach (bool acc in new[] { false, true })
        {
            var init = acc ? Rand(new Random(5), x.Length) : Enumerable.Repeat(float.NaN, x.Length).ToArray();
            var dx = (float[])init.Clone();
            CpuConv.BackwardData(s, dy, w, dx, acc);
            var rdx = Up(acc ? init : new float[x.Length]);
            Ref.Conv2dBackwardData(s, Up(dy), Up(w), rdx, acc);
            Close(dx, Down(rdx), $"backward data acc={acc} {s}");
        }
    }

    [TestCaseSource(nameof(Shapes))]
    public void BackwardWeightAccumulates(ConvShape s)
    {
        var (x, w, b, dy) = Data(s);
        float[] dw = (float[])w.Clone(), db = (float[])b.Clone(); // arbitrary prior contents: must be added to
        CpuConv.BackwardWeight(s, x, dy, dw, db);
        DeviceBuffer rdw = Up(w), rdb = Up(b);
        Ref.Conv2dBackwardWeight(s, Up(x), Up(dy), rdw, rdb);
        Close(dw, Down(rdw), $"dw {s}");
        Close(db, Down(rdb), $"db {s}");
    }

    // The direct kernel (ConvDirect: 8-channel x 48-pixel panels): channel counts below, at and past a panel (5, 8, 24, 32,
    // 40, 64), pixel counts that are not a multiple of 48 (the zero-padded last panel), 1x1, 3x3 and 5x5, small maps
    // (explicit im2col) and large ones (implicit, padded-width layout).
    static readonly ConvShape[] DirectShapes =
    [
        new(1, 3, 7, 5, 8, 3, 1, 1),
        new(2, 6, 40, 37, 24, 3, 1, 1),
        new(1, 4, 33, 50, 32, 3, 1, 1),
        new(2, 3, 21, 29, 40, 3, 1, 1),
        new(1, 9, 30, 31, 64, 3, 1, 1),
        new(1, 7, 19, 23, 5, 1, 1, 0),
        new(2, 16, 25, 27, 40, 1, 1, 0),
        new(1, 5, 26, 24, 12, 5, 1, 2),
        new(2, 51, 64, 64, 32, 3, 1, 1),
        new(2, 128, 16, 16, 64, 3, 1, 1),
        new(2, 64, 32, 32, 128, 3, 1, 1),
    ];

    [TestCaseSource(nameof(DirectShapes))]
    public void DirectAndGemmRoutesMatchTheReference(ConvShape s)
    {
        var (x, w, b, dy) = Data(s);
        var ry = Ref.Allocate(s.OutputLength());
        Ref.Conv2dForward(s, Up(x), Up(w), Up(b), ry);
        var want = Down(ry);
        var init = Rand(new Random(7), x.Length);
        var rdx = Up(init);
        Ref.Conv2dBackwardData(s, Up(dy), Up(w), rdx, true);
        var wantDx = Down(rdx);
        foreach (var route in new[] { ConvRoute.Direct, ConvRoute.Gemm, ConvRoute.Auto })
            try
            {
                CpuConv.Route = route;
                var y = Enumerable.Repeat(float.NaN, want.Length).ToArray();
                CpuConv.Forward(s, x, w, b, y);
                Close(y, want, $"forward {route} {s}");
                var dx = (float[])init.Clone();
                CpuConv.BackwardData(s, dy, w, dx, true);
                Close(dx, wantDx, $"backward data (accumulate) {route} {s}");
            }
            finally { CpuConv.Route = ConvRoute.Auto; }
    }

    // Strided convolutions on the stride phases: 7x7/2 and 11x11/4 on 3 channels (the ResNet18 stem, LPIPS-Alex conv1),
    // K == stride (3x3/3, pad 0), an even kernel (4x4/2), odd sizes, batch 2, outputs on both sides of DirectMaxCout;
    // the last five have enough input channels for the per-phase backward data (pads 0, 1 and 2: both parities of the
    // stride-2 write-out's interleave).
    static readonly ConvShape[] StridedPhaseShapes =
    [
        new(2, 3, 61, 67, 5, 7, 2, 3),
        new(1, 3, 131, 129, 70, 11, 4, 2),
        new(2, 5, 100, 97, 9, 3, 3, 0),
        new(1, 33, 41, 50, 65, 4, 2, 1),
        new(2, 64, 64, 64, 128, 3, 2, 1),
        new(1, 37, 61, 59, 21, 3, 2, 1),
        new(1, 32, 40, 66, 16, 4, 2, 0),
        new(1, 40, 36, 70, 24, 5, 2, 2),
    ];

    /// <summary>The stride-phase forward (and, with at least PhasesBackwardMinCin input channels, the per-phase backward
    /// data, assigning and accumulating) on the direct kernel and the GEMM against the float64 reference; the same shapes
    /// with StridedPhases off (explicit im2col, GEMM and col2im) as well.</summary>
    [TestCaseSource(nameof(StridedPhaseShapes))]
    public void StridePhaseRoutesMatchTheReference(ConvShape s)
    {
        var (x, w, b, dy) = Data(s);
        var ry = Ref.Allocate(s.OutputLength());
        Ref.Conv2dForward(s, Up(x), Up(w), Up(b), ry);
        var want = Down(ry);
        var init = Rand(new Random(7), x.Length);
        var wantDx = new float[2][];
        foreach (bool acc in new[] { false, true })
        {
            var rdx = Up(acc ? init : new float[x.Length]);
            Ref.Conv2dBackwardData(s, Up(dy), Up(w), rdx, acc);
            wantDx[acc ? 1 : 0] = Down(rdx);
        }
        foreach (bool phases in new[] { true, false })
            foreach (var route in new[] { ConvRoute.Direct, ConvRoute.Gemm, ConvRoute.Auto })
                try
                {
                    CpuConv.Route = route;
                    CpuConv.StridedPhases = phases;
                    if (route != ConvRoute.Direct || System.Runtime.Intrinsics.X86.Avx512F.IsSupported)
                    {
                        Assert.That(CpuConv.ForwardTakesStridePhases(s), Is.EqualTo(phases), $"forward route {route} {s}");
                        Assert.That(CpuConv.BackwardDataTakesStridePhases(s), Is.EqualTo(phases && s.Cin >= CpuConv.PhasesBackwardMinCin), $"backward route {route} {s}");
                    }
                    var y = Enumerable.Repeat(float.NaN, want.Length).ToArray();
                    CpuConv.Forward(s, x, w, b, y);
                    Close(y, want, $"forward {route} phases={phases} {s}");
                    foreach (bool acc in new[] { false, true })
                    {
                        var dx = acc ? (float[])init.Clone() : Enumerable.Repeat(float.NaN, x.Length).ToArray();
                        CpuConv.BackwardData(s, dy, w, dx, acc);
                        Close(dx, wantDx[acc ? 1 : 0], $"backward data acc={acc} {route} phases={phases} {s}");
                    }
                }
                finally { CpuConv.Route = ConvRoute.Auto; CpuConv.StridedPhases = true; }
    }

    /// <summary>The per-phase backward data is the same bit for bit on 1 and 3 threads and with its phases across the
    /// threads in chunks of rows (RunPhaseChunks, largest first) or one after another (each output element's sum is the
    /// same whichever thread or chunk runs it), and the reference's.</summary>
    [Test]
    public void StridePhaseBackwardDataIsTheSameOnAnyThreadsAndPhaseOrder()
    {
        var s = new ConvShape(2, 40, 45, 43, 24, 3, 2, 1);
        var (_, w, _, dy) = Data(s);
        int threads = CpuThreads.Limit;
        var runs = new List<float[]>();
        try
        {
            Assert.That(CpuConv.BackwardDataTakesStridePhases(s), Is.True);
            foreach (int t in new[] { 1, 3 })
                foreach (bool across in new[] { true, false })
                {
                    CpuThreads.Limit = t;
                    CpuConv.PhasesAcrossThreads = across;
                    var dx = Enumerable.Repeat(float.NaN, (int)s.InputLength()).ToArray();
                    CpuConv.BackwardData(s, dy, w, dx, false);
                    runs.Add(dx);
                }
        }
        finally { CpuThreads.Limit = threads; CpuConv.PhasesAcrossThreads = true; }
        for (int i = 1; i < runs.Count; i++) Assert.That(runs[i], Is.EqualTo(runs[0]), $"run {i}");
        var rdx = Up(new float[s.InputLength()]);
        Ref.Conv2dBackwardData(s, Up(dy), Up(w), rdx, false);
        Close(runs[0], Down(rdx), $"backward data {s}");
    }

    /// <summary>The direct kernel split into a multiple of the thread count of equal tasks (DirectBalancedTasks) or into
    /// tasks of 32 pixel panels, over each row's 16-pixel vectors (DirectRowVectors) or every padded-width position, gives
    /// the same bits on 1, 2 and 3 threads (each output element is one reduction in one order), and the reference's:
    /// LPIPS-Alex conv2 (5x5 on 31^2, 64 -> 192) forward and backward data (23 pixel panels: one fixed task) and the
    /// 11x11/4 forward on stride phases (AlexNet conv1's, 86 panels: three fixed tasks). Without DirectRowVectors the 5x5
    /// forward takes the GEMM (WideKernelDirect): bit for bit within each setting, close to the reference in both.</summary>
    [TestCase(64, 31, 31, 192, 5, 1, 2, true)]
    [TestCase(64, 31, 31, 192, 5, 1, 2, false)]
    [TestCase(3, 256, 256, 64, 11, 4, 2, false)]
    public void DirectTaskSplitIsTheSameOnAnyThreads(int cin, int h, int w, int cout, int k, int stride, int pad, bool backward)
    {
        var s = new ConvShape(1, cin, h, w, cout, k, stride, pad);
        var (x, wt, b, dy) = Data(s);
        float[] want;
        if (backward)
        {
            var rdx = Up(new float[s.InputLength()]);
            Ref.Conv2dBackwardData(s, Up(dy), Up(wt), rdx, false);
            want = Down(rdx);
        }
        else
        {
            var ry = Ref.Allocate(s.OutputLength());
            Ref.Conv2dForward(s, Up(x), Up(wt), Up(b), ry);
            want = Down(ry);
        }
        int threads = CpuThreads.Limit;
        try
        {
            foreach (bool rowVectors in new[] { true, false })
            {
                var runs = new List<float[]>();
                foreach (int t in new[] { 1, 2, 3 })
                    foreach (bool balanced in new[] { true, false })
                    {
                        CpuThreads.Limit = t;
                        CpuConv.DirectBalancedTasks = balanced;
                        CpuConv.DirectRowVectors = rowVectors;
                        var o = Enumerable.Repeat(float.NaN, (int)(backward ? s.InputLength() : s.OutputLength())).ToArray();
                        if (backward) CpuConv.BackwardData(s, dy, wt, o, false);
                        else CpuConv.Forward(s, x, wt, b, o);
                        runs.Add(o);
                    }
                for (int i = 1; i < runs.Count; i++) Assert.That(runs[i], Is.EqualTo(runs[0]), $"rowVectors={rowVectors} run {i}");
                Close(runs[0], want, $"{(backward ? "backward data" : "forward")} rowVectors={rowVectors} {s}");
            }
        }
        finally { CpuThreads.Limit = threads; CpuConv.DirectBalancedTasks = true; CpuConv.DirectRowVectors = true; }
    }

    /// <summary>The direct kernel over bands of 2 output rows (a band boundary inside a 48-pixel panel's reach, the last
    /// band shorter): the reference's output, and bit for bit the single band's.</summary>
    [TestCase(32, 17, 45)]
    [TestCase(24, 9, 100)]
    public void DirectInRowBandsMatchesTheReferenceAndOneBand(int cout, int h, int w)
    {
        var s = new ConvShape(1, 6, h, w, cout, 3, 1, 1);
        var (x, wt, b, _) = Data(s);
        var whole = new float[s.OutputLength()];
        var banded = new float[whole.Length];
        try
        {
            CpuConv.Route = ConvRoute.Direct;
            CpuConv.Forward(s, x, wt, b, whole);
            CpuConv.BandFloats = 2L * cout * (w + 2) + 2;
            CpuConv.Forward(s, x, wt, b, banded);
        }
        finally { CpuConv.BandFloats = CpuConv.DefaultBandFloats; CpuConv.Route = ConvRoute.Auto; }
        Assert.That(banded, Is.EqualTo(whole), "bands change no output element");
        var ry = Ref.Allocate(whole.Length);
        Ref.Conv2dForward(s, Up(x), Up(wt), Up(b), ry);
        Close(banded, Down(ry), $"banded direct forward {s}");
    }

    // Winograd F(2x2, 3x3): odd and even H and W (a half 2x2 tile on the bottom and right edges), 1-pixel maps, channel
    // counts off 16, batch 2, widths past one 16-tile vector (33 tiles: three vectors, the last with one tile).
    static readonly ConvShape[] WinogradShapes =
    [
        new(2, 5, 9, 7, 3, 3, 1, 1),
        new(2, 3, 1, 1, 7, 3, 1, 1),
        new(1, 7, 1, 5, 6, 3, 1, 1),
        new(2, 13, 17, 65, 11, 3, 1, 1),
        new(1, 19, 33, 32, 21, 3, 1, 1),
        new(2, 37, 23, 45, 70, 3, 1, 1),
        new(1, 100, 12, 14, 130, 3, 1, 1),
        new(2, 51, 64, 64, 32, 3, 1, 1),
    ];

    static IEnumerable<TestCaseData> WinogradRouteCases() =>
        WinogradShapes.SelectMany(sh => new[] { new TestCaseData(sh, ConvRoute.Winograd), new TestCaseData(sh, ConvRoute.Winograd4) });

    /// <summary>Winograd F(2x2, 3x3) and F(4x4, 3x3) forward and backward data (= and +=) against the float64 reference,
    /// relative L2 under 1e-5 (F(4x4, 3x3) lands near 3e-6 at 192-384 channels in lab conv-wino, F(2x2, 3x3) near 4e-7).</summary>
    [TestCaseSource(nameof(WinogradRouteCases))]
    public void WinogradMatchesTheReference(ConvShape s, ConvRoute route)
    {
        Assume.That(System.Runtime.Intrinsics.X86.Avx512F.IsSupported, "Winograd runs on AVX-512 only");
        var (x, w, b, dy) = Data(s);
        var ry = Ref.Allocate(s.OutputLength());
        Ref.Conv2dForward(s, Up(x), Up(w), Up(b), ry);
        var want = Down(ry);
        var init = Rand(new Random(7), x.Length);
        try
        {
            CpuConv.Route = route;
            Assert.That(CpuConv.ForwardTakesWinograd4(s), Is.EqualTo(route == ConvRoute.Winograd4), "the route under test");
            var y = Enumerable.Repeat(float.NaN, want.Length).ToArray();
            CpuConv.Forward(s, x, w, b, y);
            Close(y, want, $"{route} forward {s}");
            foreach (bool acc in new[] { false, true })
            {
                var rdx = Up(acc ? init : new float[x.Length]);
                Ref.Conv2dBackwardData(s, Up(dy), Up(w), rdx, acc);
                var dx = acc ? (float[])init.Clone() : Enumerable.Repeat(float.NaN, x.Length).ToArray();
                CpuConv.BackwardData(s, dy, w, dx, acc);
                Close(dx, Down(rdx), $"{route} backward data acc={acc} {s}");
            }
        }
        finally { CpuConv.Route = ConvRoute.Auto; }
    }

    /// <summary>The forward per block of output channels (ConvWinograd.CoutBlocks, taken where a sample fits one band) is
    /// bit for bit the all-channel path, F(2x2, 3x3) and F(4x4, 3x3): output channels off the 12-row blocks, bias or
    /// none, = and += (backward data), batch 2, and the forward of an x2 upsampling.</summary>
    [TestCase(2, 37, 23, 45, 70, ConvRoute.Winograd)]
    [TestCase(2, 37, 23, 45, 70, ConvRoute.Winograd4)]
    [TestCase(1, 100, 12, 14, 130, ConvRoute.Winograd)]
    [TestCase(1, 100, 12, 14, 130, ConvRoute.Winograd4)]
    [TestCase(2, 33, 16, 36, 5, ConvRoute.Winograd4)]
    public void WinogradPerBlockOfOutputChannelsIsTheAllChannelPath(int n, int cin, int h, int w, int cout, ConvRoute route)
    {
        Assume.That(System.Runtime.Intrinsics.X86.Avx512F.IsSupported, "Winograd runs on AVX-512 only");
        var s = new ConvShape(n, cin, h, w, cout, 3, 1, 1);
        var (x, wt, b, dy) = Data(s);
        var init = Rand(new Random(3), x.Length);
        var small = new ConvShape(n, cin, h / 2, w / 2, cout, 3, 1, 1);
        var xs = Rand(new Random(4), small.InputLength());
        float[][] Run()
        {
            var y = new float[s.OutputLength()];
            CpuConv.Forward(s, x, wt, b, y);
            var y0 = new float[s.OutputLength()];
            CpuConv.Forward(s, x, wt, null, y0);
            var dx = (float[])init.Clone();
            CpuConv.BackwardData(s, dy, wt, dx, true);
            var yu = new float[s.OutputLength()];
            if (h % 2 == 0 && w % 2 == 0) CpuConv.ForwardUpsample2x(s, xs, wt, b, yu); // an odd map is no x2 upsampling
            return [y, y0, dx, yu];
        }
        float[][] blocked, whole;
        try
        {
            CpuConv.Route = route;
            Assert.That(CpuConv.ForwardTakesWinogradCoutBlocks(s), "one band a sample: per block");
            blocked = Run();
            CpuConv.WinogradCoutBlocks = false;
            Assert.That(CpuConv.ForwardTakesWinogradCoutBlocks(s), Is.False);
            whole = Run();
        }
        finally { CpuConv.WinogradCoutBlocks = true; CpuConv.Route = ConvRoute.Auto; }
        string[] what = ["forward", "forward without bias", "backward data +=", "forward of an x2 upsampling"];
        for (int i = 0; i < what.Length; i++) Assert.That(blocked[i], Is.EqualTo(whole[i]), $"{what[i]} {route} {s}");
        var ry = Ref.Allocate(s.OutputLength());
        Ref.Conv2dForward(s, Up(x), Up(wt), Up(b), ry);
        Close(blocked[0], Down(ry), $"{route} per block forward {s}");
    }

    /// <summary>Auto takes F(4x4, 3x3) where Winograd runs with at least Winograd4MinTiles (64) 4x4 tiles a sample: the x4
    /// model's 32^2 and larger maps, not its 16^2 (16 tiles) nor the deepest 8^2 level, nor batches of small maps.</summary>
    [TestCase(1, 192, 64, 64, 192, true)]
    [TestCase(1, 384, 32, 32, 384, true)]
    [TestCase(1, 384, 29, 32, 384, true)] // 8 x 8 tiles, the last row of tiles partial
    [TestCase(1, 384, 28, 32, 384, false)] // 7 x 8 tiles
    [TestCase(1, 384, 16, 16, 384, false)]
    [TestCase(4, 384, 8, 8, 384, false)]
    [TestCase(1, 32, 64, 64, 64, false)] // Winograd on the direct kernel's side (Cout <= 64)
    public void AutoTakesWinograd4FromSixtyFourTiles(int n, int cin, int h, int w, int cout, bool f4)
    {
        Assume.That(System.Runtime.Intrinsics.X86.Avx512F.IsSupported, "Winograd runs on AVX-512 only");
        Assert.That(CpuConv.ForwardTakesWinograd4(new ConvShape(n, cin, h, w, cout, 3, 1, 1)), Is.EqualTo(f4));
    }

    /// <summary>Auto's weight gradient takes F(4x4, 3x3) from a band of 256 4x4 tiles (Winograd4WeightGradMinTiles):
    /// 64^2 maps, or 32^2 at batch 4 (samples share a band), not one 32^2 sample (64 tiles).</summary>
    [TestCase(1, 192, 64, 64, 192, true)]
    [TestCase(1, 384, 32, 32, 384, false)]
    [TestCase(4, 384, 32, 32, 384, true)]
    [TestCase(4, 384, 16, 16, 384, false)]
    [TestCase(1, 32, 256, 256, 32, true)]
    public void AutoWeightGradientTakesWinograd4FromBandsOf256Tiles(int n, int cin, int h, int w, int cout, bool f4)
    {
        Assume.That(System.Runtime.Intrinsics.X86.Avx512F.IsSupported, "Winograd runs on AVX-512 only");
        Assert.That(CpuConv.WeightGradTakesWinograd4(new ConvShape(n, cin, h, w, cout, 3, 1, 1)), Is.EqualTo(f4));
    }

    /// <summary>Winograd weight gradient (dw and db accumulate onto prior contents) on the same shapes. Bound: the rest of
    /// the file's relative L2 1e-5; the errors seen are ~1e-7 to 5e-7, like the forward's (transforms of up to 4 dy and
    /// 16 x values before the products, then the float sum over all tiles that the GEMM route does over pixels).</summary>
    /// F(4x4, 3x3) (route Winograd4) on the same shapes and bound.</summary>
    [TestCaseSource(nameof(WinogradRouteCases))]
    public void WinogradWeightGradientMatchesTheReference(ConvShape s, ConvRoute route)
    {
        Assume.That(System.Runtime.Intrinsics.X86.Avx512F.IsSupported, "Winograd runs on AVX-512 only");
        var (x, w, b, dy) = Data(s);
        float[] dw = (float[])w.Clone(), db = (float[])b.Clone(); // arbitrary prior contents: must be added to
        try
        {
            CpuConv.Route = route;
            Assert.That(CpuConv.WeightGradTakesWinograd4(s), Is.EqualTo(route == ConvRoute.Winograd4), "the route under test");
            CpuConv.BackwardWeight(s, x, dy, dw, db);
        }
        finally { CpuConv.Route = ConvRoute.Auto; }
        DeviceBuffer rdw = Up(w), rdb = Up(b);
        Ref.Conv2dBackwardWeight(s, Up(x), Up(dy), rdw, rdb);
        Close(dw, Down(rdw), $"dw {s}");
        Close(db, Down(rdb), $"db {s}");
        // the gradient alone (a zero start), so that the prior contents cannot hide a small error
        var dw0 = new float[w.Length];
        try
        {
            CpuConv.Route = route;
            CpuConv.BackwardWeight(s, x, dy, dw0, null);
        }
        finally { CpuConv.Route = ConvRoute.Auto; }
        var rdw0 = Up(new float[w.Length]);
        Ref.Conv2dBackwardWeight(s, Up(x), Up(dy), rdw0, null);
        Close(dw0, Down(rdw0), $"{route} dw from zero {s}");
    }

    /// <summary>The Winograd weight gradient over bands of one tile row (partial sums of the tiles accumulated band after
    /// band, an odd height ending in a half band): the reference's, and within 1e-6 (F(4x4, 3x3): 5e-6) of the single
    /// band's (the sum over tiles is split differently, so not bit for bit).</summary>
    [TestCase(6, 9, 35, ConvRoute.Winograd)]
    [TestCase(20, 14, 50, ConvRoute.Winograd)]
    [TestCase(6, 9, 35, ConvRoute.Winograd4)]
    [TestCase(20, 14, 70, ConvRoute.Winograd4)]
    public void WinogradWeightGradientInRowBandsMatchesTheReferenceAndOneBand(int c, int h, int w, ConvRoute route)
    {
        Assume.That(System.Runtime.Intrinsics.X86.Avx512F.IsSupported, "Winograd runs on AVX-512 only");
        var s = new ConvShape(2, c, h, w, c + 3, 3, 1, 1);
        var (x, wt, _, dy) = Data(s);
        var whole = new float[wt.Length];
        var banded = new float[wt.Length];
        try
        {
            CpuConv.Route = route;
            CpuConv.BackwardWeight(s, x, dy, whole, null);
            CpuConv.BandFloats = route == ConvRoute.Winograd4 ? 36L * (c + 3) * ((w + 3) / 4) : 16L * (c + 3) * ((w + 1) / 2);
            CpuConv.BackwardWeight(s, x, dy, banded, null);
        }
        finally { CpuConv.BandFloats = CpuConv.DefaultBandFloats; CpuConv.Route = ConvRoute.Auto; }
        var rdw = Up(new float[wt.Length]);
        Ref.Conv2dBackwardWeight(s, Up(x), Up(dy), rdw, null);
        var want = Down(rdw);
        Close(banded, want, $"banded {route} weight gradient {s}");
        Close(whole, want, $"one-band {route} weight gradient {s}");
        double e = 0, n = 0;
        for (int i = 0; i < whole.Length; i++) { double d = banded[i] - (double)whole[i]; e += d * d; n += (double)whole[i] * whole[i]; }
        // F(4x4, 3x3) rounds each to ~3e-6 of the reference (F(2x2, 3x3) ~4e-7), so the two sums differ by more
        Assert.That(Math.Sqrt(e / n), Is.LessThan(route == ConvRoute.Winograd4 ? 5e-6 : 1e-6), "bands against one band");
    }

    /// <summary>The Winograd weight gradient with several small samples' tiles in one band: all three in one (the
    /// default budget) and two then one (a budget of 18 tiles: 2 samples of 3 x 3 tiles, the last group shorter; for
    /// F(4x4, 3x3) 8 tiles: 2 samples of 2 x 2 tiles).</summary>
    [TestCase(0L, ConvRoute.Winograd)]
    [TestCase(16L * 9 * 18, ConvRoute.Winograd)]
    [TestCase(0L, ConvRoute.Winograd4)]
    [TestCase(36L * 9 * 8, ConvRoute.Winograd4)]
    public void WinogradWeightGradientWithSamplesSharingABandMatchesTheReference(long bandFloats, ConvRoute route)
    {
        Assume.That(System.Runtime.Intrinsics.X86.Avx512F.IsSupported, "Winograd runs on AVX-512 only");
        var s = new ConvShape(3, 6, 5, 6, 9, 3, 1, 1);
        var (x, wt, _, dy) = Data(s);
        var dw = new float[wt.Length];
        try
        {
            CpuConv.Route = route;
            if (bandFloats > 0) CpuConv.BandFloats = bandFloats;
            CpuConv.BackwardWeight(s, x, dy, dw, null);
        }
        finally { CpuConv.BandFloats = CpuConv.DefaultBandFloats; CpuConv.Route = ConvRoute.Auto; }
        var rdw = Up(new float[wt.Length]);
        Ref.Conv2dBackwardWeight(s, Up(x), Up(dy), rdw, null);
        Close(dw, Down(rdw), $"{route} weight gradient, band of {bandFloats} floats, {s}");
    }

    /// <summary>Winograd over bands of one tile row (2 output rows; an odd height ends in a half band): the reference's
    /// output, and bit for bit the single band's.</summary>
    [TestCase(6, 9, 35, ConvRoute.Winograd)]
    [TestCase(20, 14, 50, ConvRoute.Winograd)]
    [TestCase(6, 9, 35, ConvRoute.Winograd4)] // 4 output rows a band, the last band 1 row
    [TestCase(20, 14, 70, ConvRoute.Winograd4)] // the last band 2 rows, 18 tiles a row (two 16-tile groups)
    public void WinogradInRowBandsMatchesTheReferenceAndOneBand(int c, int h, int w, ConvRoute route)
    {
        Assume.That(System.Runtime.Intrinsics.X86.Avx512F.IsSupported, "Winograd runs on AVX-512 only");
        var s = new ConvShape(2, c, h, w, c + 3, 3, 1, 1);
        var (x, wt, b, _) = Data(s);
        var whole = new float[s.OutputLength()];
        var banded = new float[whole.Length];
        try
        {
            CpuConv.Route = route;
            CpuConv.Forward(s, x, wt, b, whole);
            CpuConv.BandFloats = route == ConvRoute.Winograd4 ? 36L * (c + 3) * ((w + 3) / 4) : 16L * (c + 3) * ((w + 1) / 2);
            CpuConv.Forward(s, x, wt, b, banded);
        }
        finally { CpuConv.BandFloats = CpuConv.DefaultBandFloats; CpuConv.Route = ConvRoute.Auto; }
        Assert.That(banded, Is.EqualTo(whole), "bands change no output element");
        var ry = Ref.Allocate(whole.Length);
        Ref.Conv2dForward(s, Up(x), Up(wt), Up(b), ry);
        Close(banded, Down(ry), $"banded {route} forward {s}");
    }

    /// <summary>The few-output kernel (1-3 output channels, 3x3 stride 1 pad 1: every model's RGB layer) against the float64
    /// reference: widths off the 32-pixel tile and the 16-pixel vector (1, 5, 17, 33, 70), heights off the 2-row pair and
    /// the 8-row band, channel counts across its 32-channel blocks (70: three), batch 2, with and without bias; and the
    /// same bits on 1 and 3 threads (every output element is one sum in one order). Likewise its weight gradient (dw +=,
    /// across 16-row blocks and 8-channel groups).</summary>
    [TestCase(2, 70, 19, 70, 3)]
    [TestCase(1, 5, 1, 1, 3)]
    [TestCase(1, 3, 2, 5, 1)]
    [TestCase(2, 33, 9, 17, 2)]
    [TestCase(1, 192, 12, 33, 3)]
    [TestCase(1, 32, 64, 64, 3)]
    public void FewOutputsMatchesTheReference(int n, int cin, int h, int w, int cout)
    {
        Assume.That(System.Runtime.Intrinsics.X86.Avx512F.IsSupported, "the few-output kernel runs on AVX-512 only");
        var s = new ConvShape(n, cin, h, w, cout, 3, 1, 1);
        Assert.That(CpuConv.ForwardTakesFewOutputs(s), "Auto takes the few-output kernel");
        var (x, wt, b, _) = Data(s);
        int threads = CpuThreads.Limit;
        foreach (var bias in new[] { b, null })
        {
            var ry = Ref.Allocate(s.OutputLength());
            Ref.Conv2dForward(s, Up(x), Up(wt), bias is null ? null : Up(bias), ry);
            var runs = new List<float[]>();
            try
            {
                foreach (int t in new[] { 1, 3 })
                {
                    CpuThreads.Limit = t;
                    var y = Enumerable.Repeat(float.NaN, (int)s.OutputLength()).ToArray();
                    CpuConv.Forward(s, x, wt, bias, y);
                    runs.Add(y);
                }
            }
            finally { CpuThreads.Limit = threads; }
            Close(runs[0], Down(ry), $"few outputs {s} bias={bias is not null}");
            Assert.That(runs[1], Is.EqualTo(runs[0]), "1 and 3 threads");
        }
        var (_, _, _, dy) = Data(s);
        var init = Rand(new Random(9), wt.Length);
        var rdw = Up(init);
        Ref.Conv2dBackwardWeight(s, Up(x), Up(dy), rdw, null);
        var grads = new List<float[]>();
        try
        {
            foreach (int t in new[] { 1, 3 })
            {
                CpuThreads.Limit = t;
                var dw = (float[])init.Clone();
                CpuConv.BackwardWeight(s, x, dy, dw, null);
                grads.Add(dw);
            }
        }
        finally { CpuThreads.Limit = threads; }
        Close(grads[0], Down(rdw), $"few outputs weight gradient {s}");
        Assert.That(grads[1], Is.EqualTo(grads[0]), "weight gradient on 1 and 3 threads");
    }

    /// <summary>The Winograd backward data reads the forward's weights in place (transposed, taps reversed in the weight
    /// transform) in one band, in bands of one tile row (the all-channel path) and per block of channels: each against
    /// the float64 reference, and against the flipped, transposed copy it replaced (WinogradTransposedInPlace off).
    /// Input channels (the transposed kernel's outputs) off the 12-row blocks, batch 2, = and +=.</summary>
    [TestCase(ConvRoute.Winograd, false)]
    [TestCase(ConvRoute.Winograd, true)]
    [TestCase(ConvRoute.Winograd4, false)]
    [TestCase(ConvRoute.Winograd4, true)]
    public void WinogradBackwardDataReadsTheWeightsInPlace(ConvRoute route, bool bands)
    {
        Assume.That(System.Runtime.Intrinsics.X86.Avx512F.IsSupported, "Winograd runs on AVX-512 only");
        var s = new ConvShape(2, 29, 18, 21, 37, 3, 1, 1);
        var (_, wt, _, dy) = Data(s);
        var init = Rand(new Random(5), s.InputLength());
        var rdx = Up(new float[init.Length]);
        Ref.Conv2dBackwardData(s, Up(dy), Up(wt), rdx, false);
        var want = Down(rdx);
        float[] Run(bool inPlace, bool acc)
        {
            CpuConv.WinogradTransposedInPlace = inPlace;
            var dx = acc ? (float[])init.Clone() : Enumerable.Repeat(float.NaN, init.Length).ToArray();
            CpuConv.BackwardData(s, dy, wt, dx, acc);
            return dx;
        }
        try
        {
            CpuConv.Route = route;
            // one tile row a band: the all-channel path, U once for every band
            if (bands) CpuConv.BandFloats = (route == ConvRoute.Winograd4 ? 36L * 6 : 16L * 11) * Math.Max(s.Cin, s.Cout);
            foreach (bool acc in new[] { false, true })
            {
                var wantAcc = acc ? want.Select((v, i) => v + init[i]).ToArray() : want;
                var inPlace = Run(true, acc);
                var copy = Run(false, acc);
                Close(inPlace, wantAcc, $"{route} in place, bands={bands} acc={acc}");
                Close(copy, wantAcc, $"{route} flipped copy, bands={bands} acc={acc}");
                Close(inPlace, copy, $"{route} in place against the flipped copy, bands={bands} acc={acc}");
            }
        }
        finally { CpuConv.WinogradTransposedInPlace = true; CpuConv.BandFloats = CpuConv.DefaultBandFloats; CpuConv.Route = ConvRoute.Auto; }
    }

    /// <summary>Winograd of an x2 upsampling read with halved indices (conv_up1/conv_up2 at inference): bit for bit
    /// Winograd on the upsampled map, in one band and in bands of one tile row, batch 2, with and without bias; and
    /// the reference's output.</summary>
    [TestCase(9, 15, 40, 70, false)] // Auto takes Winograd from WinogradMinTiles (64) tiles a sample
    [TestCase(2, 32, 33, 65, false)]
    [TestCase(16, 18, 33, 65, true)] // 8 x 9 4x4 tiles: Auto takes F(4x4, 3x3)
    public void WinogradOfAnUpsamplingIsWinogradOnTheUpsampledMap(int hs, int ws, int cin, int cout, bool f4)
    {
        Assume.That(System.Runtime.Intrinsics.X86.Avx512F.IsSupported, "Winograd runs on AVX-512 only");
        var s = new ConvShape(2, cin, 2 * hs, 2 * ws, cout, 3, 1, 1);
        Assert.That(CpuConv.ForwardTakesWinograd4(s), Is.EqualTo(f4), "Auto's Winograd");
        var small = new ConvShape(2, cin, hs, ws, cout, 3, 1, 1);
        var (x, wt, b, _) = Data(small);
        var up = new float[s.N * cin * s.H * s.W];
        for (int p = 0; p < s.N * cin; p++)
            for (int i = 0; i < s.H; i++)
                for (int j = 0; j < s.W; j++) up[((long)p * s.H + i) * s.W + j] = x[((long)p * hs + i / 2) * ws + j / 2];
        try
        {
            foreach (var bias in new[] { b, null })
            {
                CpuConv.Route = ConvRoute.Auto; // cin >= 32, cout > 64: Auto takes Winograd
                var want = new float[s.OutputLength()];
                CpuConv.Forward(s, up, wt, bias, want);
                var got = Enumerable.Repeat(float.NaN, want.Length).ToArray();
                CpuConv.ForwardUpsample2x(s, x, wt, bias, got);
                Assert.That(got, Is.EqualTo(want), $"one band, bias {bias is not null}");
                CpuConv.BandFloats = CpuConv.ForwardTakesWinograd4(s) ? 36L * Math.Max(cin, cout) * ((s.W + 3) / 4) : 16L * Math.Max(cin, cout) * ((s.W + 1) / 2);
                var banded = Enumerable.Repeat(float.NaN, want.Length).ToArray();
                CpuConv.ForwardUpsample2x(s, x, wt, bias, banded);
                CpuConv.BandFloats = CpuConv.DefaultBandFloats;
                Assert.That(banded, Is.EqualTo(want), $"bands of one tile row, bias {bias is not null}");
                CpuConv.Route = ConvRoute.Gemm;
                var gemm = new float[want.Length];
                CpuConv.ForwardUpsample2x(s, x, wt, bias, gemm);
                Assert.That(gemm, Is.Not.EqualTo(want), "the Auto route above is Winograd, not the GEMM (their roundings differ)");
                var ry = Ref.Allocate(want.Length);
                Ref.Conv2dForward(s, Up(up), Up(wt), bias is null ? null : Up(bias), ry);
                Close(got, Down(ry), $"Winograd up2 forward {s}");
            }
        }
        finally { CpuConv.BandFloats = CpuConv.DefaultBandFloats; CpuConv.Route = ConvRoute.Auto; }
    }

    static IEnumerable<TestCaseData> WinogradSmallCases() =>
        WinogradShapes.Concat(new ConvShape[] { new(1, 32, 1, 1, 32, 3, 1, 1), new(2, 17, 31, 33, 64, 3, 1, 1), new(1, 64, 20, 26, 3, 3, 1, 1) })
            .Select(sh => new TestCaseData(sh));

    /// <summary>Winograd on the direct kernel (ConvWinogradSmall), forward and backward data (= and +=), on the shapes of
    /// the GEMM-based one plus 1-pixel maps at the model's 32 channels, 64 outputs (8 full direct panels) and 3.</summary>
    [TestCaseSource(nameof(WinogradSmallCases))]
    public void WinogradSmallMatchesTheReference(ConvShape s)
    {
        Assume.That(System.Runtime.Intrinsics.X86.Avx512F.IsSupported, "Winograd runs on AVX-512 only");
        var (x, w, b, dy) = Data(s);
        var ry = Ref.Allocate(s.OutputLength());
        Ref.Conv2dForward(s, Up(x), Up(w), Up(b), ry);
        var want = Down(ry);
        var init = Rand(new Random(7), x.Length);
        try
        {
            CpuConv.Route = ConvRoute.WinogradSmall;
            var y = Enumerable.Repeat(float.NaN, want.Length).ToArray();
            CpuConv.Forward(s, x, w, b, y);
            Close(y, want, $"forward {s}");
            foreach (bool acc in new[] { false, true })
            {
                var rdx = Up(acc ? init : new float[x.Length]);
                Ref.Conv2dBackwardData(s, Up(dy), Up(w), rdx, acc);
                var dx = acc ? (float[])init.Clone() : Enumerable.Repeat(float.NaN, x.Length).ToArray();
                CpuConv.BackwardData(s, dy, w, dx, acc);
                Close(dx, Down(rdx), $"backward data acc={acc} {s}");
            }
        }
        finally { CpuConv.Route = ConvRoute.Auto; }
    }

    /// <summary>ConvWinogradSmall on one thread and on three (pieces of 48 tiles taken in another order, by other
    /// workers' buffers): the reference's output, and bit for bit the same.</summary>
    [TestCase(6, 9, 35)]
    [TestCase(20, 14, 50)]
    [TestCase(32, 7, 197)]
    public void WinogradSmallIsTheSameOnAnyThreadCount(int c, int h, int w)
    {
        Assume.That(System.Runtime.Intrinsics.X86.Avx512F.IsSupported, "Winograd runs on AVX-512 only");
        var s = new ConvShape(2, c, h, w, c + 3, 3, 1, 1);
        var (x, wt, b, _) = Data(s);
        var one = new float[s.OutputLength()];
        var three = new float[one.Length];
        int threads = CpuThreads.Limit;
        try
        {
            CpuConv.Route = ConvRoute.WinogradSmall;
            CpuThreads.Limit = 1;
            CpuConv.Forward(s, x, wt, b, one);
            CpuThreads.Limit = 3;
            CpuConv.Forward(s, x, wt, b, three);
        }
        finally { CpuThreads.Limit = threads; CpuConv.Route = ConvRoute.Auto; }
        Assert.That(three, Is.EqualTo(one), "the thread count changes no output element");
        var ry = Ref.Allocate(one.Length);
        Ref.Conv2dForward(s, Up(x), Up(wt), Up(b), ry);
        Close(three, Down(ry), $"Winograd-small forward {s}");
    }

    /// <summary>The x2-upsampling forward on ConvWinogradSmall (on the default threads and on one): the reference's
    /// convolution of the upsampled map, and bit for bit CpuConv.Forward of that map on the same route.</summary>
    [TestCase(1, 5, 3, 4, 7)]
    [TestCase(2, 32, 9, 17, 32)]
    [TestCase(1, 17, 1, 1, 20)]
    public void WinogradSmallUpsample2xMatchesTheReference(int n, int cin, int hs, int ws, int cout)
    {
        Assume.That(System.Runtime.Intrinsics.X86.Avx512F.IsSupported, "Winograd runs on AVX-512 only");
        var s = new ConvShape(n, cin, 2 * hs, 2 * ws, cout, 3, 1, 1);
        var r = new Random(11);
        float[] x = Rand(r, (long)n * cin * hs * ws), w = Rand(r, s.WeightLength()), b = Rand(r, cout);
        var u = new float[s.InputLength()];
        for (int p = 0; p < n * cin; p++)
            for (int i = 0; i < 2 * hs; i++)
                for (int j = 0; j < 2 * ws; j++) u[((long)p * 2 * hs + i) * 2 * ws + j] = x[((long)p * hs + i / 2) * ws + j / 2];
        var ry = Ref.Allocate(s.OutputLength());
        Ref.Conv2dForward(s, Up(u), Up(w), Up(b), ry);
        var want = Down(ry);
        var fused = Enumerable.Repeat(float.NaN, want.Length).ToArray();
        var banded = Enumerable.Repeat(float.NaN, want.Length).ToArray();
        var plain = Enumerable.Repeat(float.NaN, want.Length).ToArray();
        int threads = CpuThreads.Limit;
        try
        {
            CpuConv.Route = ConvRoute.WinogradSmall;
            CpuConv.ForwardUpsample2x(s, x, w, b, fused);
            CpuConv.Forward(s, u, w, b, plain);
            CpuThreads.Limit = 1;
            CpuConv.ForwardUpsample2x(s, x, w, b, banded);
        }
        finally { CpuThreads.Limit = threads; CpuConv.Route = ConvRoute.Auto; }
        Close(fused, want, $"upsampling forward {s}");
        Assert.That(fused, Is.EqualTo(plain), "the same sums as upsampling first");
        Assert.That(banded, Is.EqualTo(fused), "the thread count changes no output element");
    }

    [Test]
    public void ShortBufferThrowsWithMessage()
    {
        var s = new ConvShape(1, 2, 4, 4, 3, 3, 1, 1);
        var ex = Assert.Throws<ArgumentException>(() => CpuConv.Forward(s, new float[31], new float[54], null, new float[48]));
        Assert.That(ex!.Message, Does.Contain("x holds 31"));
    }

    /// <summary>GELU (and the bias) in the GEMM's epilogue against the float64 reference: pixels off 16 (a row tail through a
    /// padded vector), output channels off 12, a reduction of two 256 slices, batch 2, one and two threads; and bit for bit
    /// the separate ops (conv, then GELU's 16-lane path) where no tail exists.</summary>
    [TestCase(2, 48, 9, 13, 100)]
    [TestCase(1, 300, 8, 9, 76)]
    [TestCase(1, 64, 12, 12, 130)]
    public void PointwiseConvWithGeluInTheEpilogueMatchesTheReference(int n, int cin, int h, int w, int cout)
    {
        var s = new ConvShape(n, cin, h, w, cout, 1, 1, 0);
        Assert.That(CpuConv.FusesActivation(s, Activation.Gelu), Is.True, "the route under test");
        var (x, wt, b, _) = Data(s);
        var ry = Ref.Allocate(s.OutputLength());
        Ref.Conv2dForward(s, Up(x), Up(wt), Up(b), ry);
        Ref.ActivationForward(Activation.Gelu, 0f, s.OutputLength(), ry, ry);
        var want = Down(ry);
        float[]? first = null;
        foreach (int threads in new[] { 1, 2 })
        {
            int before = CpuThreads.Limit;
            try
            {
                CpuThreads.Limit = threads;
                var y = Enumerable.Repeat(float.NaN, want.Length).ToArray();
                CpuConv.ForwardAct(s, x, wt, b, y, Activation.Gelu);
                Close(y, want, $"conv + GELU, {threads} threads, {s}");
                if (first is null) first = y;
                else Assert.That(y, Is.EqualTo(first), "the same bits on 1 and 2 threads");
            }
            finally { CpuThreads.Limit = before; }
        }
        if ((long)h * w % 16 == 0 && cin <= 256)
        {
            var sep = new float[want.Length];
            CpuConv.Forward(s, x, wt, b, sep);
            var g = new float[sep.Length];
            CpuActivation.GeluForward(sep, g, 0, g.Length, wide: true);
            Assert.That(first, Is.EqualTo(g), "fused = conv then GELU, bit for bit");
        }
    }
}
