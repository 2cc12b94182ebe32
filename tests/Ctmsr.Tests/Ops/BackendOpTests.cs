using Ctmsr.Kernels;
using Ctmsr.Kernels.Conformance;
using Ctmsr.Kernels.Reference;

namespace Ctmsr.Tests.Ops;

/// <summary>
/// Every op of the catalogue on one backend against the float64 reference: the cases of
/// <see cref="OpConformance"/> (the same ones `ctmsr selfcheck` runs), one NUnit case each. Inputs are random
/// and non-zero, outputs are pre-filled with random values (a kernel that should accumulate but writes, or the
/// reverse, fails). Bound: relative L2 below 1e-5 (1e-6 elementwise and AdamW, 1e-4 sums over long axes).
/// Runs on every registered device but the oracle itself (<see cref="TestDevices.Checked"/>); absent ones skip.
/// </summary>
[TestFixtureSource(typeof(TestDevices), nameof(TestDevices.Checked)), NonParallelizable]
public sealed class BackendOpTests(string device)
{
    Backend _be = null!;
    readonly ReferenceBackend _ref = new();

    [OneTimeSetUp] public void Setup() => _be = TestDevices.OpenOrSkip(device);
    [OneTimeTearDown] public void TearDown() => _be?.Dispose();

    static IEnumerable<TestCaseData> Cases() => OpConformance.Cases.Select(c => new TestCaseData(c).SetArgDisplayNames(c.ToString()));

    [TestCaseSource(nameof(Cases))]
    public void Op(OpCase c)
    {
        var r = OpConformance.Run(_be, _ref, c);
        Assert.That(r.Failure, Is.Null, "the op threw");
        Assert.That(r.Error, Is.LessThan(c.Tolerance), $"relative L2 error {r.Error:E2}");
    }
}
