namespace Ctmsr.Train.Degradation;

/// <summary>The Real-ESRGAN blur kernel families.</summary>
public enum BlurKernelType { Iso, Aniso, GeneralizedIso, GeneralizedAniso, PlateauIso, PlateauAniso }

/// <summary>A square blur kernel, row-major [Size, Size], odd Size.</summary>
public sealed record BlurKernel(int Size, float[] Weights)
{
    /// <summary>The identity kernel (a centred delta) of odd size.</summary>
    public static BlurKernel Delta(int size)
    {
        var w = new float[size * size];
        w[size / 2 * size + size / 2] = 1f;
        return new BlurKernel(size, w);
    }
}

/// <summary>
/// Real-ESRGAN blur kernels, computed in float64 and stored as float32.
/// Grid: x = column - k/2, y = row - k/2 (integers in [-(k-1)/2, (k-1)/2]); covariance
/// Sigma = R diag(sx^2, sy^2) R^T with R the rotation by theta; Q = [x y] Sigma^-1 [x y]^T.
/// Gaussian exp(-Q/2), generalized Gaussian exp(-Q^beta / 2), plateau 1 / (Q^beta + 1); each
/// normalised to sum 1. Isotropic types use sy = sx, theta = 0.
/// Circular low-pass: cutoff * J1(cutoff * r) / (2 pi r), centre cutoff^2 / (4 pi), normalised,
/// zero-padded to padTo.
/// </summary>
public static class BlurKernels
{
    public static BlurKernel Gaussian(int size, double sigmaX, double sigmaY, double theta) =>
        Anisotropic(size, sigmaX, sigmaY, theta, q => Math.Exp(-0.5 * q));

    public static BlurKernel GeneralizedGaussian(int size, double sigmaX, double sigmaY, double theta, double beta) =>
        Anisotropic(size, sigmaX, sigmaY, theta, q => Math.Exp(-0.5 * Math.Pow(q, beta)));

    public static BlurKernel Plateau(int size, double sigmaX, double sigmaY, double theta, double beta) =>
        Anisotropic(size, sigmaX, sigmaY, theta, q => 1.0 / (Math.Pow(q, beta) + 1.0));

    /// <summary>One of the six families; isotropic types ignore sigmaY and theta.</summary>
    public static BlurKernel Make(BlurKernelType type, int size, double sigmaX, double sigmaY, double theta, double beta) => type switch
    {
        BlurKernelType.Iso => Gaussian(size, sigmaX, sigmaX, 0),
        BlurKernelType.Aniso => Gaussian(size, sigmaX, sigmaY, theta),
        BlurKernelType.GeneralizedIso => GeneralizedGaussian(size, sigmaX, sigmaX, 0, beta),
        BlurKernelType.GeneralizedAniso => GeneralizedGaussian(size, sigmaX, sigmaY, theta, beta),
        BlurKernelType.PlateauIso => Plateau(size, sigmaX, sigmaX, 0, beta),
        BlurKernelType.PlateauAniso => Plateau(size, sigmaX, sigmaY, theta, beta),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown blur kernel type"),
    };

    static void CheckSize(int size)
    {
        if (size <= 0 || size % 2 == 0)
            throw new ArgumentException($"blur kernel size {size} must be a positive odd number");
    }

    static BlurKernel Anisotropic(int size, double sx, double sy, double theta, Func<double, double> profile)
    {
        CheckSize(size);
        if (!(sx > 0) || !(sy > 0)) throw new ArgumentException($"blur kernel sigmas ({sx}, {sy}) must be positive");
        double c = Math.Cos(theta), s = Math.Sin(theta);
        // Sigma = R diag(sx^2, sy^2) R^T; its inverse is R diag(1/sx^2, 1/sy^2) R^T.
        double ix = 1.0 / (sx * sx), iy = 1.0 / (sy * sy);
        double a = c * c * ix + s * s * iy, b = c * s * (ix - iy), d = s * s * ix + c * c * iy;
        int half = size / 2;
        var k = new double[size * size];
        double sum = 0;
        for (int r = 0; r < size; r++)
            for (int col = 0; col < size; col++)
            {
                double x = col - half, y = r - half;
                double q = a * x * x + 2 * b * x * y + d * y * y;
                double v = profile(q);
                k[r * size + col] = v;
                sum += v;
            }
        return Normalise(size, k, sum);
    }

    static BlurKernel Normalise(int size, double[] k, double sum)
    {
        var w = new float[k.Length];
        for (int i = 0; i < k.Length; i++) w[i] = (float)(k[i] / sum);
        return new BlurKernel(size, w);
    }

    /// <summary>Real-ESRGAN circular_lowpass_kernel: the 2D jinc low-pass with cutoff omega_c (radians).</summary>
    public static BlurKernel CircularLowpass(double cutoff, int size, int padTo = 0)
    {
        CheckSize(size);
        int half = size / 2;
        var k = new double[size * size];
        double sum = 0;
        for (int r = 0; r < size; r++)
            for (int col = 0; col < size; col++)
            {
                double dist = Math.Sqrt((double)(r - half) * (r - half) + (double)(col - half) * (col - half));
                double v = dist == 0 ? cutoff * cutoff / (4 * Math.PI) : cutoff * BesselJ1(cutoff * dist) / (2 * Math.PI * dist);
                k[r * size + col] = v;
                sum += v;
            }
        var kernel = Normalise(size, k, sum);
        return padTo > size ? Pad(kernel, padTo) : kernel;
    }

    /// <summary>Zero-pads a kernel symmetrically to padTo x padTo (padTo - Size must be even).</summary>
    public static BlurKernel Pad(BlurKernel k, int padTo)
    {
        if (padTo <= k.Size) return k;
        if ((padTo - k.Size) % 2 != 0)
            throw new ArgumentException($"cannot centre a {k.Size}x{k.Size} kernel in {padTo}x{padTo}; sizes must differ by an even number");
        int p = (padTo - k.Size) / 2;
        var w = new float[padTo * padTo];
        for (int r = 0; r < k.Size; r++)
            Array.Copy(k.Weights, r * k.Size, w, (r + p) * padTo + p, k.Size);
        return new BlurKernel(padTo, w);
    }

    /// <summary>
    /// Bessel function of the first kind, order 1, from Bessel's integral
    /// J1(x) = (1/2pi) int_0^2pi cos(t - x sin t) dt, by the trapezoidal rule, which converges
    /// geometrically for this periodic analytic integrand once the point count exceeds |x| (aliasing
    /// error ~ J_N(x)); N = |x| + 48 keeps it at double precision.
    /// </summary>
    public static double BesselJ1(double x)
    {
        if (double.IsNaN(x)) return double.NaN;
        double ax = Math.Abs(x);
        if (ax > 1e6) throw new ArgumentOutOfRangeException(nameof(x), x, "BesselJ1 is implemented for |x| <= 1e6");
        int n = 4 * (((int)Math.Ceiling(ax) + 48) / 4 + 1);
        // The integrand is even around t = 0 and t = pi, so integrate over [0, pi] with the end points halved.
        int m = n / 2;
        double h = Math.PI / m, sum = 0;
        for (int i = 0; i <= m; i++)
        {
            double t = i * h;
            double v = Math.Cos(t - x * Math.Sin(t));
            sum += i == 0 || i == m ? 0.5 * v : v;
        }
        return sum / m;
    }
}
