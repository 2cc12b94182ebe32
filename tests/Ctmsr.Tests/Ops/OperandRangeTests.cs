using Ctmsr.Kernels;

namespace Ctmsr.Tests.Ops;

/// <summary>
/// Copies, GEMM and convolutions refuse operands that do not fit their buffers (an ArgumentException naming the operand)
/// instead of reading or writing past them, on every registered device but the oracle; an offset past int.MaxValue
/// does not wrap round on the CPU. Operands of exactly the right size pass.
/// </summary>
[TestFixtureSource(typeof(TestDevices), nameof(TestDevices.Checked)), NonParallelizable]
public sealed class OperandRangeTests(string device)
{
    Backend _be = null!;

    [OneTimeSetUp] public void Setup() => _be = TestDevices.OpenOrSkip(device);
    [OneTimeTearDown] public void TearDown() => _be?.Dispose();

    DeviceBuffer Buf(long n, float v = 1f) { var b = _be.Allocate(n); _be.Fill(b, v, 0, n); return b; }

    [Test]
    public void CopiesOutsideTheBufferAreRefused()
    {
        using var b = Buf(16);
        Assert.Catch<ArgumentException>(() => _be.Upload(new float[4], b, (1L << 32) + 2), "offset 2^32 + 2 must not land at 2");
        Assert.Catch<ArgumentException>(() => _be.Upload(new float[4], b, 13));
        Assert.Catch<ArgumentException>(() => _be.Download(b, new float[4], 13));
        Assert.Catch<ArgumentException>(() => _be.Fill(b, 0f, 10, 7));
        Assert.Catch<ArgumentException>(() => _be.Fill(b, 0f, -1, 2));
        _be.Upload([5f, 6f, 7f, 8f], b, 12);
        var tail = new float[4];
        _be.Download(b, tail, 12);
        Assert.That(tail, Is.EqualTo(new[] { 5f, 6f, 7f, 8f }));
        var head = new float[12];
        _be.Download(b, head);
        Assert.That(head, Is.All.EqualTo(1f), "nothing written outside [12, 16)");
    }

    [Test]
    public void GemmRefusesOperandsThatDoNotFit()
    {
        const int m = 4, n = 5, k = 3;
        using var a = Buf(m * k); using var b = Buf(k * n); using var c = Buf(m * n, 0f);
        void Gemm(DeviceBuffer aa, int lda, DeviceBuffer cc, long strideC = 0, int batch = 1) =>
            _be.Gemm(false, false, m, n, k, 1f, aa, 0, lda, 0, b, 0, n, 0, 0f, cc, 0, n, strideC, batch);
        Gemm(a, k, c);
        var got = new float[m * n];
        _be.Download(c, got);
        Assert.That(got, Is.All.EqualTo((float)k), "ones times ones: k in every element");
        using var shortC = Buf(m * n - 1);
        Assert.That(Assert.Catch<ArgumentException>(() => Gemm(a, k, shortC))!.Message, Does.Contain("C"));
        Assert.Catch<ArgumentException>(() => Gemm(a, k - 1, c), "lda below k");
        Assert.Catch<ArgumentException>(() => Gemm(a, k, c, strideC: m * n, batch: 2), "the second C of the batch is outside");
        Assert.Catch<ArgumentException>(() => _be.Gemm(false, false, -1, n, k, 1f, a, 0, k, 0, b, 0, n, 0, 0f, c, 0, n, 0, 1));
    }

    [Test]
    public void ConvolutionsRefuseOperandsThatDoNotFit()
    {
        var s = new ConvShape(1, 2, 5, 5, 3, 3, 1, 1);
        using var x = Buf(s.InputLength()); using var w = Buf(s.WeightLength()); using var bias = Buf(s.Cout); using var y = Buf(s.OutputLength());
        _be.Conv2dForward(s, x, w, bias, y);
        var got = new float[s.OutputLength()];
        _be.Download(y, got);
        Assert.That(got[(2 * 5) + 2], Is.EqualTo(2 * 9 + 1f), "an interior output: 2 channels x 9 ones, plus the bias");
        using var shortY = Buf(s.OutputLength() - 1);
        using var shortBias = Buf(s.Cout - 1);
        using var shortX = Buf(s.InputLength() - 1);
        Assert.That(Assert.Catch<ArgumentException>(() => _be.Conv2dForward(s, x, w, bias, shortY))!.Message, Does.Contain("y"));
        Assert.Catch<ArgumentException>(() => _be.Conv2dForward(s, x, w, shortBias, y));
        Assert.Catch<ArgumentException>(() => _be.Conv2dBackwardData(s, y, w, shortX, false));
        using var dw = Buf(s.WeightLength(), 0f);
        Assert.Catch<ArgumentException>(() => _be.Conv2dBackwardWeight(s, shortX, y, dw, null));
        Assert.Catch<ArgumentException>(() => _be.Conv2dForward(s with { Stride = 0 }, x, w, bias, y));
    }
}
