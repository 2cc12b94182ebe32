using Ctmsr.Autograd;
using Ctmsr.Kernels;
using Ctmsr.Model.Checkpoints;
using Ctmsr.Model.Network;
using Ctmsr.Imaging;
using Ctmsr.Inference;
using Ctmsr.Imaging.Resampling;

namespace Ctmsr.Tests.Inference;

/// <summary>The small fixture model (CtmsrConfig.Small) and spec section 6 written out step by step, as the oracle
/// the Upscaler's tiling, blending and samplers are checked against.</summary>
static class InferenceKit
{
    static readonly Lazy<Dictionary<string, HostTensor>> StateLazy = new(() =>
        CheckpointFiles.LoadStateDict(SharedData.Fixture("ctmsr_small.safetensors")));

    public static string WeightsPath => SharedData.Fixture("ctmsr_small.safetensors");

    public static Dictionary<string, HostTensor> State
    {
        get { _ = SharedData.Fixture("ctmsr_small.safetensors"); return StateLazy.Value; }
    }

    /// <summary>A smooth test card in [0.1, 0.9], different per channel.</summary>
    public static Image Card(int w, int h, int channels, int bitDepth = 8)
    {
        var img = new Image(w, h, channels, bitDepth);
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) img.Plane(c)[y * w + x] = (float)(0.5 + 0.4 * Math.Sin(0.3 * x + 0.2 * y + c));
        return img;
    }

    /// <summary>The network in eval mode with the fixture weights, on its own context.</summary>
    public sealed class Net : IDisposable
    {
        public readonly Context Ctx;
        public readonly CtmsrNet Model;

        public Net(Backend backend)
        {
            Ctx = new Context(backend);
            Model = new CtmsrNet(Ctx, ConfigInference.FromStateDict(State));
            ModelWeights.Load(Model, State);
            Model.Eval();
        }

        /// <summary>D(x; sigma, lq) of CTMSR.md section 2 for one image; x [3, 4h, 4w] and lq [3, h, w] in [-1,1].</summary>
        public float[] D(float[] x, float[] lq, int h, int w, float sigma)
        {
            using var ng = Tape.NoGrad();
            using var scope = Tape.Scope();
            var xt = Tensor.From(Ctx, x, 1, 3, 4 * h, 4 * w);
            var l = Tensor.From(Ctx, lq, 1, 3, h, w);
            return Precond.D(Model, xt, [sigma], l).ToArray();
        }

        /// <summary>The pre-existing one-step path, op for op: lq = 2u - 1, y = bicubic x4, eps filled on the device
        /// from Philox stream offset (k &lt;&lt; 40), x = AddScaled(y, 1, eps, 1), D at sigma = 1.</summary>
        public float[] OneStep(float[] tile01, int h, int w, ulong seed, ulong k)
        {
            var lq = tile01.Select(v => 2f * v - 1f).ToArray();
            var up = Resize.Apply(lq, 3, h, w, 4 * h, 4 * w, ResizeMode.Bicubic);
            using var ng = Tape.NoGrad();
            using var scope = Tape.Scope();
            var y = Tensor.From(Ctx, up, 1, 3, 4 * h, 4 * w);
            var eps = Tensor.Empty(Ctx, 1, 3, 4 * h, 4 * w);
            Ctx.Backend.FillNormal(eps.Count, seed, k << 40, eps.Buffer);
            var x = F.AddScaled(y, 1f, eps, 1f);
            return Precond.D(Model, x, [1f], Tensor.From(Ctx, lq, 1, 3, h, w)).ToArray();
        }

        public void Dispose() => Ctx.Dispose();
    }

    /// <summary>The LR crop [y0, y0+th) x [x0, x0+tw) of planar RGB data.</summary>
    public static float[] Crop(float[] src, int h, int w, int y0, int x0, int th, int tw)
    {
        var r = new float[3 * th * tw];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < th; y++)
                for (int x = 0; x < tw; x++) r[(c * th + y) * tw + x] = src[(c * h + y0 + y) * w + x0 + x];
        return r;
    }

    /// <summary>The spec's normal stream: element i of tile k is Philox normal number (k &lt;&lt; 40) + offset + i.</summary>
    public static float[] Normals(ulong seed, ulong start, int n) =>
        Enumerable.Range(0, n).Select(i => Philox.Normal(seed, start + (ulong)i)).ToArray();

    public static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "ctmsr-upscale-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }
}
