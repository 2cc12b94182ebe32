using Ctmsr.Kernels;

namespace Ctmsr.Autograd;

/// <summary>A backend with its buffer pool; tensors on the same context can meet in an op.</summary>
public sealed class Context : IDisposable
{
    public Backend Backend { get; }
    public BufferPool Pool { get; }

    public Context(Backend backend) { Backend = backend; Pool = new BufferPool(backend); }

    public void Dispose() { Pool.Trim(); Backend.Dispose(); }
}
