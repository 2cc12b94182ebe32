using Ctmsr.Autograd;
using Ctmsr.Kernels;
using Ctmsr.Kernels.Conformance;
using Ctmsr.Kernels.Cpu;
using Ctmsr.Kernels.Ilgpu;
using Ctmsr.Model.Network;
using Ctmsr.Model.Verification;

namespace Ctmsr.Tests.Precision;

/// <summary>
/// --precision tf32/bf16 without a GPU: the operand rounding against closed-form bit patterns, the emulating backend
/// (<see cref="RoundedOperandsBackend"/>) against hand-computed products, the refusal on devices without tensor cores, and
/// the bf16/tf32 model output against float32 within a bound derived from the formats' unit roundoff.
/// </summary>
[TestFixture]
public sealed class TensorCorePrecisionTests
{
    static float F(uint bits) => BitConverter.UInt32BitsToSingle(bits);
    static uint U(float x) => BitConverter.SingleToUInt32Bits(x);

    // bf16 keeps the top 16 bits; its ulp at 1 is 2^-7, so 1 + 2^-8 is a tie
    [TestCase(0x3F80_8000u, 0x3F80_0000u, TestName = "bf16: 1 + 2^-8 is a tie, to even (1)")]
    [TestCase(0x3F81_8000u, 0x3F82_0000u, TestName = "bf16: 1 + 3 2^-8 is a tie, to even (1 + 2^-6)")]
    [TestCase(0x3F80_8001u, 0x3F81_0000u, TestName = "bf16: above the tie rounds up")]
    [TestCase(0x3F80_7FFFu, 0x3F80_0000u, TestName = "bf16: below the tie rounds down")]
    [TestCase(0xBF81_8000u, 0xBF82_0000u, TestName = "bf16: negative tie, to even")]
    [TestCase(0x7F7F_FFFFu, 0x7F80_0000u, TestName = "bf16: the largest float rounds to infinity")]
    [TestCase(0x0001_8000u, 0x0002_0000u, TestName = "bf16: subnormal tie, to even")]
    [TestCase(0x0000_8000u, 0x0000_0000u, TestName = "bf16: smallest subnormal tie, to zero (even)")]
    [TestCase(0xFF80_0000u, 0xFF80_0000u, TestName = "bf16: -infinity stays")]
    public void RoundBf16MatchesTheBitPattern(uint input, uint expected) =>
        Assert.That(U(Kernels.Precision.RoundBf16(F(input))), Is.EqualTo(expected), $"0x{input:X8}");

    // tf32 keeps 10 mantissa bits (the low 13 of 23 go); ulp at 1 is 2^-10, so 1 + 2^-11 is a tie; cvt.rna: ties away
    [TestCase(0x3F80_1000u, 0x3F80_2000u, TestName = "tf32: 1 + 2^-11 is a tie, away from zero (RNE would give 1)")]
    [TestCase(0xBF80_1000u, 0xBF80_2000u, TestName = "tf32: negative tie, away from zero")]
    [TestCase(0x3F80_0FFFu, 0x3F80_0000u, TestName = "tf32: below the tie rounds down")]
    [TestCase(0x3F80_3000u, 0x3F80_4000u, TestName = "tf32: 1 + 3 2^-11, away")]
    [TestCase(0x3FFF_F000u, 0x4000_0000u, TestName = "tf32: the carry reaches the exponent")]
    [TestCase(0x7F7F_F000u, 0x7F80_0000u, TestName = "tf32: the largest float rounds to infinity")]
    [TestCase(0x7F80_0000u, 0x7F80_0000u, TestName = "tf32: infinity stays")]
    public void RoundTf32MatchesTheBitPattern(uint input, uint expected) =>
        Assert.That(U(Kernels.Precision.RoundTf32(F(input))), Is.EqualTo(expected), $"0x{input:X8}");

    [Test]
    public void NaNStaysNaN()
    {
        Assert.That(float.IsNaN(Kernels.Precision.RoundBf16(float.NaN)), Is.True);
        Assert.That(float.IsNaN(Kernels.Precision.RoundBf16(F(0x7F80_0001u))), Is.True, "a NaN whose payload is in the low bits only");
        Assert.That(float.IsNaN(Kernels.Precision.RoundTf32(float.NaN)), Is.True);
    }

    /// <summary>The host bodies of the kernel intrinsics (what the bit layout of a packed register means).</summary>
    [Test]
    public void PackedBf16RegisterHoldsLowThenHigh()
    {
        Assert.That(TensorCore.PackBf16(1f, -2f), Is.EqualTo(0xC000_3F80u));
        Assert.That(TensorCore.PackBf16(F(0x3F81_8000u), 0f), Is.EqualTo(0x0000_3F82u));
        Assert.That(TensorCore.ToTf32(F(0x3F80_1000u)), Is.EqualTo(0x3F80_2000u));
    }

    [TestCase(MatmulPrecision.Bf16, 0x3F80_8000u, 1f)]   // a = 1 + 2^-8 rounds to 1 in bf16
    [TestCase(MatmulPrecision.Tf32, 0x3F80_1000u, 1f + 1f / 1024)]   // 1 + 2^-11 rounds to 1 + 2^-10 in tf32
    [TestCase(MatmulPrecision.Fp32, 0x3F80_8000u, 1f + 1f / 256)]
    public void EmulatedGemmAndConvolutionMultiplyRoundedOperands(MatmulPrecision p, uint aBits, float product)
    {
        using var be = new RoundedOperandsBackend(new CpuBackend(), p);
        using var a = be.Allocate(1);
        using var b = be.Allocate(1);
        using var c = be.Allocate(1);
        be.Upload([F(aBits)], a);
        be.Upload([1f], b);
        be.Gemm(false, false, 1, 1, 1, 1f, a, 0, 1, 0, b, 0, 1, 0, 0f, c, 0, 1, 0, 1);
        var got = new float[1];
        be.Download(c, got);
        Assert.That(got[0], Is.EqualTo(product), "GEMM");
        // a 1x1 convolution of a one-pixel image: the same product, plus a bias that is not rounded (it is not multiplied)
        using var bias = be.Allocate(1);
        be.Upload([F(aBits) - 1f], bias);
        be.Conv2dForward(new ConvShape(1, 1, 1, 1, 1, 1, 1, 0), a, b, bias, c);
        be.Download(c, got);
        Assert.That(got[0], Is.EqualTo(product + (F(aBits) - 1f)), "convolution");
        // the inputs are left as they were
        be.Download(a, got);
        Assert.That(U(got[0]), Is.EqualTo(aBits));
    }

    [Test]
    public void DevicesWithoutTensorCoresRefuseTf32AndBf16WithTheFix()
    {
        var e = Assert.Throws<ArgumentException>(() => Devices.Create("cpu", MatmulPrecision.Bf16).Dispose())!;
        Assert.That(e.Message, Does.Contain("'cpu'").And.Contain("--precision fp32").And.Contain("--device cuda"));
        Assert.Throws<ArgumentException>(() => Devices.Create("reference", MatmulPrecision.Tf32).Dispose());
        using var cpu = Devices.Create("cpu", MatmulPrecision.Fp32);
        Assert.That(cpu.Precision, Is.EqualTo(MatmulPrecision.Fp32));
        Assert.That(() => Kernels.Precision.Parse("fp16"), Throws.ArgumentException.With.Message.Contains("fp32, tf32 or bf16"));
        // a decorator reports and forwards its inner backend's setting
        using var fwd = new ForwardingBackend(new CpuBackend());
        Assert.That(fwd.PrecisionUnsupported(MatmulPrecision.Bf16), Does.Contain("'cpu'"));
    }

    /// <summary>
    /// The golden fixture's forward with GEMM/convolution operands rounded to bf16 (tf32), against the fixture's float32
    /// output. The bound, from the format alone: a product of two rounded operands is off by at most 2u relative
    /// (u = 2^-8 for bf16's 8 significant bits, 2^-11 for tf32's 11), so a dot product without cancellation is off by at
    /// most 2u; the n GEMM/convolution calls of the forward each add such an error, and independent errors of that size
    /// add in quadrature: 2u sqrt(n). (Not a worst case: cancellation and the network's gain can exceed it; measured
    /// figures are far below it, see bench/RESULTS.md.)
    /// </summary>
    [TestCase(MatmulPrecision.Bf16), TestCase(MatmulPrecision.Tf32)]
    public void EmulatedModelOutputStaysWithinTheRoundoffBound(MatmulPrecision p)
    {
        string fixture = SharedData.Fixture("ctmsr_small.safetensors");
        var rounded = new RoundedOperandsBackend(new CpuBackend(), p);
        using var ctx = new Context(rounded);
        var results = FixtureVerifier.Run(ctx, fixture).ToList();
        double output = results.Single(r => r.Name == "output.D").RelativeError;
        double worstGrad = results.Where(r => r.Name.StartsWith("grad.", StringComparison.Ordinal)).Max(r => r.RelativeError);
        int forwardCalls = CountForwardCalls(fixture);
        double bound = 2 * Kernels.Precision.UnitRoundoff(p) * Math.Sqrt(forwardCalls);
        TestContext.Out.WriteLine($"ctmsr_small {Kernels.Precision.Name(p)}: output.D rel L2 {output:E2} (bound 2u sqrt({forwardCalls}) = {bound:E2}), " +
                                  $"worst gradient {worstGrad:E2}, {rounded.MatmulCalls} GEMM/conv calls in all");
        Assert.That(output, Is.LessThan(bound));
        Assert.That(output, Is.GreaterThan(0), "the rounding changed nothing: is the emulation on?");
    }

    /// <summary>n of the bound: the forward's GEMM/convolution calls, counted on a fp32 pass through the decorator.</summary>
    static int CountForwardCalls(string fixture)
    {
        var counter = new RoundedOperandsBackend(new CpuBackend(), MatmulPrecision.Fp32);
        using var ctx = new Context(counter);
        using var fx = global::Ctmsr.Model.Checkpoints.SafetensorsFile.Open(fixture);
        var cfg = CtmsrConfig.FromMetadata(fx.Metadata);
        var net = new CtmsrNet(ctx, cfg);
        net.InitializeRandom(1);
        net.Eval();
        using (Tape.NoGrad())
        using (Tape.Scope())
        {
            var xh = fx.Get("input.x"); var lqh = fx.Get("input.lq");
            using var x = Tensor.From(ctx, xh.ToFloats(), xh.Shape);
            using var lq = Tensor.From(ctx, lqh.ToFloats(), lqh.Shape);
            Precond.D(net, x, fx.Floats("input.sigma"), lq).Dispose();
        }
        foreach (var (_, t, _) in net.StateDict()) t.Dispose();
        return counter.MatmulCalls;
    }

    /// <summary>
    /// `selfcheck --precision` on a GPU holds the tensor-core kernels to float32 bounds against a reference that multiplies
    /// the same rounded operands. Here the device under test is the CPU behind the emulation: its GEMM/convolution cases pass
    /// at those bounds, and against the plain float64 reference the same outputs are off by bf16's rounding (far above them),
    /// so the conformance harness really switches its oracle.
    /// </summary>
    [Test]
    public void ConformanceAtBf16ComparesAgainstTheRoundedReference()
    {
        using var dut = new RoundedOperandsBackend(new CpuBackend(), MatmulPrecision.Bf16);
        var cases = OpConformance.Cases.Where(c => c.Op is "Gemm" or "Conv2dForward" or "Conv2dBackwardData" or "Conv2dBackwardWeight").ToList();
        Assert.That(cases, Has.Count.GreaterThan(10));
        var failed = OpConformance.Run(dut, cases).Where(r => !r.Pass).Select(r => $"{r.Case}: {r.Error:E2} (bound {r.Case.Tolerance:0e0}) {r.Failure}").ToList();
        Assert.That(failed, Is.Empty);
        using var plain = new Kernels.Reference.ReferenceBackend();
        var gemm = cases.First(c => c.Op == "Gemm");
        double off = OpConformance.Run(dut, plain, gemm).Error;
        TestContext.Out.WriteLine($"{gemm} at bf16 against the unrounded float64 reference: {off:E2}");
        Assert.That(off, Is.GreaterThan(1e-4), "bf16 operands should be visibly off the unrounded reference");
    }

    /// <summary>ILGPU on OpenCL has no tensor-core kernels (CudaAsm / mma are PTX only): it refuses, naming the device.</summary>
    [Test]
    public void IlgpuOpenClRefusesTf32AndBf16()
    {
        Backend be;
        try { be = Devices.Create("opencl", MatmulPrecision.Fp32); }
        catch (DeviceUnavailableException e) { Assert.Ignore($"no ILGPU OpenCL device: {e.Message}"); return; }
        using (be)
        {
            Assert.That(be.PrecisionUnsupported(MatmulPrecision.Bf16), Does.Contain("'opencl:0'").And.Contain("--precision fp32"));
            Assert.Throws<ArgumentException>(() => be.SetPrecision(MatmulPrecision.Tf32));
            Assert.That(be.Precision, Is.EqualTo(MatmulPrecision.Fp32));
        }
    }

    /// <summary>The control: with fp32 the decorator changes nothing, so the measured errors are the rounding's alone
    /// (the run is deterministic, forward and backward).</summary>
    [Test]
    public void Fp32ThroughTheEmulationIsBitIdentical()
    {
        var e = PrecisionAccuracy.RandomModel(() => new CpuBackend(), CtmsrConfig.Tiny, 16, MatmulPrecision.Fp32, gradients: true);
        TestContext.Out.WriteLine($"tiny LR 16 fp32: D {e.Output:E2}, dx {e.InputGrad:E2}, param grads {e.ParamGrads:E2}; {e.MatmulCalls} GEMM/conv calls");
        Assert.That(e.Output, Is.Zero);
        Assert.That(e.InputGrad, Is.Zero);
        Assert.That(e.ParamGrads, Is.Zero);
        Assert.That(e.MatmulCalls, Is.GreaterThan(0));
    }

    /// <summary>The released x4 configuration at LR 64 (HR 256), random weights: the figures in bench/RESULTS.md. Minutes
    /// on two cores, so explicit: dotnet test ... --filter "FullyQualifiedName~TensorCorePrecisionTests.X4"</summary>
    [Explicit("a measurement: minutes on the CPU")]
    [TestCase(MatmulPrecision.Bf16, false), TestCase(MatmulPrecision.Tf32, false), TestCase(MatmulPrecision.Bf16, true), TestCase(MatmulPrecision.Tf32, true)]
    public void X4RandomWeights(MatmulPrecision p, bool gradients)
    {
        var e = PrecisionAccuracy.RandomModel(() => new CpuBackend(), CtmsrConfig.X4, 64, p, gradients);
        TestContext.Out.WriteLine($"x4 LR 64 {Kernels.Precision.Name(p)}: D {e.Output:E2}, F {e.Network:E2}, dx {e.InputGrad:E2}, " +
                                  $"param grads {e.ParamGrads:E2} (worst {e.WorstParam} {e.WorstParamGrad:E2}); {e.ForwardMatmulCalls} forward / {e.MatmulCalls} GEMM/conv calls");
        Assert.That(e.Output, Is.LessThan(2 * Kernels.Precision.UnitRoundoff(p) * Math.Sqrt(e.ForwardMatmulCalls)));
    }
}
