using Ctmsr.Bench.Lab;

namespace Ctmsr.Tests.Bench;

/// <summary>Every variant of every lab kernel passes its bound against the float64 reference at the lab's first shape;
/// bad arguments are usage errors.</summary>
public sealed class KernelLabTests
{
    static IEnumerable<TestCaseData> Variants() =>
        KernelLab.Kernels.SelectMany(k => k.Variants.Select(v => new TestCaseData(k.Name, v.Number).SetArgDisplayNames(k.Name, v.Number.ToString())));

    [TestCaseSource(nameof(Variants))]
    public void VariantMatchesTheReference(string kernel, int variant)
    {
        var k = KernelLab.Kernels.Single(x => x.Name == kernel);
        double err = k.Prepare(0).Check(variant);
        Assert.That(err, Is.LessThan(k.Tolerance), $"relative L2 {err:E2}");
    }

    [Test]
    public void AnUnknownVariantIsAUsageError()
    {
        Assert.That(KernelLab.Run(["groupnorm-backward", "99"]), Is.EqualTo(2));
        Assert.That(KernelLab.Run(["nope"]), Is.EqualTo(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => KernelLab.Kernels[0].Prepare(0).Run(99));
    }
}
