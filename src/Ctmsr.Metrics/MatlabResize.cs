namespace Ctmsr.Metrics;

/// <summary>
/// MATLAB's imresize (bicubic, a = -0.5, antialiased when shrinking) as BasicSR's matlab_functions.imresize does it on
/// one plane: output size ceil(in * scale); per output index i (1-based) the centre u = i / scale + 0.5 (1 - 1/scale),
/// taps floor(u - width/2) + 0..p-1 with p = ceil(width) + 2, width = 4 (/ scale when shrinking), weights
/// scale * cubic(scale * (u - tap)) normalised to sum 1; an edge tap column that is zero for some output is dropped
/// (BasicSR's rule, quirks included); the plane is padded by symmetric reflection (edge sample repeated). Rows first,
/// then columns.
/// </summary>
public static class MatlabResize
{
    static double Cubic(double x)
    {
        double a = Math.Abs(x), a2 = a * a, a3 = a2 * a;
        return a <= 1 ? 1.5 * a3 - 2.5 * a2 + 1 : a <= 2 ? -0.5 * a3 + 2.5 * a2 - 4 * a + 2 : 0;
    }

    /// <summary>Taps and weights of one axis: (first source index per output, weights [out, taps], taps).</summary>
    static (int[] first, double[] w, int taps) Weights(int inLen, int outLen, double scale)
    {
        double width = 4;
        bool aa = scale < 1;
        if (aa) width /= scale;
        int p = (int)Math.Ceiling(width) + 2;
        var idx = new double[outLen, p];
        var w = new double[outLen, p];
        for (int i = 0; i < outLen; i++)
        {
            double x = i + 1;
            double u = x / scale + 0.5 * (1 - 1 / scale);
            double left = Math.Floor(u - width / 2);
            double sum = 0;
            for (int j = 0; j < p; j++)
            {
                idx[i, j] = left + j;
                double d = u - idx[i, j];
                w[i, j] = aa ? scale * Cubic(d * scale) : Cubic(d);
                sum += w[i, j];
            }
            for (int j = 0; j < p; j++) w[i, j] /= sum;
        }
        bool zeroFirst = false, zeroLast = false;
        for (int i = 0; i < outLen; i++) { zeroFirst |= w[i, 0] == 0; zeroLast |= w[i, p - 1] == 0; }
        int start = 0, taps = p;
        if (zeroFirst) { start = 1; taps = p - 2; }
        if (zeroLast) taps = p - 2; // narrows from the current start, as torch.narrow(1, 0, p - 2) does
        var first = new int[outLen];
        var ww = new double[outLen * taps];
        for (int i = 0; i < outLen; i++)
        {
            first[i] = (int)idx[i, start] - 1; // 0-based source index of the first tap (may lie in the padding)
            for (int j = 0; j < taps; j++) ww[i * taps + j] = w[i, start + j];
        }
        return (first, ww, taps);
    }

    /// <summary>Symmetric padding: a source index outside [0, n) reflects with the edge sample repeated.</summary>
    static int Reflect(int k, int n) => Math.Clamp(k < 0 ? -k - 1 : k >= n ? 2 * n - 1 - k : k, 0, n - 1);

    /// <summary>Resizes a plane [h, w] by <paramref name="scale"/> (output ceil(h * scale) x ceil(w * scale)).</summary>
    public static double[] Resize(double[] plane, int h, int w, double scale, out int outH, out int outW)
    {
        if (plane.Length != h * w) throw new ArgumentException($"{plane.Length} samples are not a {w}x{h} plane");
        outH = (int)Math.Ceiling(h * scale);
        outW = (int)Math.Ceiling(w * scale);
        var (fh, wh, th) = Weights(h, outH, scale);
        var (fw, wwt, tw) = Weights(w, outW, scale);
        var mid = new double[outH * w];
        for (int i = 0; i < outH; i++)
            for (int x = 0; x < w; x++)
            {
                double s = 0;
                for (int t = 0; t < th; t++) s += wh[i * th + t] * plane[Reflect(fh[i] + t, h) * w + x];
                mid[i * w + x] = s;
            }
        int ow = outW;
        var r = new double[outH * ow];
        for (int y = 0; y < outH; y++)
            for (int j = 0; j < ow; j++)
            {
                double s = 0;
                for (int t = 0; t < tw; t++) s += wwt[j * tw + t] * mid[y * w + Reflect(fw[j] + t, w)];
                r[y * ow + j] = s;
            }
        return r;
    }
}
