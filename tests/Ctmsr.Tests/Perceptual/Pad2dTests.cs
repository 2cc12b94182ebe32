using Ctmsr.Autograd;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Kernels.Reference;

namespace Ctmsr.Tests.Perceptual;

/// <summary>F.Pad2d: values by hand (asymmetric, a fill value), the gradient against float64 finite differences.</summary>
public class Pad2dTests
{
    [Test]
    public void PadsEachSideByItsOwnAmountWithTheFillValue()
    {
        using var ctx = new Context(new CpuBackend());
        using var scope = Tape.Scope();
        var x = Tensor.From(ctx, [1, 2, 3, 4, 5, 6], 1, 1, 2, 3);
        var y = F.Pad2d(x, 1, 0, 0, 2, -7f);
        Assert.That(y.Shape, Is.EqualTo(new[] { 1, 1, 3, 5 }));
        Assert.That(y.ToArray(), Is.EqualTo(new float[] { -7, -7, -7, -7, -7, 1, 2, 3, -7, -7, 4, 5, 6, -7, -7 }));
    }

    [Test]
    public void GradientMatchesFloat64FiniteDifferences()
    {
        using var ctx = new Context(new ReferenceBackend());
        var rng = new Random(4);
        float[] R(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var x = Tensor.From(ctx, R(2 * 3 * 4 * 5), 2, 3, 4, 5);
        var w = Tensor.From(ctx, R(2 * 3 * 7 * 6), 2, 3, 7, 6);
        double err = GradCheck.MaxRelativeError(() =>
        {
            using var p = F.Pad2d(x, 2, 0, 1, 1, 0.5f);
            using var m = F.Mul(p, w);
            return F.Sum(m);
        }, [x], h: 1e-6, maxElementsPerInput: 16);
        Assert.That(err, Is.LessThan(1e-6));
    }
}
