namespace Ctmsr.Autograd;

/// <summary>
/// A network component with named parameters, buffers and children, registered explicitly
/// (no reflection). State-dict keys are the dotted paths, as in PyTorch.
/// </summary>
public abstract class Module
{
    readonly List<(string name, Tensor t)> _params = new();
    readonly List<(string name, Tensor t, string dtype)> _buffers = new();
    readonly List<(string name, Module m)> _children = new();

    public Context Ctx { get; }
    public bool Training { get; private set; } = true;

    protected Module(Context ctx) => Ctx = ctx;

    protected Tensor RegisterParameter(string name, params int[] shape)
    {
        var t = Tensor.EmptyPersistent(Ctx, shape);
        Ctx.Backend.Fill(t.Buffer, 0f, 0, t.Count);
        t.RequiresGrad = true;
        _params.Add((name, t));
        return t;
    }

    /// <summary>A non-trainable state entry kept as float32 on the device; dtype is what checkpoints store it as ("F32", "F16", "I64").</summary>
    protected Tensor RegisterBuffer(string name, float[] values, string dtype, params int[] shape)
    {
        var t = Tensor.EmptyPersistent(Ctx, shape);
        t.CopyFrom(values);
        _buffers.Add((name, t, dtype));
        return t;
    }

    protected T RegisterModule<T>(string name, T m) where T : Module { _children.Add((name, m)); return m; }

    /// <summary>The direct children in registration order.</summary>
    public IEnumerable<(string Name, Module Module)> NamedChildren() => _children.Select(c => (c.name, c.m));

    public IEnumerable<(string name, Tensor t)> NamedParameters(string prefix = "")
    {
        foreach (var (n, t) in _params) yield return (prefix + n, t);
        foreach (var (n, m) in _children)
            foreach (var p in m.NamedParameters(prefix + n + ".")) yield return p;
    }

    public IEnumerable<(string name, Tensor t, string dtype)> NamedBuffers(string prefix = "")
    {
        foreach (var (n, t, d) in _buffers) yield return (prefix + n, t, d);
        foreach (var (n, m) in _children)
            foreach (var b in m.NamedBuffers(prefix + n + ".")) yield return b;
    }

    public IEnumerable<Tensor> Parameters() => NamedParameters().Select(p => p.t);

    public long ParameterCount => Parameters().Sum(t => t.Count);

    /// <summary>Every parameter and buffer under its dotted name, with the dtype a checkpoint stores.</summary>
    public IEnumerable<(string name, Tensor t, string dtype)> StateDict(string prefix = "") =>
        NamedParameters(prefix).Select(p => (p.name, p.t, "F32")).Concat(NamedBuffers(prefix));

    /// <summary>
    /// Loads values by name. Shapes must match exactly; with strict, missing and unexpected keys are an
    /// error that lists them. Returns the missing and unexpected keys.
    /// </summary>
    public (List<string> missing, List<string> unexpected) LoadStateDict(
        IReadOnlyDictionary<string, (int[] shape, float[] values)> state, bool strict = true, string prefix = "")
    {
        var own = StateDict(prefix).ToList();
        var ownNames = new HashSet<string>(own.Select(o => o.name));
        var missing = own.Where(o => !state.ContainsKey(o.name)).Select(o => o.name).ToList();
        var unexpected = state.Keys.Where(k => !ownNames.Contains(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        if (strict && (missing.Count > 0 || unexpected.Count > 0))
            throw new StateDictException(missing, unexpected);
        var wrong = new List<string>();
        foreach (var (name, t, _) in own)
        {
            if (!state.TryGetValue(name, out var v)) continue;
            if (!v.shape.SequenceEqual(t.Shape)) wrong.Add($"{name}: checkpoint [{string.Join(", ", v.shape)}], model [{string.Join(", ", t.Shape)}]");
        }
        if (wrong.Count > 0)
            throw new StateDictException($"{wrong.Count} tensors have the wrong shape (is the model configuration the one the checkpoint was trained with?): " + string.Join("; ", wrong.Take(5)));
        foreach (var (name, t, _) in own)
            if (state.TryGetValue(name, out var v)) t.CopyFrom(v.values);
        return (missing, unexpected);
    }

    public void Train(bool on = true) { Training = on; foreach (var (_, m) in _children) m.Train(on); }
    public void Eval() => Train(false);

    public void ZeroGrad() { foreach (var p in Parameters()) p.ZeroGrad(); }
}

/// <summary>A checkpoint that does not fit the model: names the missing/unexpected keys and the fix.</summary>
public sealed class StateDictException : Exception
{
    public StateDictException(string message) : base(message) { }

    public StateDictException(IReadOnlyList<string> missing, IReadOnlyList<string> unexpected)
        : base(Describe(missing, unexpected)) { Missing = missing; Unexpected = unexpected; }

    public IReadOnlyList<string> Missing { get; } = [];
    public IReadOnlyList<string> Unexpected { get; } = [];

    static string Describe(IReadOnlyList<string> missing, IReadOnlyList<string> unexpected)
    {
        static string List(IReadOnlyList<string> k) => string.Join(", ", k.Take(4)) + (k.Count > 4 ? $", ... ({k.Count} in all)" : "");
        var parts = new List<string>();
        if (missing.Count > 0) parts.Add($"missing keys: {List(missing)}");
        if (unexpected.Count > 0) parts.Add($"unexpected keys: {List(unexpected)}");
        return "the checkpoint does not match the model (" + string.Join("; ", parts) +
               "); check the model configuration, or pick the right entry of the checkpoint (e.g. --key params_ema)";
    }
}
