namespace Ctmsr.Bench.Lab;

/// <summary>One numbered variant of a lab kernel: 1 is what the backend ships today.</summary>
public sealed record LabVariant(int Number, string Name, string Description);

/// <summary>
/// A kernel in the lab (llm.c's dev/cuda): its shapes, its numbered variants, and for each shape a prepared case that
/// runs a variant and measures its error against the float64 reference backend. Variants are validated before they
/// are timed; one that fails its bound is not timed.
/// </summary>
public abstract class LabKernel
{
    public abstract string Name { get; }
    /// <summary>What the kernel computes (one line).</summary>
    public abstract string Math { get; }
    public abstract IReadOnlyList<LabVariant> Variants { get; }
    /// <summary>Model shapes, described for the table.</summary>
    public abstract IReadOnlyList<string> Shapes { get; }
    /// <summary>Relative L2 bound against the reference, as the conformance suite's for this op.</summary>
    public abstract double Tolerance { get; }
    /// <summary>The rate column's unit: GB/s (memory-bound kernels) unless a kernel counts arithmetic.</summary>
    public virtual string RateUnit => "GB/s";

    /// <summary>Inputs for shape <paramref name="shape"/>, filled with non-zero random values, and the reference's outputs.</summary>
    public abstract LabCase Prepare(int shape);
}

/// <summary>A kernel's inputs at one shape: run a variant (timed), check its outputs (relative L2 against the reference).</summary>
public abstract class LabCase
{
    /// <summary>Bytes the kernel must move at least (the floor: bytes / bandwidth).</summary>
    public abstract double Bytes { get; }
    /// <summary>The rate column for a run of <paramref name="ms"/> milliseconds (GB/s from <see cref="Bytes"/> unless overridden).</summary>
    public virtual double Rate(double ms) => Bytes / ms / 1e6;
    public abstract void Run(int variant);
    /// <summary>Runs <paramref name="variant"/> once from fresh outputs and returns its worst relative L2 error over the outputs.</summary>
    public abstract double Check(int variant);

    protected static double RelL2(ReadOnlySpan<float> got, ReadOnlySpan<double> want)
    {
        double num = 0, den = 0;
        for (int i = 0; i < want.Length; i++) { double d = got[i] - want[i]; num += d * d; den += want[i] * want[i]; }
        return System.Math.Sqrt(num / System.Math.Max(den, 1e-300));
    }

    protected static float[] Rand(long n, int seed, float lo = -1, float hi = 1)
    {
        var r = new Random(seed);
        var a = new float[n];
        for (long i = 0; i < n; i++)
        {
            float v = (float)(lo + (hi - lo) * r.NextDouble());
            a[i] = v + (v < 0 ? -0.05f : 0.05f); // away from zero
        }
        return a;
    }
}
