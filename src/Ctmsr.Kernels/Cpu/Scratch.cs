using System.Buffers;

namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// Temporary space for a CPU kernel, rented from <see cref="ArrayPool{T}"/> and returned when disposed (a <c>using</c>),
/// so an exception inside the kernel does not leak it. The length is asked in <c>long</c>: a product of int sizes that
/// passes int.MaxValue is refused with a <see cref="DeviceOutOfMemoryException"/> instead of wrapping round.
/// </summary>
readonly struct Scratch<T> : IDisposable
{
    /// <summary>One pool for every thread: <see cref="ArrayPool{T}.Shared"/> keeps a returned array in the returning
    /// thread's own slot first, so a kernel that runs on another thread than the last (the upscaler calibrates on the
    /// caller's thread and then runs its tiles on a worker; Winograd's GEMMs run one per thread) allocates its scratch
    /// again while the first copy stays resident: the x4 upscale grew by 40 MiB more than its memory model.</summary>
    static readonly ArrayPool<T> Pool = ArrayPool<T>.Create(1 << 30, 64);

    public readonly T[] Array;

    Scratch(T[] array) => Array = array;

    public static Scratch<T> Rent(long length, string what)
    {
        if (length < 0 || length > System.Array.MaxLength)
            throw new DeviceOutOfMemoryException($"the CPU {what} needs {length} elements of scratch, more than one array holds ({System.Array.MaxLength}): use smaller tiles or batches");
        return new(Pool.Rent((int)length));
    }

    public void Dispose() => Pool.Return(Array);
}
