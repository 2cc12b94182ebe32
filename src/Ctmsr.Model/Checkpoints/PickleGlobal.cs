namespace Ctmsr.Model.Checkpoints;

/// <summary>What an allowed global stands for inside the pickle machine.</summary>
internal enum PickleGlobalKind
{
    /// <summary>A function the machine may call through REDUCE (only the rebuild helpers torch.save emits).</summary>
    Function,
    /// <summary>A class the machine may "instantiate" (REDUCE/NEWOBJ) into a plain value: OrderedDict, torch.Size.</summary>
    Class,
    /// <summary>A storage type such as torch.FloatStorage: only ever a tag inside a persistent id.</summary>
    Storage,
    /// <summary>A dtype such as torch.float32: only ever an argument.</summary>
    DTypeTag,
    /// <summary>A type name passed as data (torch.Tensor in _rebuild_from_type_v2): never called.</summary>
    TypeTag,
}

/// <summary>
/// An allowed global (see <see cref="PickleAllowList"/>). Calling it never touches .NET reflection: each has a fixed
/// C# implementation that builds plain values (dictionaries, tuples, tensor references).
/// </summary>
internal sealed class PickleGlobal(string module, string name, PickleGlobalKind kind, Func<object?[], object?>? call = null)
{
    public string Module { get; } = module;
    public string Name { get; } = name;
    public PickleGlobalKind Kind { get; } = kind;
    public Func<object?[], object?>? Call { get; } = call;
    /// <summary>For Storage and DTypeTag: the element type, or null where Ctmsr does not read it (int16, complex...).</summary>
    public DType? DType { get; init; }
    /// <summary>For Storage: bytes per element (also for types Ctmsr refuses, so legacy files can still be walked).</summary>
    public int ElementSize { get; init; }
    public string FullName => $"{Module}.{Name}";
    public override string ToString() => FullName;
}
