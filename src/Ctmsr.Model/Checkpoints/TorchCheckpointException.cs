namespace Ctmsr.Model.Checkpoints;

/// <summary>
/// A PyTorch checkpoint could not be read: not a checkpoint, truncated, corrupt, or holding something Ctmsr does not
/// read. An <see cref="IOException"/> (InvalidDataException is sealed), so callers that catch file errors catch it too.
/// </summary>
public class TorchCheckpointException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>
/// The pickle asked for a global outside the tensor-checkpoint allow-list (code execution, arbitrary classes).
/// Nothing was called or instantiated.
/// </summary>
public sealed class PickleRefusedException(string message) : TorchCheckpointException(message);
