using Ctmsr.Autograd;

namespace Ctmsr.Model.Perceptual;

/// <summary>Convolution and max pooling with (begin, end) padding, on the symmetric kernels where that is exact.</summary>
public static class Padding
{
    static int Out(int n, int k, int s, int begin, int end) => (n + begin + end - k) / s + 1;

    /// <summary>
    /// Symmetric padding by <paramref name="begin"/> reads the same windows as (begin, end) when it gives as many
    /// outputs and end &lt;= begin: the windows start at the same places and the extra rows are never reached.
    /// </summary>
    public static bool SymmetricIsExact(int h, int w, int k, int s, int begin, int end) =>
        begin == end || (end <= begin && Out(h, k, s, begin, begin) == Out(h, k, s, begin, end) && Out(w, k, s, begin, begin) == Out(w, k, s, begin, end));

    public static Tensor Conv(Tensor x, Tensor w, Tensor b, int stride, int begin, int end)
    {
        int k = w[2];
        if (SymmetricIsExact(x[2], x[3], k, stride, begin, end)) return F.Conv2d(x, w, b, stride, begin);
        using var p = F.Pad2d(x, begin, begin, end, end, 0f);
        return F.Conv2d(p, w, b, stride, 0);
    }

    /// <summary>Max pool k x k, stride s, padded with -infinity (ONNX MaxPool: padding never wins).</summary>
    public static Tensor MaxPool(Tensor x, int k, int stride, int begin, int end)
    {
        if (begin == 0 && end == 0) return F.MaxPool2d(x, k, stride);
        using var p = F.Pad2d(x, begin, begin, end, end, float.NegativeInfinity);
        return F.MaxPool2d(p, k, stride);
    }
}
