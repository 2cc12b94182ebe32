namespace Ctmsr.Autograd;

/// <summary>Children registered under names (PyTorch nn.ModuleDict): each child's state-dict keys are "name.key",
/// in the order they were added. Holds no parameters of its own.</summary>
public sealed class ModuleDict(Context ctx) : Module(ctx)
{
    /// <summary>Registers <paramref name="module"/> as <paramref name="name"/> and returns it (typed, for the caller's field).</summary>
    public T Add<T>(string name, T module) where T : Module
    {
        if (NamedChildren().Any(c => c.Name == name)) throw new ArgumentException($"ModuleDict already has a child named '{name}'", nameof(name));
        return RegisterModule(name, module);
    }

    public Module this[string name] =>
        NamedChildren().FirstOrDefault(c => c.Name == name).Module ?? throw new KeyNotFoundException($"ModuleDict has no child '{name}'");

    public int Count => NamedChildren().Count();
}
