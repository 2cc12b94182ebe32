using System.Buffers;

namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// Temporary space for a CPU kernel, rented from <see cref="ArrayPool{T}"/> and returned when disposed (a <c>using</c>),
/// so an exception inside the kernel does not leak it. The length is asked in <c>long</c>: a product of int sizes that
/// passes int.MaxValue is refused with a <see cref="DeviceOutOfMemoryException"/> instead of wrapping round.
/// </summary>
readonly struct Scratch<T> : IDisposable
{
    public readonly T[] Array;

    Scratch(T[] array) => Array = array;

    public static Scratch<T> Rent(long length, string what)
    {
        if (length < 0 || length > System.Array.MaxLength)
            throw new DeviceOutOfMemoryException($"the CPU {what} needs {length} elements of scratch, more than one array holds ({System.Array.MaxLength}): use smaller tiles or batches");
        return new(ArrayPool<T>.Shared.Rent((int)length));
    }

    public void Dispose() => ArrayPool<T>.Shared.Return(Array);
}
