namespace Ctmsr.Kernels.Reference;

/// <summary>
/// The oracle: every op as plain scalar loops in float64, written for obviousness, not speed.
/// Buffers hold doubles, so a whole autograd graph run here is a float64 computation (used for
/// finite-difference gradient checks).
/// </summary>
public sealed class ReferenceBackend : Backend
{
    public override string Name => "reference";
    public override string Description => "scalar float64 reference (test oracle)";

    sealed class RefBuffer(ReferenceBackend owner, long n) : DeviceBuffer
    {
        public readonly double[] Data = new double[n];
        public override long Length => Data.LongLength;
        public override Backend Backend => owner;
        public override void Dispose() { }
    }

    static double[] D(DeviceBuffer b) => ((RefBuffer)b).Data;

    public override DeviceBuffer Allocate(long count) =>
        HostMemory.Allocate(count, "double", sizeof(double), "use smaller inputs", () => new RefBuffer(this, count));

    public override DeviceMemoryInfo Memory => HostMemory.Info();

    public override void Upload(ReadOnlySpan<float> src, DeviceBuffer dst, long dstOffset = 0)
    {
        var d = D(dst);
        for (int i = 0; i < src.Length; i++) d[dstOffset + i] = src[i];
    }

    public override void Download(DeviceBuffer src, Span<float> dst, long srcOffset = 0)
    {
        var s = D(src);
        for (int i = 0; i < dst.Length; i++) dst[i] = (float)s[srcOffset + i];
    }

    /// <summary>Float64 access for finite-difference checks.</summary>
    public static double[] Raw(DeviceBuffer b) => D(b);

    public override void Fill(DeviceBuffer dst, float value, long offset, long count) => Array.Fill(D(dst), value, (int)offset, (int)count);
    public override void Synchronize() { }

    static void Put(double[] y, long i, double v, bool acc) { if (acc) y[i] += v; else y[i] = v; }

    public override void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
        DeviceBuffer a, long offA, int lda, long strideA, DeviceBuffer b, long offB, int ldb, long strideB,
        float beta, DeviceBuffer c, long offC, int ldc, long strideC, int batch)
    {
        double[] A = D(a), B = D(b), C = D(c);
        for (int bt = 0; bt < batch; bt++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int p = 0; p < k; p++)
                    {
                        double av = transA ? A[offA + bt * strideA + (long)p * lda + i] : A[offA + bt * strideA + (long)i * lda + p];
                        double bv = transB ? B[offB + bt * strideB + (long)j * ldb + p] : B[offB + bt * strideB + (long)p * ldb + j];
                        s += av * bv;
                    }
                    long ci = offC + bt * strideC + (long)i * ldc + j;
                    C[ci] = alpha * s + (beta == 0 ? 0 : beta * C[ci]);
                }
    }

    public override void Conv2dForward(in ConvShape s, DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, DeviceBuffer y)
    {
        double[] X = D(x), Wt = D(w), Y = D(y), Bs = bias is null ? [] : D(bias);
        int oh = s.OutH, ow = s.OutW;
        for (int n = 0; n < s.N; n++)
            for (int co = 0; co < s.Cout; co++)
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        double acc = bias is null ? 0 : Bs[co];
                        for (int ci = 0; ci < s.Cin; ci++)
                            for (int ky = 0; ky < s.K; ky++)
                            {
                                int iy = oy * s.Stride - s.Pad + ky;
                                if (iy < 0 || iy >= s.H) continue;
                                for (int kx = 0; kx < s.K; kx++)
                                {
                                    int ix = ox * s.Stride - s.Pad + kx;
                                    if (ix < 0 || ix >= s.W) continue;
                                    acc += X[((long)(n * s.Cin + ci) * s.H + iy) * s.W + ix] * Wt[((co * s.Cin + ci) * s.K + ky) * s.K + kx];
                                }
                            }
                        Y[((long)(n * s.Cout + co) * oh + oy) * ow + ox] = acc;
                    }
    }

    public override void Conv2dBackwardData(in ConvShape s, DeviceBuffer dy, DeviceBuffer w, DeviceBuffer dx, bool accumulate)
    {
        double[] DY = D(dy), Wt = D(w), DX = D(dx);
        long nx = (long)s.N * s.Cin * s.H * s.W;
        if (!accumulate) Array.Clear(DX, 0, (int)nx);
        int oh = s.OutH, ow = s.OutW;
        for (int n = 0; n < s.N; n++)
            for (int co = 0; co < s.Cout; co++)
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        double g = DY[((long)(n * s.Cout + co) * oh + oy) * ow + ox];
                        for (int ci = 0; ci < s.Cin; ci++)
                            for (int ky = 0; ky < s.K; ky++)
                            {
                                int iy = oy * s.Stride - s.Pad + ky;
                                if (iy < 0 || iy >= s.H) continue;
                                for (int kx = 0; kx < s.K; kx++)
                                {
                                    int ix = ox * s.Stride - s.Pad + kx;
                                    if (ix < 0 || ix >= s.W) continue;
                                    DX[((long)(n * s.Cin + ci) * s.H + iy) * s.W + ix] += g * Wt[((co * s.Cin + ci) * s.K + ky) * s.K + kx];
                                }
                            }
                    }
    }

    public override void Conv2dBackwardWeight(in ConvShape s, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw, DeviceBuffer? db)
    {
        double[] X = D(x), DY = D(dy), DW = D(dw);
        int oh = s.OutH, ow = s.OutW;
        for (int n = 0; n < s.N; n++)
            for (int co = 0; co < s.Cout; co++)
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        double g = DY[((long)(n * s.Cout + co) * oh + oy) * ow + ox];
                        if (db is not null) D(db)[co] += g;
                        for (int ci = 0; ci < s.Cin; ci++)
                            for (int ky = 0; ky < s.K; ky++)
                            {
                                int iy = oy * s.Stride - s.Pad + ky;
                                if (iy < 0 || iy >= s.H) continue;
                                for (int kx = 0; kx < s.K; kx++)
                                {
                                    int ix = ox * s.Stride - s.Pad + kx;
                                    if (ix < 0 || ix >= s.W) continue;
                                    DW[((co * s.Cin + ci) * s.K + ky) * s.K + kx] += g * X[((long)(n * s.Cin + ci) * s.H + iy) * s.W + ix];
                                }
                            }
                    }
    }

    public override void GroupNormForward(int n, int c, int hw, int groups, float eps,
        DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta, DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd)
    {
        double[] X = D(x), G = D(gamma), B = D(beta), Y = D(y), M = D(mean), R = D(rstd);
        int cg = c / groups;
        long cnt = (long)cg * hw;
        for (int s = 0; s < n; s++)
            for (int g = 0; g < groups; g++)
            {
                long base0 = ((long)s * c + g * cg) * hw;
                double mu = 0;
                for (long i = 0; i < cnt; i++) mu += X[base0 + i];
                mu /= cnt;
                double var = 0;
                for (long i = 0; i < cnt; i++) { double d = X[base0 + i] - mu; var += d * d; }
                var /= cnt;
                double r = 1 / Math.Sqrt(var + eps);
                M[s * groups + g] = mu; R[s * groups + g] = r;
                for (int ch = 0; ch < cg; ch++)
                {
                    int cc = g * cg + ch;
                    for (int i = 0; i < hw; i++)
                    {
                        long idx = base0 + (long)ch * hw + i;
                        Y[idx] = (X[idx] - mu) * r * G[cc] + B[cc];
                    }
                }
            }
    }

    public override void GroupNormBackward(int n, int c, int hw, int groups,
        DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer mean, DeviceBuffer rstd, DeviceBuffer dy,
        DeviceBuffer dx, bool accumulate, DeviceBuffer dgamma, DeviceBuffer dbeta)
    {
        double[] X = D(x), G = D(gamma), M = D(mean), R = D(rstd), DY = D(dy), DX = D(dx), DG = D(dgamma), DB = D(dbeta);
        int cg = c / groups;
        long cnt = (long)cg * hw;
        for (int s = 0; s < n; s++)
            for (int g = 0; g < groups; g++)
            {
                long base0 = ((long)s * c + g * cg) * hw;
                double mu = M[s * groups + g], r = R[s * groups + g];
                double sumDyG = 0, sumDyGXhat = 0;
                for (int ch = 0; ch < cg; ch++)
                {
                    int cc = g * cg + ch;
                    for (int i = 0; i < hw; i++)
                    {
                        long idx = base0 + (long)ch * hw + i;
                        double xhat = (X[idx] - mu) * r;
                        DG[cc] += DY[idx] * xhat;
                        DB[cc] += DY[idx];
                        sumDyG += DY[idx] * G[cc];
                        sumDyGXhat += DY[idx] * G[cc] * xhat;
                    }
                }
                for (int ch = 0; ch < cg; ch++)
                {
                    int cc = g * cg + ch;
                    for (int i = 0; i < hw; i++)
                    {
                        long idx = base0 + (long)ch * hw + i;
                        double xhat = (X[idx] - mu) * r;
                        double v = r * (DY[idx] * G[cc] - sumDyG / cnt - xhat * sumDyGXhat / cnt);
                        Put(DX, idx, v, accumulate);
                    }
                }
            }
    }

    static double Erf(double x)
    {
        // Abramowitz-Stegun 7.1.26 is too coarse for an oracle; use a series / continued fraction.
        double ax = Math.Abs(x);
        double r;
        if (ax < 3)
        {
            double sum = ax, term = ax, x2 = ax * ax;
            for (int k = 1; k < 200; k++)
            {
                term *= -x2 / k;
                double add = term / (2 * k + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
            }
            r = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            // erfc continued fraction (Lentz), converges fast for ax >= 3
            double f = ax, c = ax, d = 0;
            for (int k = 1; k < 200; k++)
            {
                double a = k / 2.0;
                d = ax + a * d; d = 1 / d;
                c = ax + a / c;
                double delta = c * d;
                f *= delta;
                if (Math.Abs(delta - 1) < 1e-16) break;
            }
            r = 1 - Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / f;
        }
        return x < 0 ? -r : r;
    }

    static double Act(Activation a, double slope, double x) => a switch
    {
        Activation.Identity => x,
        Activation.ReLU => x > 0 ? x : 0,
        Activation.LeakyReLU => x > 0 ? x : slope * x,
        Activation.SiLU => x / (1 + Math.Exp(-x)),
        Activation.Gelu => 0.5 * x * (1 + Erf(x / Math.Sqrt(2))),
        Activation.Sigmoid => 1 / (1 + Math.Exp(-x)),
        _ => throw new ArgumentOutOfRangeException(nameof(a)),
    };

    static double ActGrad(Activation a, double slope, double x)
    {
        switch (a)
        {
            case Activation.Identity: return 1;
            case Activation.ReLU: return x > 0 ? 1 : 0;
            case Activation.LeakyReLU: return x > 0 ? 1 : slope;
            case Activation.SiLU: { double s = 1 / (1 + Math.Exp(-x)); return s * (1 + x * (1 - s)); }
            case Activation.Gelu: return 0.5 * (1 + Erf(x / Math.Sqrt(2))) + x * Math.Exp(-0.5 * x * x) / Math.Sqrt(2 * Math.PI);
            case Activation.Sigmoid: { double s = 1 / (1 + Math.Exp(-x)); return s * (1 - s); }
            default: throw new ArgumentOutOfRangeException(nameof(a));
        }
    }

    public override void ActivationForward(Activation act, float slope, long count, DeviceBuffer x, DeviceBuffer y)
    {
        double[] X = D(x), Y = D(y);
        for (long i = 0; i < count; i++) Y[i] = Act(act, slope, X[i]);
    }

    public override void ActivationBackward(Activation act, float slope, long count, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, bool accumulate)
    {
        double[] X = D(x), DY = D(dy), DX = D(dx);
        for (long i = 0; i < count; i++) Put(DX, i, DY[i] * ActGrad(act, slope, X[i]), accumulate);
    }

    public override void AddScaled(long count, float a, DeviceBuffer x, float b, DeviceBuffer z, DeviceBuffer y)
    {
        double[] X = D(x), Z = D(z), Y = D(y);
        for (long i = 0; i < count; i++) Y[i] = a * X[i] + b * Z[i];
    }

    public override void Mul(long count, DeviceBuffer x, DeviceBuffer z, DeviceBuffer y, bool accumulate)
    {
        double[] X = D(x), Z = D(z), Y = D(y);
        for (long i = 0; i < count; i++) Put(Y, i, X[i] * Z[i], accumulate);
    }

    public override void ScaleOuter(int outer, long inner, DeviceBuffer s, DeviceBuffer x, DeviceBuffer y, bool accumulate)
    {
        double[] S = D(s), X = D(x), Y = D(y);
        for (int o = 0; o < outer; o++)
            for (long i = 0; i < inner; i++) Put(Y, o * inner + i, S[o] * X[o * inner + i], accumulate);
    }

    public override void AddOuter(int outer, long inner, DeviceBuffer v, DeviceBuffer y)
    {
        double[] V = D(v), Y = D(y);
        for (int o = 0; o < outer; o++)
            for (long i = 0; i < inner; i++) Y[o * inner + i] += V[o];
    }

    public override void AddInner(int rows, int cols, DeviceBuffer v, DeviceBuffer y)
    {
        double[] V = D(v), Y = D(y);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) Y[(long)r * cols + c] += V[c];
    }

    public override void SumInner(int outer, long inner, DeviceBuffer x, DeviceBuffer y, bool accumulate)
    {
        double[] X = D(x), Y = D(y);
        for (int o = 0; o < outer; o++)
        {
            double s = 0;
            for (long i = 0; i < inner; i++) s += X[o * inner + i];
            Put(Y, o, s, accumulate);
        }
    }

    public override void SumRows(int rows, int cols, DeviceBuffer x, DeviceBuffer y, bool accumulate)
    {
        double[] X = D(x), Y = D(y);
        for (int c = 0; c < cols; c++)
        {
            double s = 0;
            for (int r = 0; r < rows; r++) s += X[(long)r * cols + c];
            Put(Y, c, s, accumulate);
        }
    }

    public override void CharbonnierForward(long count, float eps, DeviceBuffer a, DeviceBuffer b, DeviceBuffer y)
    {
        double[] A = D(a), B = D(b), Y = D(y);
        for (long i = 0; i < count; i++) { double d = A[i] - B[i]; Y[i] = Math.Sqrt(d * d + eps); }
    }

    public override void CharbonnierBackward(long count, float eps, DeviceBuffer a, DeviceBuffer b, DeviceBuffer dy, DeviceBuffer da, bool accumulate)
    {
        double[] A = D(a), B = D(b), DY = D(dy), DA = D(da);
        for (long i = 0; i < count; i++) { double d = A[i] - B[i]; Put(DA, i, DY[i] * d / Math.Sqrt(d * d + eps), accumulate); }
    }

    public override void CopyStrided(ReadOnlySpan<int> shape, DeviceBuffer src, long srcOffset, ReadOnlySpan<long> srcStrides,
        DeviceBuffer dst, long dstOffset, ReadOnlySpan<long> dstStrides, bool accumulate)
    {
        double[] S = D(src), T = D(dst);
        int nd = shape.Length;
        long total = 1;
        foreach (int e in shape) total *= e;
        Span<int> idx = stackalloc int[nd];
        for (long it = 0; it < total; it++)
        {
            long rem = it, so = srcOffset, dof = dstOffset;
            for (int dd = nd - 1; dd >= 0; dd--)
            {
                int i = (int)(rem % shape[dd]); rem /= shape[dd];
                so += i * srcStrides[dd]; dof += i * dstStrides[dd];
            }
            Put(T, dof, S[so], accumulate);
        }
    }

    public override void Resample2d(int planes, ResampleAxis rows, ResampleAxis cols, DeviceBuffer x, DeviceBuffer y)
    {
        double[] X = D(x), Y = D(y);
        int h = rows.InSize, w = cols.InSize, oh = rows.OutSize, ow = cols.OutSize;
        for (int p = 0; p < planes; p++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    double acc = 0;
                    for (int a = 0; a < rows.Taps; a++)
                    {
                        long src = ((long)p * h + rows.Index[i * rows.Taps + a]) * w;
                        double s = 0;
                        for (int b = 0; b < cols.Taps; b++) s += (double)cols.Weight[j * cols.Taps + b] * X[src + cols.Index[j * cols.Taps + b]];
                        acc += rows.Weight[i * rows.Taps + a] * s;
                    }
                    Y[((long)p * oh + i) * ow + j] = acc;
                }
    }

    public override void Filter2dReflect(int batch, int channels, int h, int w, int k, DeviceBuffer kernels, DeviceBuffer x, DeviceBuffer y)
    {
        double[] K = D(kernels), X = D(x), Y = D(y);
        int half = k / 2;
        for (int p = 0; p < batch * channels; p++)
        {
            long kb = (long)(p / channels) * k * k, pb = (long)p * h * w;
            for (int r = 0; r < h; r++)
                for (int c = 0; c < w; c++)
                {
                    double acc = 0;
                    for (int i = 0; i < k; i++)
                        for (int j = 0; j < k; j++)
                            acc += K[kb + i * k + j] * X[pb + (long)Reflect101(r + i - half, h) * w + Reflect101(c + j - half, w)];
                    Y[pb + (long)r * w + c] = acc;
                }
        }
    }

    public override void AvgPool2x2(int nc, int h, int w, DeviceBuffer x, DeviceBuffer y)
    {
        double[] X = D(x), Y = D(y);
        int oh = h / 2, ow = w / 2;
        for (int p = 0; p < nc; p++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    long b = ((long)p * h + 2 * i) * w + 2 * j;
                    Y[((long)p * oh + i) * ow + j] = 0.25 * (X[b] + X[b + 1] + X[b + w] + X[b + w + 1]);
                }
    }

    public override void AvgPool2x2Backward(int nc, int h, int w, DeviceBuffer dy, DeviceBuffer dx, bool accumulate)
    {
        double[] DY = D(dy), DX = D(dx);
        int oh = h / 2, ow = w / 2;
        for (int p = 0; p < nc; p++)
            for (int i = 0; i < h; i++)
                for (int j = 0; j < w; j++)
                    Put(DX, ((long)p * h + i) * w + j, 0.25 * DY[((long)p * oh + i / 2) * ow + j / 2], accumulate);
    }

    public override void UpsampleNearest2x(int nc, int h, int w, DeviceBuffer x, DeviceBuffer y)
    {
        double[] X = D(x), Y = D(y);
        for (int p = 0; p < nc; p++)
            for (int i = 0; i < 2 * h; i++)
                for (int j = 0; j < 2 * w; j++)
                    Y[((long)p * 2 * h + i) * 2 * w + j] = X[((long)p * h + i / 2) * w + j / 2];
    }

    public override void UpsampleNearest2xBackward(int nc, int h, int w, DeviceBuffer dy, DeviceBuffer dx, bool accumulate)
    {
        double[] DY = D(dy), DX = D(dx);
        for (int p = 0; p < nc; p++)
            for (int i = 0; i < h; i++)
                for (int j = 0; j < w; j++)
                {
                    long b = ((long)p * 2 * h + 2 * i) * 2 * w + 2 * j;
                    Put(DX, ((long)p * h + i) * w + j, DY[b] + DY[b + 1] + DY[b + 2 * w] + DY[b + 2 * w + 1], accumulate);
                }
    }

    public override void MaxPool2d(int nc, int h, int w, int k, int s, DeviceBuffer x, DeviceBuffer y)
    {
        double[] X = D(x), Y = D(y);
        int oh = (h - k) / s + 1, ow = (w - k) / s + 1;
        for (int p = 0; p < nc; p++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    double m = double.NegativeInfinity;
                    for (int a = 0; a < k; a++)
                        for (int b = 0; b < k; b++) m = Math.Max(m, X[((long)p * h + i * s + a) * w + j * s + b]);
                    Y[((long)p * oh + i) * ow + j] = m;
                }
    }

    public override void MaxPool2dBackward(int nc, int h, int w, int k, int s, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, bool accumulate)
    {
        double[] X = D(x), DY = D(dy), DX = D(dx);
        int oh = (h - k) / s + 1, ow = (w - k) / s + 1;
        if (!accumulate) Array.Clear(DX, 0, nc * h * w);
        for (int p = 0; p < nc; p++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    double m = double.NegativeInfinity; long at = -1;
                    for (int a = 0; a < k; a++)
                        for (int b = 0; b < k; b++)
                        {
                            long idx = ((long)p * h + i * s + a) * w + j * s + b;
                            if (X[idx] > m) { m = X[idx]; at = idx; }
                        }
                    DX[at] += DY[((long)p * oh + i) * ow + j];
                }
    }

    static int RelIndex(int ws, int i, int j) =>
        (i / ws - j / ws + ws - 1) * (2 * ws - 1) + (i % ws - j % ws + ws - 1);

    public override void WindowAttentionForward(int windows, int ws, int heads, int d, float scale,
        DeviceBuffer qkv, DeviceBuffer table, DeviceBuffer probs, DeviceBuffer output)
    {
        double[] QKV = D(qkv), TB = D(table), P = D(probs), O = D(output);
        int t = ws * ws, e = heads * d, row = 3 * e;
        var sc = new double[t];
        for (int w = 0; w < windows; w++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < t; i++)
                {
                    double mx = double.NegativeInfinity;
                    for (int j = 0; j < t; j++)
                    {
                        double s = 0;
                        for (int c = 0; c < d; c++)
                            s += QKV[((long)w * t + i) * row + h * d + c] * QKV[((long)w * t + j) * row + e + h * d + c];
                        sc[j] = s * scale + TB[RelIndex(ws, i, j) * heads + h];
                        mx = Math.Max(mx, sc[j]);
                    }
                    double z = 0;
                    for (int j = 0; j < t; j++) { sc[j] = Math.Exp(sc[j] - mx); z += sc[j]; }
                    for (int j = 0; j < t; j++) P[(((long)w * heads + h) * t + i) * t + j] = sc[j] / z;
                    for (int c = 0; c < d; c++)
                    {
                        double o = 0;
                        for (int j = 0; j < t; j++) o += sc[j] / z * QKV[((long)w * t + j) * row + 2 * e + h * d + c];
                        O[((long)w * t + i) * e + h * d + c] = o;
                    }
                }
    }

    public override void WindowAttentionBackward(int windows, int ws, int heads, int d, float scale,
        DeviceBuffer qkv, DeviceBuffer probs, DeviceBuffer dOutput, DeviceBuffer dqkv, bool accumulate, DeviceBuffer dScores)
    {
        double[] QKV = D(qkv), P = D(probs), DO = D(dOutput), DQ = D(dqkv), DS = D(dScores);
        int t = ws * ws, e = heads * d, row = 3 * e;
        if (!accumulate) Array.Clear(DQ, 0, windows * t * row);
        var dp = new double[t];
        for (int w = 0; w < windows; w++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < t; i++)
                {
                    long prow = (((long)w * heads + h) * t + i) * t;
                    double dot = 0;
                    for (int j = 0; j < t; j++)
                    {
                        double s = 0;
                        for (int c = 0; c < d; c++)
                            s += DO[((long)w * t + i) * e + h * d + c] * QKV[((long)w * t + j) * row + 2 * e + h * d + c];
                        dp[j] = s;
                        dot += s * P[prow + j];
                        // dV[j] += P[i,j] * dO[i]
                        for (int c = 0; c < d; c++)
                            DQ[((long)w * t + j) * row + 2 * e + h * d + c] += P[prow + j] * DO[((long)w * t + i) * e + h * d + c];
                    }
                    for (int j = 0; j < t; j++)
                    {
                        double ds = P[prow + j] * (dp[j] - dot);
                        DS[prow + j] = ds;
                        for (int c = 0; c < d; c++)
                        {
                            DQ[((long)w * t + i) * row + h * d + c] += ds * scale * QKV[((long)w * t + j) * row + e + h * d + c];
                            DQ[((long)w * t + j) * row + e + h * d + c] += ds * scale * QKV[((long)w * t + i) * row + h * d + c];
                        }
                    }
                }
    }

    public override void RelativeBiasBackward(int ws, int heads, DeviceBuffer dBias, DeviceBuffer dTable)
    {
        double[] DB = D(dBias), DT = D(dTable);
        int t = ws * ws;
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < t; i++)
                for (int j = 0; j < t; j++) DT[RelIndex(ws, i, j) * heads + h] += DB[((long)h * t + i) * t + j];
    }

    public override void AdamWStep(long count, DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v,
        float lr, float beta1, float beta2, float eps, float weightDecay, int step)
    {
        double[] P = D(param), G = D(grad), M = D(m), V = D(v);
        double bc1 = 1 - Math.Pow(beta1, step), bc2 = 1 - Math.Pow(beta2, step);
        for (long i = 0; i < count; i++)
        {
            P[i] *= 1 - (double)lr * weightDecay;
            M[i] = beta1 * M[i] + (1 - (double)beta1) * G[i];
            V[i] = beta2 * V[i] + (1 - (double)beta2) * G[i] * G[i];
            P[i] -= lr / bc1 * M[i] / (Math.Sqrt(V[i]) / Math.Sqrt(bc2) + eps);
        }
    }

    public override void FillUniform(long count, ulong seed, ulong offset, DeviceBuffer y)
    {
        var Y = D(y);
        for (long i = 0; i < count; i++) Y[i] = Philox.Uniform(seed, offset + (ulong)i);
    }

    public override void FillNormal(long count, ulong seed, ulong offset, DeviceBuffer y)
    {
        var Y = D(y);
        for (long i = 0; i < count; i++) Y[i] = Philox.Normal(seed, offset + (ulong)i);
    }

    public override void Dropout(long count, float p, ulong seed, ulong offset, DeviceBuffer x, DeviceBuffer y)
    {
        double[] X = D(x), Y = D(y);
        for (long i = 0; i < count; i++) Y[i] = Philox.Uniform(seed, offset + (ulong)i) >= p ? X[i] / (1 - (double)p) : 0;
    }

    public override void DropoutBackward(long count, float p, ulong seed, ulong offset, DeviceBuffer dy, DeviceBuffer dx, bool accumulate)
    {
        double[] DY = D(dy), DX = D(dx);
        for (long i = 0; i < count; i++) Put(DX, i, Philox.Uniform(seed, offset + (ulong)i) >= p ? DY[i] / (1 - (double)p) : 0, accumulate);
    }
}
