namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// Conv2d on host arrays, NCHW, weight [Cout, Cin, K, K], zero padding.
/// Placeholder: im2col + GEMM per sample; the implicit-GEMM kernel replaces it behind the same signatures.
/// </summary>
public static class CpuConv
{
    static float[] Im2Col(in ConvShape s, float[] x, int n)
    {
        int oh = s.OutH, ow = s.OutW, kk = s.K * s.K;
        var col = new float[(long)s.Cin * kk * oh * ow];
        for (int ci = 0; ci < s.Cin; ci++)
            for (int ky = 0; ky < s.K; ky++)
                for (int kx = 0; kx < s.K; kx++)
                {
                    long rowBase = ((long)(ci * kk + ky * s.K + kx)) * oh * ow;
                    for (int oy = 0; oy < oh; oy++)
                    {
                        int iy = oy * s.Stride - s.Pad + ky;
                        for (int ox = 0; ox < ow; ox++)
                        {
                            int ix = ox * s.Stride - s.Pad + kx;
                            col[rowBase + oy * ow + ox] = iy >= 0 && iy < s.H && ix >= 0 && ix < s.W
                                ? x[((long)(n * s.Cin + ci) * s.H + iy) * s.W + ix] : 0f;
                        }
                    }
                }
        return col;
    }

    public static void Forward(in ConvShape s, float[] x, float[] w, float[]? bias, float[] y)
    {
        int p = s.OutH * s.OutW, kdim = s.Cin * s.K * s.K;
        for (int n = 0; n < s.N; n++)
        {
            var col = Im2Col(s, x, n);
            long yo = (long)n * s.Cout * p;
            CpuGemm.Sgemm(false, false, s.Cout, p, kdim, 1f, w, 0, kdim, col, 0, p, 0f, y, yo, p);
            if (bias is not null)
                for (int co = 0; co < s.Cout; co++) y.AsSpan((int)(yo + (long)co * p), p).Add(bias[co]);
        }
    }

    public static void BackwardData(in ConvShape s, float[] dy, float[] w, float[] dx, bool accumulate)
    {
        int oh = s.OutH, ow = s.OutW, p = oh * ow, kk = s.K * s.K, kdim = s.Cin * kk;
        var col = new float[(long)kdim * p];
        for (int n = 0; n < s.N; n++)
        {
            CpuGemm.Sgemm(true, false, kdim, p, s.Cout, 1f, w, 0, kdim, dy, (long)n * s.Cout * p, p, 0f, col, 0, p);
            var dxs = dx.AsSpan((int)((long)n * s.Cin * s.H * s.W), s.Cin * s.H * s.W);
            if (!accumulate) dxs.Clear();
            for (int ci = 0; ci < s.Cin; ci++)
                for (int ky = 0; ky < s.K; ky++)
                    for (int kx = 0; kx < s.K; kx++)
                    {
                        long rowBase = ((long)(ci * kk + ky * s.K + kx)) * p;
                        for (int oy = 0; oy < oh; oy++)
                        {
                            int iy = oy * s.Stride - s.Pad + ky;
                            if (iy < 0 || iy >= s.H) continue;
                            for (int ox = 0; ox < ow; ox++)
                            {
                                int ix = ox * s.Stride - s.Pad + kx;
                                if (ix < 0 || ix >= s.W) continue;
                                dxs[(ci * s.H + iy) * s.W + ix] += col[rowBase + oy * ow + ox];
                            }
                        }
                    }
        }
    }

    public static void BackwardWeight(in ConvShape s, float[] x, float[] dy, float[] dw, float[]? db)
    {
        int p = s.OutH * s.OutW, kdim = s.Cin * s.K * s.K;
        for (int n = 0; n < s.N; n++)
        {
            var col = Im2Col(s, x, n);
            CpuGemm.Sgemm(false, true, s.Cout, kdim, p, 1f, dy, (long)n * s.Cout * p, p, col, 0, p, 1f, dw, 0, kdim);
            if (db is not null)
                for (int co = 0; co < s.Cout; co++)
                {
                    double acc = 0;
                    var row = dy.AsSpan((int)((long)(n * s.Cout + co) * p), p);
                    foreach (float v in row) acc += v;
                    db[co] += (float)acc;
                }
        }
    }
}

static class SpanExtensions
{
    public static void Add(this Span<float> s, float v) { for (int i = 0; i < s.Length; i++) s[i] += v; }
}
