using System.Reflection;
using System.Text.RegularExpressions;
using Ctmsr.Kernels.Ilgpu;
using ILGPU;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace Ctmsr.Tests.Ilgpu;

/// <summary>
/// CUDA without a GPU: every ILGPU kernel compiles to PTX for sm_80 and sm_90 through ILGPU's PTXBackend (no device,
/// no driver), and the hot kernels' PTX has what their speed depends on: the GEMM and convolution tiles issue their
/// 16 x 4 x 4 multiply-adds as fused fma.rn.f32 (the TK loop unrolled by hand; ILGPU does not unroll it), stage through
/// shared memory with barriers, and keep the accumulators in registers (no local-memory spills). The tensor-core kernels
/// (--precision tf32/bf16) issue mma.sync of the right shape and operand type from registers.
/// There is no ptxas here: assembling the PTX is the job of a GPU run.
/// </summary>
[TestFixture]
public sealed class PtxCompileTests
{
    static readonly Lazy<Context> context = new(() =>
    {
        var ctx = Context.Create(b => b.CPU().EnableAlgorithms().Optimize(OptimizationLevel.O2));
        KernelMath.Register(ctx);
        TensorCore.Register(ctx);
        return ctx;
    });

    static readonly Dictionary<(CudaArchitecture, string), string> ptx = [];

    static IEnumerable<MethodInfo> Kernels() => typeof(IlgpuBackend).Assembly.GetTypes()
        .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
        .Where(m => m.GetCustomAttribute<IlgpuKernelAttribute>() is not null)
        .OrderBy(m => m.DeclaringType!.Name + "." + m.Name);

    static string Name(MethodInfo m) => m.DeclaringType!.Name + "." + m.Name;

    static string Ptx(CudaArchitecture arch, MethodInfo m)
    {
        lock (ptx)
        {
            if (ptx.TryGetValue((arch, Name(m)), out var text)) return text;
            using var backend = new PTXBackend(context.Value, new CudaCapabilityContext(arch), arch, CudaInstructionSet.ISA_80, null);
            var kernel = (PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(m), KernelSpecialization.Empty);
            return ptx[(arch, Name(m))] = kernel.PTXAssembly;
        }
    }

    [Test]
    public void TheCatalogueHasItsKernels()
    {
        var names = Kernels().Select(Name).ToList();
        TestContext.Out.WriteLine($"{names.Count} kernels: {string.Join(", ", names)}");
        Assert.That(names, Has.Count.GreaterThanOrEqualTo(35));
        Assert.That(names, Does.Contain("GemmKernels.Gemm").And.Contain("ConvKernels.ConvForward").And.Contain("AttentionKernels.Backward"));
        foreach (var pass in new[] { "Gemm", "ConvForward", "ConvBackwardData", "ConvBackwardWeight" })
            Assert.That(names, Does.Contain($"TensorCoreKernels.{pass}Tf32").And.Contain($"TensorCoreKernels.{pass}Bf16"));
    }

    [TestCase(90), TestCase(80)]
    public void EveryKernelCompilesToPtx(int sm)
    {
        var arch = sm == 90 ? CudaArchitecture.SM_90 : CudaArchitecture.SM_80;
        var failures = new List<string>();
        foreach (var m in Kernels())
        {
            try
            {
                string text = Ptx(arch, m);
                if (!text.Contains(".entry", StringComparison.Ordinal)) failures.Add($"{Name(m)}: no .entry in the PTX");
            }
            catch (Exception e) { failures.Add($"{Name(m)}: {e.GetType().Name}: {e.Message} {e.InnerException?.Message}"); }
        }
        Assert.That(failures, Is.Empty);
    }

    [TestCase("GemmKernels.Gemm"), TestCase("ConvKernels.ConvBackwardData"), TestCase("ConvKernels.ConvBackwardWeight")]
    public void TileKernelsIssueUnrolledFmaFromSharedMemory(string kernel)
    {
        var m = Kernels().Single(k => Name(k) == kernel);
        string text = Ptx(CudaArchitecture.SM_80, m);
        int fma = Regex.Matches(text, @"\bfma\.rn\.f32\b").Count;
        int loadsShared = Regex.Matches(text, @"\bld\.shared\.f32\b").Count;
        TestContext.Out.WriteLine($"{kernel}: {fma} fma.rn.f32, {loadsShared} ld.shared.f32, {text.Length} chars of PTX");
        // one TK slice = 16 steps of a 4 x 4 rank-1 update: 256 FMAs in straight-line code (a rolled loop has 16)
        const int TK = 16, RM = 4, RN = 4; // TileGemm's shape
        Assert.That(fma, Is.GreaterThanOrEqualTo(TK * RM * RN), "the TK loop is not unrolled into FMAs");
        Assert.That(loadsShared, Is.GreaterThanOrEqualTo(TK * (RM + RN)), "the tile is not read from shared memory");
        Assert.That(text, Does.Contain("bar.sync"));
        Assert.That(text, Does.Not.Contain("ld.local").And.Not.Contain("st.local"), "accumulators spilled to local memory");
    }

    /// <summary>The forward convolution's tile sums in float64 (TileGemm.AccumulateF64): 16 x 4 x 4 unrolled float64
    /// multiply-adds per slice, from shared memory, nothing spilled.</summary>
    [Test]
    public void ForwardConvolutionTileSumsInFloat64()
    {
        string text = Ptx(CudaArchitecture.SM_80, Kernels().Single(k => Name(k) == "ConvKernels.ConvForward"));
        int adds = Regex.Matches(text, @"\b(add|fma\.rn)\.f64\b").Count;
        TestContext.Out.WriteLine($"ConvKernels.ConvForward: {adds} add/fma.f64, {Regex.Matches(text, @"\bld\.shared\.f32\b").Count} ld.shared.f32");
        Assert.That(adds, Is.GreaterThanOrEqualTo(16 * 4 * 4), "the TK loop is not unrolled");
        Assert.That(text, Does.Contain("bar.sync"));
        Assert.That(text, Does.Not.Contain("ld.local").And.Not.Contain("st.local"), "accumulators spilled to local memory");
    }

    const string MmaTf32 = "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32";
    const string MmaBf16 = "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32";

    /// <summary>
    /// Each tensor-core kernel, for sm_80 and sm_90: per TK = 16 slice a warp updates four 16 x 8 accumulators, i.e. 8
    /// m16n8k8 TF32 or 4 m16n8k16 bf16 mma.sync in straight-line code, with operands converted by cvt.rna.tf32.f32 or
    /// cvt.rn.bf16x2.f32 (round to nearest even) and nothing in local memory (no .local declaration, load or store: the
    /// fragments stay in registers), and no instruction of the other format. The fp32 tiles have no mma at all.
    /// </summary>
    [Test]
    public void TensorCoreKernelsIssueMmaSyncFromRegisters(
        [Values("Gemm", "ConvForward", "ConvBackwardData", "ConvBackwardWeight")] string pass,
        [Values("Tf32", "Bf16")] string format, [Values(80, 90)] int sm)
    {
        var arch = sm == 90 ? CudaArchitecture.SM_90 : CudaArchitecture.SM_80;
        string name = $"TensorCoreKernels.{pass}{format}";
        string text = Ptx(arch, Kernels().Single(k => Name(k) == name));
        bool tf32 = format == "Tf32";
        string mma = tf32 ? MmaTf32 : MmaBf16, other = tf32 ? MmaBf16 : MmaTf32;
        int count = Regex.Matches(text, Regex.Escape(mma)).Count;
        int cvt = Regex.Matches(text, tf32 ? @"\bcvt\.rna\.tf32\.f32\b" : @"\bcvt\.rn\.bf16x2\.f32\b").Count;
        TestContext.Out.WriteLine($"{name} sm_{sm}: {count} x {mma}, {cvt} conversions, {Regex.Matches(text, @"\.local\b").Count} .local, " +
                                  $"{Regex.Matches(text, @"\bld\.shared\.f32\b").Count} ld.shared.f32, {text.Length} chars");
        Assert.That(count, Is.EqualTo(tf32 ? 8 : 4), "mma.sync per TK slice: 4 accumulators x (2 k8 steps for tf32, 1 k16 step for bf16)");
        // tf32: 4 A + 2 x 4 B registers per k8 step, two steps; bf16: 4 A + 2 x 4 B packed registers
        Assert.That(cvt, Is.EqualTo(tf32 ? 24 : 12), "operand conversions");
        Assert.That(text, Does.Not.Contain(other));
        Assert.That(text, Does.Contain("bar.sync"));
        Assert.That(Regex.IsMatch(text, @"\.local\b"), Is.False, "the fragments or operands went through local memory");
        Assert.That(Regex.IsMatch(text, @"^\.target sm_[89]\d\b", RegexOptions.Multiline), Is.True, "the PTX does not target sm_80 or newer");
    }

    [TestCase("GemmKernels.Gemm"), TestCase("ConvKernels.ConvForward"), TestCase("ConvKernels.ConvBackwardData"), TestCase("ConvKernels.ConvBackwardWeight")]
    public void Fp32TilesHaveNoTensorCoreInstructions(string kernel)
    {
        string text = Ptx(CudaArchitecture.SM_80, Kernels().Single(k => Name(k) == kernel));
        Assert.That(text, Does.Not.Contain("mma.sync").And.Not.Contain("cvt.rna.tf32").And.Not.Contain("bf16"));
    }

    [Test]
    public void PreciseMathStaysOffTheApproximateUnits()
    {
        // ILGPU lowers MathF.Exp/Log to ex2.approx/lg2.approx; KernelMath's functions must not
        foreach (var name in new[] { "ElementwiseKernels.ActForward", "AttentionKernels.Forward", "RandomKernels.FillNormal" })
        {
            string text = Ptx(CudaArchitecture.SM_80, Kernels().Single(k => Name(k) == name));
            Assert.That(text, Does.Not.Contain(".approx"), name);
            Assert.That(text, Does.Contain("fma.rn.f32"), name);
        }
    }
}
