using System.Buffers.Binary;

namespace Ctmsr.Model.Checkpoints;

/// <summary>Element types a checkpoint can hold.</summary>
public enum DType { F32, F16, BF16, F64, I64, I32, U8, Bool }

/// <summary>A tensor in host memory as stored in a checkpoint: shape, dtype and little-endian bytes.</summary>
public sealed class HostTensor(DType dtype, int[] shape, byte[] bytes)
{
    public DType DType { get; } = dtype;
    public int[] Shape { get; } = shape;
    public byte[] Bytes { get; } = bytes;
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);
    public string ShapeText => "(" + string.Join(", ", Shape) + (Shape.Length == 1 ? ",)" : ")");

    public static int SizeOf(DType t) => t switch
    {
        DType.F32 or DType.I32 => 4, DType.F16 or DType.BF16 => 2, DType.F64 or DType.I64 => 8, _ => 1,
    };

    public static HostTensor FromFloats(float[] data, params int[] shape)
    {
        var b = new byte[data.Length * 4];
        Buffer.BlockCopy(data, 0, b, 0, b.Length);
        return new HostTensor(DType.F32, shape, b);
    }

    public static HostTensor FromLongs(long[] data, params int[] shape)
    {
        var b = new byte[data.Length * 8];
        Buffer.BlockCopy(data, 0, b, 0, b.Length);
        return new HostTensor(DType.I64, shape, b);
    }

    /// <summary>Values converted to float32 (F16/BF16/F64/integers widened or narrowed).</summary>
    public float[] ToFloats()
    {
        long n = Count;
        var r = new float[n];
        var s = Bytes.AsSpan();
        switch (DType)
        {
            case DType.F32: Buffer.BlockCopy(Bytes, 0, r, 0, (int)(n * 4)); break;
            case DType.F16: for (int i = 0; i < n; i++) r[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(s[(2 * i)..]); break;
            case DType.BF16: for (int i = 0; i < n; i++) r[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(s[(2 * i)..]) << 16); break;
            case DType.F64: for (int i = 0; i < n; i++) r[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(s[(8 * i)..]); break;
            case DType.I64: for (int i = 0; i < n; i++) r[i] = BinaryPrimitives.ReadInt64LittleEndian(s[(8 * i)..]); break;
            case DType.I32: for (int i = 0; i < n; i++) r[i] = BinaryPrimitives.ReadInt32LittleEndian(s[(4 * i)..]); break;
            case DType.U8: case DType.Bool: for (int i = 0; i < n; i++) r[i] = s[i]; break;
        }
        return r;
    }

    /// <summary>Values as float64 (exact for F64 sources).</summary>
    public double[] ToDoubles()
    {
        if (DType != DType.F64) return Array.ConvertAll(ToFloats(), v => (double)v);
        var r = new double[Count];
        Buffer.BlockCopy(Bytes, 0, r, 0, r.Length * 8);
        return r;
    }

    /// <summary>Values as int64; refuses floating-point tensors.</summary>
    public long[] ToLongs()
    {
        long n = Count;
        var r = new long[n];
        var s = Bytes.AsSpan();
        switch (DType)
        {
            case DType.I64: Buffer.BlockCopy(Bytes, 0, r, 0, (int)(n * 8)); break;
            case DType.I32: for (int i = 0; i < n; i++) r[i] = BinaryPrimitives.ReadInt32LittleEndian(s[(4 * i)..]); break;
            case DType.U8: case DType.Bool: for (int i = 0; i < n; i++) r[i] = s[i]; break;
            default: throw new InvalidDataException($"expected an integer tensor, found {DType}");
        }
        return r;
    }
}
