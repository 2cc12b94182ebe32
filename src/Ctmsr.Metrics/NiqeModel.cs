namespace Ctmsr.Metrics;

/// <summary>
/// The NIQE pristine model: mean [36] and covariance [36, 36] of the natural-scene-statistics features of pristine
/// images, and the 7x7 Gaussian window for the local normalisation (BasicSR's niqe_pris_params.npz).
/// </summary>
public sealed class NiqeModel
{
    public double[] Mu { get; }
    public double[,] Cov { get; }
    public double[,] Window { get; }

    public NiqeModel(double[] mu, double[,] cov, double[,] window)
    {
        if (mu.Length != Niqe.FeatureCount || cov.GetLength(0) != Niqe.FeatureCount || cov.GetLength(1) != Niqe.FeatureCount)
            throw new ArgumentException($"a NIQE model has {Niqe.FeatureCount} features (mu [1, 36], cov [36, 36])");
        Mu = mu; Cov = cov; Window = window;
    }

    /// <summary>Reads niqe_pris_params.npz (arrays mu_pris_param, cov_pris_param, gaussian_window).</summary>
    public static NiqeModel Load(string npzPath)
    {
        var a = NpyArray.ReadNpz(npzPath);
        NpyArray Get(string name) => a.TryGetValue(name, out var v) ? v
            : throw new InvalidDataException($"{npzPath} has no array '{name}' (it holds {string.Join(", ", a.Keys)}); pass BasicSR's niqe_pris_params.npz");
        var mu = Get("mu_pris_param");
        var cov = Get("cov_pris_param");
        var win = Get("gaussian_window");
        if (cov.Shape.Length != 2 || win.Shape.Length != 2)
            throw new InvalidDataException($"{npzPath}: cov_pris_param and gaussian_window must be 2-D; pass BasicSR's niqe_pris_params.npz");
        return new NiqeModel(mu.Data, To2D(cov), To2D(win));
    }

    static double[,] To2D(NpyArray a)
    {
        var r = new double[a.Shape[0], a.Shape[1]];
        for (int i = 0; i < a.Shape[0]; i++)
            for (int j = 0; j < a.Shape[1]; j++) r[i, j] = a[i, j];
        return r;
    }
}
