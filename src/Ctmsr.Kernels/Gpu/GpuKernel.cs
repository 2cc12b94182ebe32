namespace Ctmsr.Kernels.Gpu;

/// <summary>A compiled kernel as a GPU API hands it back (an OpenCL cl_kernel, a CUDA function); the backend that
/// built it launches it. Disposed with the backend's kernel cache.</summary>
public abstract class GpuKernel : IDisposable
{
    /// <summary>The kernel's name in its program, for error messages.</summary>
    public abstract string Name { get; }

    public virtual void Dispose() => GC.SuppressFinalize(this);
}
