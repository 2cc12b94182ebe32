using Ctmsr.Autograd;
using Ctmsr.Model.Network;

namespace Ctmsr.Model.Checkpoints;

/// <summary>
/// Moves CTMSR weights between checkpoint dictionaries (official names, "model." prefix) and a network.
/// </summary>
public static class ModelWeights
{
    public const string Prefix = "model.";

    /// <summary>
    /// Loads an official-layout state dict (keys "model.&lt;name&gt;") into the network, strictly: a missing or
    /// unexpected key, a wrong shape or a relative_position_index that is not the window-8 formula is an error.
    /// </summary>
    public static void Load(Module net, IReadOnlyDictionary<string, HostTensor> state, string prefix = Prefix)
    {
        var d = new Dictionary<string, (int[] shape, float[] values)>(StringComparer.Ordinal);
        foreach (var (k, t) in state)
        {
            string key = k.StartsWith(prefix, StringComparison.Ordinal) ? k[prefix.Length..] : k;
            d[key] = (t.Shape, t.ToFloats());
        }
        if (!state.Keys.Any(k => k.StartsWith(prefix, StringComparison.Ordinal)) && prefix.Length > 0)
            throw new StateDictException($"no key starts with '{prefix}' (found e.g. '{state.Keys.FirstOrDefault()}'): this is not a CTMSR state dict");
        foreach (var (name, t, dtype) in net.NamedBuffers())
        {
            if (!d.TryGetValue(name, out var v) || dtype != "I64") continue;
            var expect = t.ToArray();
            if (!expect.AsSpan().SequenceEqual(v.values))
                throw new StateDictException($"{prefix}{name} differs from the relative position index of a {Math.Sqrt(t.Shape[0]):0}x{Math.Sqrt(t.Shape[0]):0} window; Ctmsr computes it from the window size (is window_size right?)");
        }
        net.LoadStateDict(d, strict: true);
    }

    /// <summary>The network's parameters and buffers under official names, buffers in their checkpoint dtypes.</summary>
    public static Dictionary<string, HostTensor> Export(Module net, string prefix = Prefix)
    {
        var r = new Dictionary<string, HostTensor>(StringComparer.Ordinal);
        foreach (var (name, t, dtype) in net.StateDict())
            r[prefix + name] = Convert(t.ToArray(), t.Shape, dtype);
        return r;
    }

    /// <summary><see cref="Export"/> for <see cref="SafetensorsFile"/>'s streaming writer: float32 tensors are read
    /// from the backend when the writer reaches them; buffers stored in other dtypes (small) are converted now.</summary>
    public static List<KeyValuePair<string, TensorSource>> ExportSources(Module net, string prefix = Prefix)
    {
        var r = new List<KeyValuePair<string, TensorSource>>();
        foreach (var (name, t, dtype) in net.StateDict())
            r.Add(KeyValuePair.Create(prefix + name, dtype is "I64" or "F16" ? TensorSource.Of(Convert(t.ToArray(), t.Shape, dtype)) : TensorSource.Of(t)));
        return r;
    }

    public static HostTensor Convert(float[] v, int[] shape, string dtype) => dtype switch
    {
        "I64" => HostTensor.FromLongs(v.Select(x => (long)x).ToArray(), shape),
        "F16" => new HostTensor(DType.F16, shape, v.SelectMany(x => BitConverter.GetBytes((Half)x)).ToArray()),
        _ => HostTensor.FromFloats(v, shape),
    };
}
