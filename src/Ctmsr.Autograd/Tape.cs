namespace Ctmsr.Autograd;

/// <summary>
/// The reverse-mode tape: ops append a backward closure when any input requires a gradient and
/// recording is on. <see cref="Tensor.Backward"/> replays it newest first. Thread-static, like
/// PyTorch's grad mode.
/// </summary>
public static class Tape
{
    [ThreadStatic] static List<(Tensor output, Action backward)>? _entries;
    [ThreadStatic] static int _noGradDepth;
    [ThreadStatic] static List<List<Tensor>>? _scopes;

    internal static List<(Tensor output, Action backward)> Entries => _entries ??= new();

    public static bool Enabled => _noGradDepth == 0;

    /// <summary>
    /// Watches backward passes on this thread (data-parallel training reduces gradients as they become final);
    /// null, the default, costs nothing.
    /// </summary>
    [ThreadStatic] public static IBackwardObserver? Observer;

    internal static void Record(Tensor output, Action backward, params Tensor?[] saved)
    {
        foreach (var s in saved) if (s is not null) s.Saved = true;
        output.RequiresGrad = true;
        Entries.Add((output, backward));
    }

    internal static bool ShouldRecord(params Tensor?[] inputs)
    {
        if (!Enabled) return false;
        foreach (var t in inputs) if (t is not null && t.RequiresGrad) return true;
        return false;
    }

    public static void Clear() => Entries.Clear();

    public static IDisposable NoGrad() { _noGradDepth++; return new Exit(() => _noGradDepth--); }

    /// <summary>Collects every tensor created until disposal and disposes them then, except kept ones.</summary>
    public static TensorScope Scope()
    {
        _scopes ??= new();
        var list = new List<Tensor>();
        _scopes.Add(list);
        return new TensorScope(list);
    }

    internal static void Register(Tensor t)
    {
        if (_scopes is { Count: > 0 }) _scopes[^1].Add(t);
    }

    internal static void Unregister(Tensor t)
    {
        if (_scopes is null) return;
        for (int i = _scopes.Count - 1; i >= 0; i--) if (_scopes[i].Remove(t)) return;
    }

    /// <summary>Moves a tensor from one scope to the enclosing one (or to no scope).</summary>
    internal static void Promote(List<Tensor> from, Tensor t)
    {
        if (_scopes is null || !from.Remove(t)) return;
        int i = _scopes.IndexOf(from);
        if (i > 0) _scopes[i - 1].Add(t);
    }

    internal static void Close(List<Tensor> list) => _scopes?.Remove(list);

    sealed class Exit(Action a) : IDisposable { public void Dispose() => a(); }
}

/// <summary>Told, during <see cref="Tensor.Backward"/>, which persistent tensors (parameters) a closure writes gradients into, and when each closure has run.</summary>
public interface IBackwardObserver
{
    /// <summary>A backward closure is about to write (or accumulate into) <paramref name="parameter"/>'s gradient.</summary>
    void GradientWritten(Tensor parameter);
    /// <summary>One backward closure has finished; the gradients it wrote hold their values.</summary>
    void ClosureDone();
}

public sealed class TensorScope(List<Tensor> tensors) : IDisposable
{
    /// <summary>Moves <paramref name="t"/> out of this scope into the enclosing one (if any), so it outlives this scope.</summary>
    public Tensor Keep(Tensor t) { Tape.Promote(tensors, t); return t; }

    public void Dispose()
    {
        Tape.Close(tensors);
        foreach (var t in tensors) t.ForceDispose();
        tensors.Clear();
    }
}
