using System.Diagnostics;
using Ctmsr.Kernels.Reference;

namespace Ctmsr.Kernels.Conformance;

/// <summary>
/// One conformance case: one op of the <see cref="Backend"/> catalogue at one geometry. Inputs are random and
/// never zero; outputs are pre-filled with random values too, so a kernel that should accumulate but writes (or
/// the reverse) fails. A case calls only its own op (data another op would produce, such as GroupNorm statistics
/// or softmax probabilities, is made on the host), so a broken op fails its own cases and no others.
/// </summary>
public sealed class OpCase
{
    internal OpCase(string op, string shape, double tolerance, long[] inputs, long[] outputs,
        Func<int, float[]>? input, Action<Backend, DeviceBuffer[], DeviceBuffer[]> run)
    {
        Op = op; Shape = shape; Tolerance = tolerance; Inputs = inputs; Outputs = outputs; Input = input; Body = run;
    }

    /// <summary>The catalogue method this case checks, e.g. "Conv2dBackwardWeight".</summary>
    public string Op { get; }
    /// <summary>The geometry and flags, e.g. "2x7x10x13 -> 5, k3 s1 p1, accumulate".</summary>
    public string Shape { get; }
    /// <summary>Bound on the relative L2 error (‖out − ref‖ / ‖ref‖) of every output.</summary>
    public double Tolerance { get; }
    internal long[] Inputs { get; }
    internal long[] Outputs { get; }
    internal Func<int, float[]>? Input { get; }
    internal Action<Backend, DeviceBuffer[], DeviceBuffer[]> Body { get; }

    public override string ToString() => $"{Op} {Shape}";
}

/// <summary>The outcome of one case: the worst relative L2 error over its outputs, the backend's wall time for
/// one run (after a warm-up run, so kernel compilation is not counted), and the exception text if it threw.</summary>
public sealed record OpResult(OpCase Case, double Error, double Milliseconds, string? Failure = null)
{
    public bool Pass => Failure is null && Error < Case.Tolerance;
}

/// <summary>
/// The op conformance suite: every op of the catalogue against the float64 <see cref="ReferenceBackend"/> on random
/// inputs at awkward and model-like sizes. It ships in the library so that `ctmsr selfcheck` can validate a backend
/// (CUDA on a GPU machine) from the published CLI; the test project runs the same cases on every backend present.
/// Bounds: relative L2 below 1e-5 (1e-6 for elementwise maths and the optimiser, 1e-4 for sums over long axes).
/// </summary>
public static partial class OpConformance
{
    /// <summary>Every case, in catalogue order.</summary>
    public static IReadOnlyList<OpCase> Cases => field ??= Build();

    /// <summary>Runs <paramref name="cases"/> (default: all) on <paramref name="backend"/>, one result per case.</summary>
    public static IEnumerable<OpResult> Run(Backend backend, IEnumerable<OpCase>? cases = null)
    {
        using var oracle = OracleFor(backend);
        foreach (var c in cases ?? Cases) yield return Run(backend, oracle, c);
    }

    /// <summary>
    /// The float64 reference for <paramref name="backend"/>: at tf32/bf16 precision it multiplies the same rounded operands
    /// (<see cref="RoundedOperandsBackend"/> over the reference), so a tensor-core GEMM or convolution is held to the float32
    /// bounds of its accumulation, which checks its fragment layouts exactly rather than against bf16's 4e-3 noise.
    /// </summary>
    public static Backend OracleFor(Backend backend) => backend.Precision == MatmulPrecision.Fp32
        ? new ReferenceBackend()
        : new RoundedOperandsBackend(new ReferenceBackend(), backend.Precision);

    /// <summary>Runs case <paramref name="c"/> on <paramref name="backend"/> against <paramref name="oracle"/>, a
    /// <see cref="ReferenceBackend"/> or a decorator over one (<see cref="OracleFor"/>).</summary>
    public static OpResult Run(Backend backend, Backend oracle, OpCase c)
    {
        var data = c.Inputs.Select((n, i) => c.Input?.Invoke(i) ?? Random(n, 100 + i)).ToArray();
        var pre = c.Outputs.Select((n, i) => Random(n, 200 + i)).ToArray();
        var made = new List<DeviceBuffer>();
        DeviceBuffer[] Make(Backend b, float[][] d) => d.Select(v =>
        {
            var x = b.Allocate(Math.Max(1, v.Length));
            made.Add(x);
            b.Upload(v, x);
            return x;
        }).ToArray();
        try
        {
            // warm-up on scratch copies (compiles GPU kernels), then the measured, compared run
            c.Body(backend, Make(backend, data), Make(backend, pre));
            backend.Synchronize();
            var bi = Make(backend, data); var bo = Make(backend, pre);
            backend.Synchronize();
            var sw = Stopwatch.StartNew();
            c.Body(backend, bi, bo);
            backend.Synchronize();
            double ms = sw.Elapsed.TotalMilliseconds;
            var ri = Make(oracle, data); var ro = Make(oracle, pre);
            c.Body(oracle, ri, ro);
            double worst = 0;
            for (int k = 0; k < c.Outputs.Length; k++)
            {
                var got = new float[c.Outputs[k]];
                backend.Download(bo[k], got);
                double e = RelL2(got, ReferenceBackend.Raw(ro[k]));
                worst = Math.Max(worst, double.IsNaN(e) ? double.PositiveInfinity : e);
            }
            return new OpResult(c, worst, ms);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new OpResult(c, double.PositiveInfinity, 0, e.Message.ReplaceLineEndings(" "));
        }
        finally
        {
            foreach (var b in made) b.Dispose();
        }
    }

    /// <summary>‖got − want‖ / ‖want‖ over the first got.Length elements; NaN when got holds a non-finite value.</summary>
    public static double RelL2(ReadOnlySpan<float> got, ReadOnlySpan<double> want)
    {
        double num = 0, den = 0;
        for (int i = 0; i < got.Length; i++)
        {
            if (!float.IsFinite(got[i])) return double.NaN;
            double d = got[i] - want[i];
            num += d * d;
            den += want[i] * want[i];
        }
        return Math.Sqrt(num / Math.Max(den, 1e-300));
    }

    /// <summary>Uniform in [lo, hi), with exact zeros replaced (a zero input hides accumulate/write mistakes).</summary>
    internal static float[] Random(long n, int seed, float lo = -1f, float hi = 1f)
    {
        var r = new Random(seed);
        var v = new float[n];
        for (long i = 0; i < n; i++)
        {
            float x = lo + (hi - lo) * (float)r.NextDouble();
            v[i] = x == 0 ? 0.5f : x;
        }
        return v;
    }
}
