namespace Ctmsr.Kernels;

/// <summary>Operand checks of <see cref="Backend.Gemm"/> shared by the device backends: a GPU kernel would read or
/// write past an allocation without any report, so every matrix of the strided batch must lie inside its buffer.</summary>
public static class GemmOperands
{
    /// <summary>Throws <see cref="ArgumentException"/> for a negative size or an operand outside its buffer; false when
    /// there is nothing to compute (an empty C or batch).</summary>
    public static bool Check(bool transA, bool transB, int m, int n, int k,
        DeviceBuffer a, long offA, int lda, long strideA, DeviceBuffer b, long offB, int ldb, long strideB,
        DeviceBuffer c, long offC, int ldc, long strideC, int batch)
    {
        if (m < 0 || n < 0 || k < 0 || batch < 0) throw new ArgumentException($"Gemm: negative size m={m}, n={n}, k={k}, batch={batch}; pass non-negative sizes.");
        if (m == 0 || n == 0 || batch == 0) return false;
        Matrix("C", c, offC, m, n, ldc, strideC, batch);
        if (k > 0)
        {
            if (transA) Matrix("A", a, offA, k, m, lda, strideA, batch); else Matrix("A", a, offA, m, k, lda, strideA, batch);
            if (transB) Matrix("B", b, offB, n, k, ldb, strideB, batch); else Matrix("B", b, offB, k, n, ldb, strideB, batch);
        }
        return true;
    }

    static void Matrix(string name, DeviceBuffer x, long off, int rows, int cols, int ld, long stride, int batch)
    {
        if (rows == 0 || cols == 0) return;
        long first = off, last = off + (long)(batch - 1) * stride;
        if (ld < cols || Math.Min(first, last) < 0 || Math.Max(first, last) + (long)(rows - 1) * ld + cols > x.Length)
            throw new ArgumentException($"Gemm: operand {name} ({batch} x {rows}x{cols}, offset {off}, ld {ld}, stride {stride}) does not fit its buffer of {x.Length} floats; check the shapes, offsets, strides and leading dimensions passed to Gemm.");
    }
}
