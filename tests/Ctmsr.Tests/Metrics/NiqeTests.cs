using Ctmsr.Model.Checkpoints;
using Ctmsr.Imaging;
using Ctmsr.Metrics;

namespace Ctmsr.Tests.Metrics;

/// <summary>NIQE against BasicSR (ops.safetensors metrics.niqe_gt), and its building blocks against closed forms.</summary>
public class NiqeTests
{
    static NiqeModel Model() => NiqeModel.Load(SharedData.Path_("weights/niqe_pris_params.npz"));

    [Test]
    public void NiqeOfGroundTruthMatchesBasicSR()
    {
        using var fx = SafetensorsFile.Open(SharedData.Fixture("ops.safetensors"));
        var want = fx.Floats("metrics.niqe_gt");
        var model = Model();
        var names = FullReferenceMetricTests.FixtureImages();
        for (int i = 0; i < 4; i++)
        {
            var gt = ImageCodec.Decode(Path.Combine(SharedData.Path_("data/ValSR/gt"), names[i]));
            double q = Niqe.Of(gt, model);
            TestContext.Out.WriteLine($"{names[i]}: NIQE {q:F5} (want {want[i]:F5})");
            Assert.That(Math.Abs(q - want[i]) / want[i], Is.LessThan(1e-2), names[i]);
        }
    }

    [Test]
    public void PristineModelHasTheDocumentedShapes()
    {
        var m = Model();
        Assert.That(m.Mu, Has.Length.EqualTo(36));
        Assert.That(m.Cov.GetLength(0), Is.EqualTo(36));
        Assert.That(m.Window.GetLength(0), Is.EqualTo(7));
        double s = 0;
        foreach (double v in m.Window) s += v;
        Assert.That(s, Is.EqualTo(1.0).Within(1e-6), "the Gaussian window sums to 1");
        for (int i = 0; i < 36; i++)
            for (int j = 0; j < 36; j++) Assert.That(m.Cov[i, j], Is.EqualTo(m.Cov[j, i]).Within(1e-9), "covariance is symmetric");
    }

    [Test]
    public void GammaFunctionClosedForms()
    {
        Assert.That(GammaFunction.Gamma(5), Is.EqualTo(24).Within(1e-12));
        Assert.That(GammaFunction.Gamma(0.5), Is.EqualTo(Math.Sqrt(Math.PI)).Within(1e-14));
        Assert.That(GammaFunction.Gamma(0.1), Is.EqualTo(9.513507698668732).Within(1e-12));
        Assert.That(GammaFunction.Gamma(15), Is.EqualTo(87178291200.0).Within(1e-2));
    }

    [Test]
    public void MatlabHalfResizeOfARampIsTheRampAtTheNewCentres()
    {
        // interior outputs of a linear ramp: the normalised antialiased kernel reproduces linear functions, and
        // output i (0-based) of a half-size resize is centred on source 2i + 0.5
        int h = 16, w = 16;
        var ramp = new double[h * w];
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) ramp[y * w + x] = 3.0 * x + 0.5 * y;
        var r = MatlabResize.Resize(ramp, h, w, 0.5, out int oh, out int ow);
        Assert.That((oh, ow), Is.EqualTo((8, 8)));
        for (int y = 2; y < 6; y++)
            for (int x = 2; x < 6; x++)
                Assert.That(r[y * ow + x], Is.EqualTo(3.0 * (2 * x + 0.5) + 0.5 * (2 * y + 0.5)).Within(1e-9));
        var c = MatlabResize.Resize(Enumerable.Repeat(9.0, h * w).ToArray(), h, w, 0.5, out _, out _);
        Assert.That(c, Is.All.EqualTo(9.0).Within(1e-12));
    }

    [Test]
    public void PinvInvertsAnSpdMatrix()
    {
        var rng = new Random(2);
        int n = 6;
        var b = new double[n, n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) b[i, j] = rng.NextDouble() - 0.5;
        var a = new double[n, n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) { for (int k = 0; k < n; k++) a[i, j] += b[i, k] * b[j, k]; if (i == j) a[i, j] += 0.1; }
        var p = SymmetricMatrix.PseudoInverse(a);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int k = 0; k < n; k++) s += a[i, k] * p[k, j];
                Assert.That(s, Is.EqualTo(i == j ? 1.0 : 0.0).Within(1e-10));
            }
    }

    [Test]
    public void NpyReaderHandlesFortranOrder()
    {
        // a 2x3 float64 array stored column-major: [[1,2,3],[4,5,6]] -> data 1,4,2,5,3,6
        var header = "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }";
        header = header.PadRight(118) + "\n";
        using var ms = new MemoryStream();
        ms.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        ms.Write(BitConverter.GetBytes((ushort)header.Length));
        ms.Write(System.Text.Encoding.ASCII.GetBytes(header));
        foreach (double v in new double[] { 1, 4, 2, 5, 3, 6 }) ms.Write(BitConverter.GetBytes(v));
        ms.Position = 0;
        var a = NpyArray.Read(ms, "test");
        Assert.That(a.Shape, Is.EqualTo(new[] { 2, 3 }));
        Assert.That(a.Data, Is.EqualTo(new double[] { 1, 2, 3, 4, 5, 6 }));
    }
}
