using Ctmsr.Model.Checkpoints;

namespace Ctmsr.Inference;

/// <summary>Non-finite values (NaN, infinity) in weights or results. One NaN in a layer turns the whole output black
/// while every step "succeeds"; the weights are therefore checked when they are loaded and every result before it is
/// written, and the error names where the first bad value is.</summary>
public static class FiniteCheck
{
    /// <summary>Throws InvalidDataException naming the first floating-point tensor that holds a NaN or infinity.</summary>
    public static void Weights(IReadOnlyDictionary<string, HostTensor> weights, string source = "the weights")
    {
        foreach (var (name, t) in weights.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (t.DType is not (DType.F32 or DType.F16 or DType.BF16 or DType.F64)) continue;
            var v = t.ToFloats();
            int bad = Array.FindIndex(v, x => !float.IsFinite(x));
            if (bad >= 0)
                throw new InvalidDataException($"{source}: tensor '{name}' {t.ShapeText} holds {v[bad]} at element {bad} " +
                    $"({v.Count(x => !float.IsFinite(x))} non-finite values): the checkpoint is corrupt, re-download or re-export it");
        }
    }

    /// <summary>Throws InvalidOperationException when a result holds a NaN or infinity, before anything is written.</summary>
    public static void Result(float[] samples, string what)
    {
        int bad = Array.FindIndex(samples, x => !float.IsFinite(x));
        if (bad >= 0)
            throw new InvalidOperationException($"{what}: the model produced non-finite values ({samples[bad]} at sample {bad}); nothing was written: check the weights and --device (run `ctmsr selfcheck`)");
    }
}
