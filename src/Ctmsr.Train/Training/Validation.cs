using Ctmsr.Autograd;
using Ctmsr.Model.Network;
using Ctmsr.Train.Data;

namespace Ctmsr.Train.Training;

/// <summary>Mean one-step quality of a model on validation pairs.</summary>
public sealed record ValidationResult(int Images, double PsnrY, double Charbonnier);

/// <summary>
/// One-step SR of each validation pair with a fixed noise seed (spec section 6 without tiling: the LR size must
/// already be a multiple of the model's size multiple) and PSNR on the BT.601 Y channel (spec section 8, border 0).
/// </summary>
public static class Validation
{
    public static ValidationResult Evaluate(Context ctx, CtmsrNet net, PairedDataset data, ulong seed, int limit = 0)
    {
        int count = limit > 0 ? Math.Min(limit, data.Count) : data.Count;
        bool wasTraining = net.Training;
        net.Eval();
        double psnr = 0, charb = 0;
        try
        {
            for (int i = 0; i < count; i++)
            {
                var s = data.Get(i);
                int m = net.Config.SizeMultiple;
                if (s.LqHeight % m != 0 || s.LqWidth % m != 0)
                    throw new InvalidDataException($"{s.Source}: the lq image is {s.LqWidth}x{s.LqHeight}; validation needs LR sides that are multiples of {m}: crop the validation set accordingly");
                using var scope = Tape.Scope();
                using var ng = Tape.NoGrad();
                var up = Tensor.From(ctx, s.LqUp, 1, 3, s.Height, s.Width);
                var lq = Tensor.From(ctx, s.Lq, 1, 3, s.LqHeight, s.LqWidth);
                var eps = ForwardProcess.Noise(ctx, Data.SeedMix.Mix(seed, (ulong)i), 1, 3, s.Height, s.Width);
                var x = F.Add(up, eps);
                var sr = Precond.D(net, x, [1f], lq).ToArray();
                psnr += PsnrY(sr, s.Gt, s.Height * s.Width);
                double c = 0;
                for (int k = 0; k < sr.Length; k++) { double d = sr[k] - s.Gt[k]; c += Math.Sqrt(d * d + 1e-12); }
                charb += c / sr.Length;
            }
        }
        finally { net.Train(wasTraining); }
        return new ValidationResult(count, psnr / count, charb / count);
    }

    /// <summary>PSNR of the Y channel (Y = 16 + 65.481 R + 128.553 G + 24.966 B on [0,1] RGB, in 0..255) of two [-1,1] planar RGB images; SR clamped to [0,1] and rounded to 8 bits first.</summary>
    public static double PsnrY(float[] sr, float[] gt, int plane)
    {
        double mse = 0;
        for (int p = 0; p < plane; p++)
        {
            double Y(float[] a, bool quantise)
            {
                double r = U(a[p], quantise), g = U(a[plane + p], quantise), b = U(a[2 * plane + p], quantise);
                return 16 + 65.481 * r + 128.553 * g + 24.966 * b;
            }
            double d = Y(sr, true) - Y(gt, false);
            mse += d * d;
        }
        mse /= plane;
        return mse == 0 ? double.PositiveInfinity : 10 * Math.Log10(255.0 * 255.0 / mse);
    }

    static double U(float v, bool quantise)
    {
        double u = Math.Clamp((v + 1) / 2.0, 0, 1);
        return quantise ? Math.Round(u * 255) / 255 : u;
    }
}
