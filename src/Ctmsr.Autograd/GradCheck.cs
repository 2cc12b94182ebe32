using Ctmsr.Kernels.Reference;

namespace Ctmsr.Autograd;

/// <summary>
/// Central finite differences in float64 on the reference backend: for a scalar function of some
/// tensors, compares the analytic gradient (autograd) with (f(x+h) - f(x-h)) / 2h per element.
/// </summary>
public static class GradCheck
{
    /// <summary>Returns the largest relative error max|a - n| / max(|n|_inf, floor) over the checked inputs.</summary>
    public static double MaxRelativeError(Func<Tensor> loss, IReadOnlyList<Tensor> inputs, double h = 1e-6, int maxElementsPerInput = 64, int seed = 1)
    {
        foreach (var t in inputs)
            if (t.Backend is not ReferenceBackend) throw new ArgumentException("gradient checks run on the float64 reference backend");
        foreach (var t in inputs) { t.RequiresGrad = true; t.ZeroGrad(); }
        Tape.Clear();
        double[] analytic;
        var grads = new List<double[]>();
        using (var scope = Tape.Scope())
        {
            var l = loss();
            l.Backward();
            foreach (var t in inputs)
                grads.Add(t.Grad is null ? new double[t.Count] : ReferenceBackend.Raw(t.Grad.Buffer)[..(int)t.Count]);
        }
        double worst = 0;
        var rng = new Random(seed);
        for (int k = 0; k < inputs.Count; k++)
        {
            var raw = ReferenceBackend.Raw(inputs[k].Buffer);
            analytic = grads[k];
            int n = (int)inputs[k].Count;
            var idx = n <= maxElementsPerInput ? Enumerable.Range(0, n) : Enumerable.Range(0, maxElementsPerInput).Select(_ => rng.Next(n));
            double scale = 1e-8;
            var numeric = new List<(int i, double v)>();
            foreach (int i in idx)
            {
                double keep = raw[i];
                raw[i] = keep + h; double fp = Eval(loss);
                raw[i] = keep - h; double fm = Eval(loss);
                raw[i] = keep;
                double num = (fp - fm) / (2 * h);
                numeric.Add((i, num));
                scale = Math.Max(scale, Math.Abs(num));
            }
            foreach (var (i, num) in numeric) worst = Math.Max(worst, Math.Abs(analytic[i] - num) / scale);
        }
        return worst;
    }

    static double Eval(Func<Tensor> loss)
    {
        using var noGrad = Tape.NoGrad();
        using var scope = Tape.Scope();
        var l = loss();
        return ReferenceBackend.Raw(l.Buffer)[0];
    }
}
