namespace Ctmsr.Model.Checkpoints;

/// <summary>
/// A storage named by a persistent id, ('storage', torch.FloatStorage, key, location, numel[, view]); its bytes live
/// outside the pickle (zip entry data/&lt;key&gt;, or the tail of a legacy file). A legacy view is a slice of the root
/// storage <see cref="Key"/> starting <see cref="ElementOffset"/> elements in.
/// </summary>
internal sealed class TorchStorageRef(string key, PickleGlobal type, long count, long elementOffset = 0)
{
    public string Key { get; } = key;
    public PickleGlobal Type { get; } = type;
    /// <summary>Elements in this storage (or view).</summary>
    public long Count { get; } = count;
    public long ElementOffset { get; } = elementOffset;
}
