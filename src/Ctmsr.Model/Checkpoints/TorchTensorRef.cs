namespace Ctmsr.Model.Checkpoints;

/// <summary>
/// A tensor as torch._utils._rebuild_tensor_v2 describes it: a storage, an element offset, a size and strides (in
/// elements). <see cref="Materialize"/> gathers it into a contiguous row-major <see cref="HostTensor"/>:
/// out[i0,...,ik] = storage[offset + sum_j i_j * stride_j].
/// </summary>
internal sealed class TorchTensorRef(TorchStorageRef storage, PickleGlobal dtype, long offset, long[] size, long[] stride)
{
    public TorchStorageRef Storage { get; } = storage;
    /// <summary>The storage type (typed storages) or dtype tag (_rebuild_tensor_v3) giving the element type.</summary>
    public PickleGlobal DTypeSource { get; } = dtype;
    public long Offset { get; } = offset;
    public long[] Size { get; } = size;
    public long[] Stride { get; } = stride;

    /// <param name="storageBytes">The storage's bytes (already sliced to a legacy view).</param>
    /// <param name="name">Where the tensor sits in the checkpoint, for error messages.</param>
    public HostTensor Materialize(ReadOnlySpan<byte> storageBytes, string name)
    {
        var dt = DTypeSource.DType ?? throw new TorchCheckpointException(
            $"{name}: element type {DTypeSource.FullName} is not supported (Ctmsr reads float32, float16, bfloat16, float64, int64, int32, uint8, bool); convert the tensor with .float() before saving");
        int es = HostTensor.SizeOf(dt);
        if (Size.Length != Stride.Length)
            throw new TorchCheckpointException($"{name}: size {Fmt(Size)} and stride {Fmt(Stride)} have different ranks; the checkpoint is corrupt");
        var shape = new int[Size.Length];
        long available = storageBytes.Length / es, count = 1, maxIndex = Offset;
        bool empty = false;
        for (int d = 0; d < Size.Length; d++)
        {
            if (Size[d] < 0 || Size[d] > int.MaxValue || Stride[d] < 0)
                throw new TorchCheckpointException($"{name}: size {Fmt(Size)} / stride {Fmt(Stride)} is invalid; the checkpoint is corrupt");
            shape[d] = (int)Size[d];
            empty |= Size[d] == 0;
        }
        if (!empty)
        {
            // Every element must lie inside the storage; checking as we go also keeps the products from overflowing.
            for (int d = 0; d < Size.Length; d++)
            {
                if (count > Array.MaxLength / es / Size[d])
                    throw new TorchCheckpointException($"{name}: tensor {Fmt(Size)} of {dt} does not fit one array; Ctmsr cannot load a tensor this large");
                count *= Size[d];
                if (Size[d] > 1 && Stride[d] >= available) { maxIndex = available; continue; }
                if (maxIndex < available) maxIndex += (Size[d] - 1) * Stride[d];
            }
            if (Offset < 0 || Offset >= available || maxIndex >= available)
                throw new TorchCheckpointException(
                    $"{name}: tensor {Fmt(Size)} at offset {Offset} with stride {Fmt(Stride)} reaches past the {available} elements of its storage '{Storage.Key}'; the checkpoint is corrupt or truncated");
        }
        else count = 0;
        var bytes = new byte[count * es];
        if (count == 0) return new HostTensor(dt, shape, bytes);
        if (IsContiguous())
        {
            storageBytes.Slice((int)(Offset * es), bytes.Length).CopyTo(bytes);
            return new HostTensor(dt, shape, bytes);
        }
        Gather(storageBytes, bytes, es);
        return new HostTensor(dt, shape, bytes);
    }

    bool IsContiguous()
    {
        long expect = 1;
        for (int d = Size.Length - 1; d >= 0; d--)
        {
            if (Size[d] != 1 && Stride[d] != expect) return false;
            expect *= Size[d];
        }
        return true;
    }

    // Walks the output in row-major order with an odometer over all but the last dimension.
    void Gather(ReadOnlySpan<byte> src, byte[] dst, int es)
    {
        int rank = Size.Length;
        long inner = Size[rank - 1], innerStride = Stride[rank - 1];
        var idx = new long[rank];
        long o = 0, srcBase = Offset;
        var d8 = dst.AsSpan();
        while (true)
        {
            long s = srcBase;
            for (long i = 0; i < inner; i++, s += innerStride, o++)
                src.Slice((int)(s * es), es).CopyTo(d8.Slice((int)(o * es), es));
            int d = rank - 2;
            for (; d >= 0; d--)
            {
                idx[d]++;
                srcBase += Stride[d];
                if (idx[d] < Size[d]) break;
                srcBase -= idx[d] * Stride[d];
                idx[d] = 0;
            }
            if (d < 0) return;
        }
    }

    static string Fmt(long[] v) => "(" + string.Join(", ", v) + ")";
}
