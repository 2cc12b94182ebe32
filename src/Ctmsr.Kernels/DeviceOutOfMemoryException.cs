namespace Ctmsr.Kernels;

/// <summary>
/// An allocation or launch did not fit in the device's memory. Every backend raises this type (the native API's own
/// exception, when there is one, is the inner exception), so callers such as the auto tiler react to the type, not to
/// message text. It is an <see cref="OutOfMemoryException"/>, so code that already handles the runtime's out-of-memory
/// keeps working.
/// </summary>
public sealed class DeviceOutOfMemoryException(string message, Exception? inner = null) : OutOfMemoryException(message, inner);
