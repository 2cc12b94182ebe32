using System.Buffers;
using SixLabors.ImageSharp.Memory;

namespace Ctmsr.Imaging;

/// <summary>An ImageSharp allocator for one decode that refuses to hand out, in total, more than a budget derived from
/// the size the header declared. A damaged or hostile file whose internal tables lie (huge Huffman or LZW tables,
/// TIFF strip counts) then fails with a clear error instead of exhausting memory. Buffers come from the GC heap so
/// they are returned as soon as the decode ends.</summary>
internal sealed class DecodeBudget : MemoryAllocator
{
    readonly MemoryAllocator _inner = new SimpleGcMemoryAllocator();
    readonly long _budget;
    long _used;

    public DecodeBudget(long budgetBytes) => _budget = budgetBytes;

    public long Used => Interlocked.Read(ref _used);

    /// <summary>Bytes one decode of a width x height image may allocate in all: the largest pixel type (16 bytes)
    /// several times over for working copies, plus room for tables and metadata.</summary>
    public static long For(long width, long height) => 48 * width * height + (256L << 20);

    protected override int GetBufferCapacityInBytes() => 256 << 20;

    public override IMemoryOwner<T> Allocate<T>(int length, AllocationOptions options = AllocationOptions.None)
    {
        long bytes = (long)length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        if (Interlocked.Add(ref _used, bytes) > _budget)
            throw new DecodeBudgetExceededException(_budget);
        return _inner.Allocate<T>(length, options);
    }
}

internal sealed class DecodeBudgetExceededException(long budget)
    : Exception($"decoding needs more than {budget >> 20} MiB, far more than the declared image size allows");
