namespace Ctmsr.Kernels.Conformance;

/// <summary>The case list: awkward sizes (odd, non-square, offsets, strides, batch) plus the long axes the CTMSR
/// model meets (conv weight gradients over N*H*W = 8192 positions, bias sums over 8192 rows).</summary>
public static partial class OpConformance
{
    static List<OpCase> Build()
    {
        var list = new List<OpCase>();
        void Add(string op, string shape, long[] ins, long[] outs, Action<Backend, DeviceBuffer[], DeviceBuffer[]> run,
            double tol = 1e-5, Func<int, float[]>? input = null) => list.Add(new OpCase(op, shape, tol, ins, outs, input, run));
        static string Acc(bool acc) => acc ? ", accumulate" : "";

        // ---- memory ----
        Add("Fill", "100 at offset 7", [], [130], (b, i, o) => b.Fill(o[0], 2.5f, 7, 100));

        // ---- GEMM: transposes, leading dimensions, batch strides, offsets, alpha and beta ----
        foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
            foreach (var (m, n, k) in new[] { (1, 1, 1), (7, 13, 5), (33, 65, 129), (100, 17, 257) })
            {
                int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 1, batch = 2;
                long sa = (long)lda * (ta ? k : m) + 5, sb = (long)ldb * (tb ? n : k) + 7, sc = (long)ldc * m + 3;
                string t = $"{(ta ? 'T' : 'N')}{(tb ? 'T' : 'N')}";
                Add("Gemm", $"{t} {m}x{n}x{k} batch 2, alpha 0.75, beta 0.5", [3 + batch * sa, 4 + batch * sb], [2 + batch * sc],
                    (b, i, o) => b.Gemm(ta, tb, m, n, k, 0.75f, i[0], 3, lda, sa, i[1], 4, ldb, sb, 0.5f, o[0], 2, ldc, sc, batch));
                Add("Gemm", $"{t} {m}x{n}x{k}, beta 0", [3 + sa, 4 + sb], [2 + sc],
                    (b, i, o) => b.Gemm(ta, tb, m, n, k, 1f, i[0], 3, lda, 0, i[1], 4, ldb, 0, 0f, o[0], 2, ldc, 0, 1));
            }
        // a weight gradient of a linear layer: K = 8192 rows
        Add("Gemm", "TN 32x96x8192, beta 1", [8192L * 32, 8192L * 96], [32L * 96],
            (b, i, o) => b.Gemm(true, false, 32, 96, 8192, 1f, i[0], 0, 32, 0, i[1], 0, 96, 0, 1f, o[0], 0, 96, 0, 1), 1e-4);

        // ---- convolution ----
        foreach (var s in new ConvShape[]
        {
            new(2, 5, 9, 7, 6, 1, 1, 0), new(2, 7, 10, 13, 5, 3, 1, 1), new(1, 3, 12, 11, 4, 3, 2, 1),
            new(2, 3, 15, 14, 5, 5, 1, 2), new(1, 3, 35, 31, 4, 11, 4, 2),
        })
            AddConv(s, 1e-5);
        // the model's 3x3 layer at 64x64, batch 2: the weight gradient sums over 8192 positions
        AddConv(new ConvShape(2, 16, 64, 64, 8, 3, 1, 1), 1e-4);
        // convolutions of an x2 upsampling (s is the convolution of the upsampled map): the banded stride-1 path that
        // reads the half-size map, Winograd (CPU with AVX-512: Cin >= 32, Cout > 64), a small map (explicit im2col),
        // pointwise and strided
        foreach (var s in new ConvShape[] { new(2, 7, 64, 62, 5, 3, 1, 1), new(1, 32, 20, 18, 72, 3, 1, 1), new(1, 16, 96, 96, 32, 3, 1, 1), new(2, 7, 10, 14, 5, 3, 1, 1), new(2, 5, 8, 6, 6, 1, 1, 0), new(1, 3, 12, 12, 4, 3, 2, 1) })
        {
            long nx = (long)s.N * s.Cin * (s.H / 2) * (s.W / 2), nw = (long)s.Cout * s.Cin * s.K * s.K, ny = (long)s.N * s.Cout * s.OutH * s.OutW;
            string g = $"{s.N}x{s.Cin}x{s.H / 2}x{s.W / 2} up2 -> {s.Cout}, k{s.K} s{s.Stride} p{s.Pad}";
            Add("Conv2dUpsample2xForward", g + ", bias", [nx, nw, s.Cout], [ny], (b, i, o) => b.Conv2dUpsample2xForward(s, i[0], i[1], i[2], o[0]));
            Add("Conv2dUpsample2xForward", g, [nx, nw], [ny], (b, i, o) => b.Conv2dUpsample2xForward(s, i[0], i[1], null, o[0]));
        }

        // act(conv + bias) in one op: pointwise on the GEMM (the CPU's epilogue; a reduction past one 256 slice; pixels off
        // 16; output channels off 12), an explicit im2col, and the unfused fallback (a banded 3x3; LeakyReLU with its slope)
        foreach (var (s, act) in new (ConvShape, Activation)[]
        {
            (new(2, 37, 9, 11, 70, 1, 1, 0), Activation.Gelu), (new(1, 300, 8, 8, 80, 1, 1, 0), Activation.Gelu),
            (new(1, 300, 8, 8, 80, 1, 1, 0), Activation.Identity), (new(1, 6, 7, 5, 70, 3, 1, 1), Activation.Gelu),
            (new(1, 5, 20, 18, 7, 3, 1, 1), Activation.Gelu), (new(2, 5, 9, 7, 70, 1, 1, 0), Activation.LeakyReLU),
        })
        {
            long nx = (long)s.N * s.Cin * s.H * s.W, nw = (long)s.Cout * s.Cin * s.K * s.K, ny = (long)s.N * s.Cout * s.OutH * s.OutW;
            string g = $"{s.N}x{s.Cin}x{s.H}x{s.W} -> {s.Cout}, k{s.K} s{s.Stride} p{s.Pad}, {act}";
            Add("Conv2dActForward", g + ", bias", [nx, nw, s.Cout], [ny], (b, i, o) => b.Conv2dActForward(s, i[0], i[1], i[2], o[0], act, 0.2f));
            Add("Conv2dActForward", g, [nx, nw], [ny], (b, i, o) => b.Conv2dActForward(s, i[0], i[1], null, o[0], act, 0.2f));
        }

        void AddConv(ConvShape s, double longTol)
        {
            long nx = (long)s.N * s.Cin * s.H * s.W, nw = (long)s.Cout * s.Cin * s.K * s.K, ny = (long)s.N * s.Cout * s.OutH * s.OutW;
            string g = $"{s.N}x{s.Cin}x{s.H}x{s.W} -> {s.Cout}, k{s.K} s{s.Stride} p{s.Pad}";
            Add("Conv2dForward", g + ", bias", [nx, nw, s.Cout], [ny], (b, i, o) => b.Conv2dForward(s, i[0], i[1], i[2], o[0]));
            Add("Conv2dForward", g, [nx, nw], [ny], (b, i, o) => b.Conv2dForward(s, i[0], i[1], null, o[0]));
            foreach (bool acc in new[] { false, true })
                Add("Conv2dBackwardData", g + Acc(acc), [ny, nw], [nx], (b, i, o) => b.Conv2dBackwardData(s, i[0], i[1], o[0], acc));
            Add("Conv2dBackwardWeight", g + ", with bias", [nx, ny], [nw, s.Cout], (b, i, o) => b.Conv2dBackwardWeight(s, i[0], i[1], o[0], o[1]), longTol);
            Add("Conv2dBackwardWeight", g, [nx, ny], [nw], (b, i, o) => b.Conv2dBackwardWeight(s, i[0], i[1], o[0], null), longTol);
        }

        // ---- GroupNorm (inputs with a non-zero mean per group, as activations have) ----
        foreach (var (n, c, hw, groups, eps) in new[] { (2, 12, 35, 4, 1e-6f), (1, 32, 64, 32, 1e-5f), (3, 9, 7, 3, 1e-6f), (2, 32, 4096, 8, 1e-6f) })
        {
            long count = (long)n * c * hw;
            string g = $"{n}x{c}x{hw}, {groups} groups";
            Func<int, float[]> fwdIn = k => k == 0 ? Random(count, 7, 0.5f, 3f) : Random(c, 8 + k);
            Add("GroupNormForward", g, [count, c, c], [count, n * groups, n * groups],
                (b, i, o) => b.GroupNormForward(n, c, hw, groups, eps, i[0], i[1], i[2], o[0], o[1], o[2]), 1e-5, fwdIn);
            Add("GroupNormSiluForward", g, [count, c, c], [count, n * groups, n * groups],
                (b, i, o) => b.GroupNormSiluForward(n, c, hw, groups, eps, i[0], i[1], i[2], o[0], o[1], o[2]), 1e-5, fwdIn);
            // backward inputs: x, gamma, the statistics of x (float64 on the host), dy
            var x = Random(count, 7, 0.5f, 3f);
            var (mean, rstd) = GroupStats(x, n, c, hw, groups, eps);
            Func<int, float[]> bwdIn = k => k switch { 0 => x, 1 => Random(c, 9), 2 => mean, 3 => rstd, _ => Random(count, 11) };
            foreach (bool acc in new[] { false, true })
                Add("GroupNormBackward", g + Acc(acc), [count, c, n * groups, n * groups, count], [count, c, c],
                    (b, i, o) => b.GroupNormBackward(n, c, hw, groups, i[0], i[1], i[2], i[3], i[4], o[0], acc, o[1], o[2]), 1e-5, bwdIn);
        }

        // ---- elementwise ----
        foreach (var act in Enum.GetValues<Activation>())
        {
            const long n = 70001;
            Func<int, float[]> input = k => Random(n, 30 + k, -6f, 6f);
            Add("ActivationForward", $"{act} {n}", [n], [n], (b, i, o) => b.ActivationForward(act, 0.2f, n, i[0], o[0]), 1e-6, input);
            foreach (bool acc in new[] { false, true })
                Add("ActivationBackward", $"{act} {n}{Acc(acc)}", [n, n], [n], (b, i, o) => b.ActivationBackward(act, 0.2f, n, i[0], i[1], o[0], acc), 1e-6, input);
        }
        {
            const int outer = 6; const long inner = 11113, n = outer * inner;
            string g = $"{outer}x{inner}";
            Add("AddScaled", $"{n}", [n, n], [n], (b, i, o) => b.AddScaled(n, 0.3f, i[0], -1.7f, i[1], o[0]));
            Add("AddScaled", $"{n}, y aliasing x", [n], [n], (b, i, o) => { b.AddScaled(n, 0.5f, o[0], 2f, i[0], o[0]); });
            foreach (bool acc in new[] { false, true })
            {
                Add("Mul", $"{n}{Acc(acc)}", [n, n], [n], (b, i, o) => b.Mul(n, i[0], i[1], o[0], acc));
                Add("ScaleOuter", g + Acc(acc), [outer, n], [n], (b, i, o) => b.ScaleOuter(outer, inner, i[0], i[1], o[0], acc));
                Add("SumInner", g + Acc(acc), [n], [outer], (b, i, o) => b.SumInner(outer, inner, i[0], o[0], acc));
                Add("SumInner", $"1x{n}{Acc(acc)}", [n], [1], (b, i, o) => b.SumInner(1, n, i[0], o[0], acc), 1e-4);
                Add("SumRows", g + Acc(acc), [n], [inner], (b, i, o) => b.SumRows(outer, (int)inner, i[0], o[0], acc));
                Add("SumRows", $"{inner}x{outer}{Acc(acc)}", [n], [outer], (b, i, o) => b.SumRows((int)inner, outer, i[0], o[0], acc), 1e-4);
                Add("CharbonnierBackward", $"{n}{Acc(acc)}", [n, n, n], [n], (b, i, o) => b.CharbonnierBackward(n, 1e-6f, i[0], i[1], i[2], o[0], acc));
            }
            Add("AddOuter", g, [outer], [n], (b, i, o) => b.AddOuter(outer, inner, i[0], o[0]));
            Add("AddInner", g, [inner], [n], (b, i, o) => b.AddInner(outer, (int)inner, i[0], o[0]));
            Add("CharbonnierForward", $"{n}", [n, n], [n], (b, i, o) => b.CharbonnierForward(n, 1e-6f, i[0], i[1], o[0]));
        }

        // ---- layout: window partition of [2, 5, 16, 24] into 8x8 windows, the inverse accumulating, a 2-D slice ----
        {
            int bsz = 2, e = 5, h = 16, w = 24, ws = 8, ny = 2, nx = 3, t = 64;
            long n = (long)bsz * e * h * w;
            int[] shape = [bsz, ny, nx, ws, e, ws];
            long[] src = [(long)e * h * w, (long)ws * w, ws, w, (long)h * w, 1];
            long[] dst = [(long)ny * nx * t * e, (long)nx * t * e, (long)t * e, (long)ws * e, 1, e];
            Add("CopyStrided", "window partition 2x5x16x24, ws 8", [n], [n], (b, i, o) => b.CopyStrided(shape, i[0], 0, src, o[0], 0, dst, false));
            Add("CopyStrided", "window reverse, accumulate", [n], [n], (b, i, o) => b.CopyStrided(shape, i[0], 0, dst, o[0], 0, src, true));
            Add("CopyStrided", "3x7 slice with offsets", [100], [130], (b, i, o) => b.CopyStrided([3, 7], i[0], 5, [20, 2], o[0], 9, [40, 1], false));
        }

        // ---- resampling ----
        {
            int nc = 6, h = 10, w = 14;
            long n = nc * h * w;
            string g = $"{nc}x{h}x{w}";
            Add("AvgPool2x2", g, [n], [n / 4], (b, i, o) => b.AvgPool2x2(nc, h, w, i[0], o[0]));
            Add("UpsampleNearest2x", g, [n], [n * 4], (b, i, o) => b.UpsampleNearest2x(nc, h, w, i[0], o[0]));
            foreach (bool acc in new[] { false, true })
            {
                Add("AvgPool2x2Backward", g + Acc(acc), [n / 4], [n], (b, i, o) => b.AvgPool2x2Backward(nc, h, w, i[0], o[0], acc));
                Add("UpsampleNearest2xBackward", g + Acc(acc), [n * 4], [n], (b, i, o) => b.UpsampleNearest2xBackward(nc, h, w, i[0], o[0], acc));
            }
            foreach (var (k, s) in new[] { (2, 2), (3, 2) })
            {
                int oh = (h - k) / s + 1, ow = (w - k) / s + 1;
                Add("MaxPool2d", $"{g} k{k} s{s}", [n], [nc * oh * ow], (b, i, o) => b.MaxPool2d(nc, h, w, k, s, i[0], o[0]));
                foreach (bool acc in new[] { false, true })
                    Add("MaxPool2dBackward", $"{g} k{k} s{s}{Acc(acc)}", [n, nc * oh * ow], [n],
                        (b, i, o) => b.MaxPool2dBackward(nc, h, w, k, s, i[0], i[1], o[0], acc));
            }
        }

        // ---- image filters: tap tables of 1, 2, 4 and 5 taps (upsampling, downsampling, area-like), per-sample blur ----
        foreach (var (h, w, oh, ow, taps) in new[] { (9, 13, 36, 52, 4), (17, 23, 5, 7, 5), (9, 13, 14, 6, 1), (10, 7, 19, 3, 2) })
        {
            const int planes = 5;
            ResampleAxis rows = TapTable(h, oh, taps, 40), cols = TapTable(w, ow, taps, 41);
            Add("Resample2d", $"{planes}x{h}x{w} -> {oh}x{ow}, {taps} taps", [planes * h * w], [planes * oh * ow],
                (b, i, o) => b.Resample2d(planes, rows, cols, i[0], o[0]));
        }
        foreach (var (batch, channels, h, w, k) in new[] { (2, 3, 11, 16, 3), (2, 3, 12, 9, 7), (1, 2, 5, 6, 13), (3, 1, 1, 8, 5) })
        {
            long n = (long)batch * channels * h * w;
            Add("Filter2dReflect", $"{batch}x{channels}x{h}x{w}, k{k}", [batch * k * k, n], [n],
                (b, i, o) => b.Filter2dReflect(batch, channels, h, w, k, i[0], i[1], o[0]));
        }

        // ---- window attention (backward probabilities: random rows that sum to 1, made on the host) ----
        foreach (var (windows, ws, heads, d) in new[] { (3, 8, 2, 16), (2, 8, 6, 32), (2, 4, 3, 5) })
        {
            int t = ws * ws, e = heads * d, span = 2 * ws - 1;
            long nq = (long)windows * t * 3 * e, np = (long)windows * heads * t * t, no = (long)windows * t * e;
            float scale = 1f / MathF.Sqrt(d);
            string g = $"{windows} windows, ws {ws}, {heads} heads, d {d}";
            Add("WindowAttentionForward", g, [nq, span * span * heads], [np, no],
                (b, i, o) => b.WindowAttentionForward(windows, ws, heads, d, scale, i[0], i[1], o[0], o[1]));
            Func<int, float[]> bwdIn = k => k == 1 ? RowsSummingToOne(np, t, 61) : Random(k == 0 ? nq : no, 60 + k);
            foreach (bool acc in new[] { false, true })
                Add("WindowAttentionBackward", g + Acc(acc), [nq, np, no], [nq, np],
                    (b, i, o) => b.WindowAttentionBackward(windows, ws, heads, d, scale, i[0], i[1], i[2], o[0], acc, o[1]), 1e-5, bwdIn);
            Add("RelativeBiasBackward", $"ws {ws}, {heads} heads", [(long)heads * t * t], [span * span * heads],
                (b, i, o) => b.RelativeBiasBackward(ws, heads, i[0], o[0]));
        }

        // ---- optimiser: three AdamW steps from random param, m and a non-negative v ----
        {
            const long n = 5003;
            Add("AdamWStep", $"{n}, 3 steps", [n], [n, n, n], (b, i, o) =>
            {
                b.Upload(Random(n, 60, 0.01f, 1f), o[2]);
                for (int step = 1; step <= 3; step++) b.AdamWStep(n, o[0], i[0], o[1], o[2], 1e-3f, 0.9f, 0.99f, 1e-8f, 0.01f, step);
            }, 1e-6);
        }

        // ---- random numbers (Philox: the same stream on every backend) ----
        {
            const long n = 4099;
            Add("FillUniform", $"{n}", [], [n], (b, i, o) => b.FillUniform(n, 1234, 77, o[0]), 1e-9);
            Add("FillNormal", $"{n}", [], [n], (b, i, o) => b.FillNormal(n, 1234, 77, o[0]), 1e-6);
            Add("Dropout", $"{n}, p 0.13", [n], [n], (b, i, o) => b.Dropout(n, 0.13f, 99, 5, i[0], o[0]), 1e-6);
            foreach (bool acc in new[] { false, true })
                Add("DropoutBackward", $"{n}, p 0.13{Acc(acc)}", [n], [n], (b, i, o) => b.DropoutBackward(n, 0.13f, 99, 5, i[0], o[0], acc), 1e-6);
        }
        return list;
    }

    /// <summary>Per-(sample, group) mean and 1/sqrt(var + eps) of x [n, c, hw], in float64.</summary>
    static (float[] Mean, float[] Rstd) GroupStats(float[] x, int n, int c, int hw, int groups, float eps)
    {
        var mean = new float[n * groups];
        var rstd = new float[n * groups];
        long cnt = (long)(c / groups) * hw;
        for (int sg = 0; sg < n * groups; sg++)
        {
            long b = sg * cnt; // groups are contiguous blocks of cg * hw
            double s = 0, q = 0;
            for (long i = 0; i < cnt; i++) s += x[b + i];
            double mu = s / cnt;
            for (long i = 0; i < cnt; i++) q += (x[b + i] - mu) * (x[b + i] - mu);
            mean[sg] = (float)mu;
            rstd[sg] = (float)(1 / Math.Sqrt(q / cnt + eps));
        }
        return (mean, rstd);
    }

    static float[] RowsSummingToOne(long n, int row, int seed)
    {
        var p = Random(n, seed, 0.01f, 1f);
        for (long r = 0; r < n; r += row)
        {
            double s = 0;
            for (int j = 0; j < row; j++) s += p[r + j];
            for (int j = 0; j < row; j++) p[r + j] = (float)(p[r + j] / s);
        }
        return p;
    }

    /// <summary>A valid tap table with random weights: output i reads taps consecutive inputs near i * in / out (clamped).</summary>
    static ResampleAxis TapTable(int inSize, int outSize, int taps, int seed)
    {
        var index = new int[outSize * taps];
        for (int i = 0; i < outSize; i++)
            for (int t = 0; t < taps; t++)
                index[i * taps + t] = Math.Clamp((int)((long)i * inSize / outSize) - taps / 2 + t, 0, inSize - 1);
        return new ResampleAxis(inSize, outSize, taps, index, Random(outSize * taps, seed));
    }
}
