namespace Ctmsr.Autograd;

/// <summary>Children registered by position (PyTorch nn.ModuleList): the i-th child's state-dict keys are "i.key".</summary>
public sealed class ModuleList(Context ctx) : Module(ctx)
{
    readonly List<Module> _items = [];

    /// <summary>Appends <paramref name="module"/> as child "Count" and returns it.</summary>
    public T Add<T>(T module) where T : Module
    {
        RegisterModule(_items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), module);
        _items.Add(module);
        return module;
    }

    public Module this[int index] => _items[index];
    public int Count => _items.Count;
    public IEnumerable<Module> Items => _items;
}
