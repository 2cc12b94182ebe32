using Ctmsr.Imaging;

namespace Ctmsr.Metrics;

/// <summary>
/// NIQE (Mittal et al. 2013) as BasicSR's calculate_niqe computes it on the Y channel: Y rounded to integers, cropped
/// to whole 96x96 blocks; at two scales (the second a MATLAB-bicubic half-size image) each pixel is normalised by the
/// local mean and deviation under the 7x7 Gaussian window (replicated borders), and every block gives 18 features
/// (AGGD fits of the normalised block and of its products with 4 neighbour shifts); the quality is the Mahalanobis-like
/// distance sqrt((mu_p - mu)^T pinv((cov_p + cov) / 2) (mu_p - mu)) to the pristine model. Lower is better.
/// The local normalisation keeps BasicSR's float32 storage points.
/// </summary>
public static class Niqe
{
    public const int FeatureCount = 36;
    public const int BlockSize = 96;

    static readonly double[] Gam = Enumerable.Range(0, 9801).Select(i => 0.2 + i * ((0.2 + 0.001) - 0.2)).ToArray();
    static readonly double[] RGam = Gam.Select(g =>
    {
        double r = 1 / g;
        double g2 = GammaFunction.Gamma(2 * r);
        return g2 * g2 / (GammaFunction.Gamma(r) * GammaFunction.Gamma(3 * r));
    }).ToArray();

    /// <summary>NIQE of an image (its BT.601 Y channel), <paramref name="cropBorder"/> pixels cropped on each side.</summary>
    public static double Of(Image image, NiqeModel model, int cropBorder = 0)
    {
        var y = MetricImages.Crop(YChannel.Of(image), image.Height, image.Width, cropBorder);
        return Compute(y, image.Height - 2 * cropBorder, image.Width - 2 * cropBorder, model);
    }

    /// <summary>NIQE of a grey plane [h, w] on the [0, 255] scale (rounded to integers first, as BasicSR does).</summary>
    public static double Compute(double[] plane, int h, int w, NiqeModel model)
    {
        if (plane.Length != h * w) throw new ArgumentException($"{plane.Length} samples are not a {w}x{h} plane");
        int nbh = h / BlockSize, nbw = w / BlockSize;
        if (nbh == 0 || nbw == 0)
            throw new ArgumentException($"NIQE needs an image of at least {BlockSize}x{BlockSize} pixels, got {w}x{h}; it cannot score smaller images");
        int ch = nbh * BlockSize, cw = nbw * BlockSize;
        var img = new float[ch * cw];
        for (int i = 0; i < ch; i++)
            for (int j = 0; j < cw; j++) img[i * cw + j] = (float)Math.Round((float)plane[i * w + j], MidpointRounding.ToEven);

        int blocks = nbh * nbw;
        var feats = new double[blocks, FeatureCount];
        int ih = ch, iw = cw;
        for (int scale = 1; scale <= 2; scale++)
        {
            var norm = Normalised(img, ih, iw, model.Window);
            int bs = BlockSize / scale, row = 0;
            for (int bx = 0; bx < nbw; bx++)
                for (int by = 0; by < nbh; by++, row++)
                {
                    var block = new double[bs * bs];
                    for (int i = 0; i < bs; i++)
                        for (int j = 0; j < bs; j++) block[i * bs + j] = norm[(by * bs + i) * iw + bx * bs + j];
                    var f = BlockFeatures(block, bs, bs);
                    for (int k = 0; k < 18; k++) feats[row, (scale - 1) * 18 + k] = f[k];
                }
            if (scale == 1)
            {
                var d = new double[img.Length];
                for (int i = 0; i < d.Length; i++) d[i] = img[i] / 255f;
                var half = MatlabResize.Resize(d, ih, iw, 0.5, out ih, out iw);
                img = new float[half.Length];
                for (int i = 0; i < half.Length; i++) img[i] = (float)half[i] * 255f;
            }
        }
        return Distance(feats, model);
    }

    /// <summary>(img - mu) / (sigma + 1) with mu, sigma the local Gaussian mean and deviation, in float32 like BasicSR.</summary>
    static float[] Normalised(float[] img, int h, int w, double[,] win)
    {
        int k = win.GetLength(0), r = k / 2;
        var sq = new float[img.Length];
        for (int i = 0; i < img.Length; i++) sq[i] = img[i] * img[i];
        var mu = Convolve(img, h, w, win, r);
        var mu2 = Convolve(sq, h, w, win, r);
        var o = new float[img.Length];
        for (int i = 0; i < o.Length; i++)
        {
            float m = mu[i];
            float sigma = MathF.Sqrt(MathF.Abs(mu2[i] - m * m));
            o[i] = (img[i] - m) / (sigma + 1f);
        }
        return o;
    }

    /// <summary>scipy.ndimage.convolve(x, win, mode='nearest') in float64, stored as float32.</summary>
    static float[] Convolve(float[] x, int h, int w, double[,] win, int r)
    {
        int kh = win.GetLength(0), kw = win.GetLength(1);
        var o = new float[x.Length];
        Parallel.For(0, h, Ctmsr.Kernels.Cpu.CpuThreads.Options, i =>
        {
            for (int j = 0; j < w; j++)
            {
                double s = 0;
                for (int a = 0; a < kh; a++)
                {
                    int y = Math.Clamp(i + r - a, 0, h - 1);
                    for (int b = 0; b < kw; b++) s += win[a, b] * x[y * w + Math.Clamp(j + r - b, 0, w - 1)];
                }
                o[i * w + j] = (float)s;
            }
        });
        return o;
    }

    /// <summary>The 18 features of a block: AGGD (alpha, mean beta) of the block, then (alpha, mean, beta_l, beta_r) of its products with 4 shifts.</summary>
    static double[] BlockFeatures(double[] block, int h, int w)
    {
        var f = new double[18];
        var (alpha, bl, br) = Aggd(block);
        f[0] = alpha; f[1] = (bl + br) / 2;
        int[][] shifts = [[0, 1], [1, 0], [1, 1], [1, -1]];
        var prod = new double[block.Length];
        for (int s = 0; s < 4; s++)
        {
            int dy = shifts[s][0], dx = shifts[s][1];
            for (int i = 0; i < h; i++)
                for (int j = 0; j < w; j++)
                {
                    // np.roll: shifted[i, j] = block[i - dy, j - dx] (wrapping)
                    int si = ((i - dy) % h + h) % h, sj = ((j - dx) % w + w) % w;
                    prod[i * w + j] = block[i * w + j] * block[si * w + sj];
                }
            (alpha, bl, br) = Aggd(prod);
            double mean = (br - bl) * (GammaFunction.Gamma(2 / alpha) / GammaFunction.Gamma(1 / alpha));
            f[2 + 4 * s] = alpha; f[3 + 4 * s] = mean; f[4 + 4 * s] = bl; f[5 + 4 * s] = br;
        }
        return f;
    }

    /// <summary>Asymmetric generalised Gaussian fit by moment matching over BasicSR's grid of shapes 0.2:0.001:10.</summary>
    static (double alpha, double betaL, double betaR) Aggd(double[] x)
    {
        double sl = 0, sr = 0, sabs = 0, s2 = 0;
        int nl = 0, nr = 0;
        foreach (double v in x)
        {
            if (v < 0) { sl += v * v; nl++; } else if (v > 0) { sr += v * v; nr++; }
            sabs += Math.Abs(v); s2 += v * v;
        }
        double leftStd = Math.Sqrt(sl / nl), rightStd = Math.Sqrt(sr / nr); // NaN for an empty side, as numpy
        double gh = leftStd / rightStd;
        double mAbs = sabs / x.Length;
        double rhat = mAbs * mAbs / (s2 / x.Length);
        double rn = rhat * (gh * gh * gh + 1) * (gh + 1) / ((gh * gh + 1) * (gh * gh + 1));
        int best = 0;
        if (!double.IsNaN(rn))
        {
            double bestErr = double.PositiveInfinity;
            for (int i = 0; i < RGam.Length; i++)
            {
                double e = (RGam[i] - rn) * (RGam[i] - rn);
                if (e < bestErr) { bestErr = e; best = i; }
            }
        }
        double alpha = Gam[best];
        double k = Math.Sqrt(GammaFunction.Gamma(1 / alpha) / GammaFunction.Gamma(3 / alpha));
        return (alpha, leftStd * k, rightStd * k);
    }

    /// <summary>sqrt(d^T pinv((cov_p + cov) / 2) d), d = mu_p - nanmean(feats), cov over the rows without NaN.</summary>
    static double Distance(double[,] feats, NiqeModel m)
    {
        int n = feats.GetLength(0), f = FeatureCount;
        var mu = new double[f];
        for (int j = 0; j < f; j++)
        {
            double s = 0; int c = 0;
            for (int i = 0; i < n; i++) if (!double.IsNaN(feats[i, j])) { s += feats[i, j]; c++; }
            mu[j] = c == 0 ? double.NaN : s / c;
        }
        var rows = Enumerable.Range(0, n).Where(i => Enumerable.Range(0, f).All(j => !double.IsNaN(feats[i, j]))).ToArray();
        var mean = new double[f];
        foreach (int i in rows) for (int j = 0; j < f; j++) mean[j] += feats[i, j] / rows.Length;
        var a = new double[f, f];
        for (int p = 0; p < f; p++)
            for (int q = 0; q < f; q++)
            {
                double s = 0;
                foreach (int i in rows) s += (feats[i, p] - mean[p]) * (feats[i, q] - mean[q]);
                a[p, q] = (m.Cov[p, q] + s / (rows.Length - 1)) / 2;
            }
        var pinv = SymmetricMatrix.PseudoInverse(a);
        var d = new double[f];
        for (int j = 0; j < f; j++) d[j] = m.Mu[j] - mu[j];
        double quality = 0;
        for (int p = 0; p < f; p++)
            for (int q = 0; q < f; q++) quality += d[p] * pinv[p, q] * d[q];
        return Math.Sqrt(quality);
    }
}
