using Ctmsr.Autograd;
using Ctmsr.Model.Checkpoints;
using Ctmsr.Model.Network;
using Ctmsr.Train.Data;

namespace Ctmsr.Tests.Training;

/// <summary>The shipped tiny model (models/ctmsr-tiny.safetensors, the `tiny` config) as the pretrained model of the
/// trajectory stages' tests, and a fixed training batch from ../shared/data/ValSR.</summary>
static class TrajectoryStageKit
{
    public static string ModelPath
    {
        get
        {
            for (var d = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); d is not null; d = d.Parent)
            {
                var p = Path.Combine(d.FullName, "models", "ctmsr-tiny.safetensors");
                if (File.Exists(p)) return p;
            }
            Assert.Ignore("models/ctmsr-tiny.safetensors is not in this checkout");
            return "";
        }
    }

    public static CtmsrNet Load(Context ctx)
    {
        var net = new CtmsrNet(ctx, CtmsrConfig.Tiny);
        ModelWeights.Load(net, CheckpointFiles.LoadStateDict(ModelPath));
        net.Eval();
        return net;
    }

    /// <summary>One degraded 64x64 crop (batch <paramref name="batch"/>) from ValSR at a fixed seed: the same host values for every backend.</summary>
    public static TrainBatch Batch(int batch = 1, ulong seed = 4242)
    {
        using var loader = new BatchLoader(new FolderDataset(SharedData.Path_("data/ValSR/gt"), 64, seed), batch);
        return loader.Next();
    }

    public static double RelL2(float[] a, float[] r)
    {
        double num = 0, den = 0;
        for (int i = 0; i < a.Length; i++) { double d = a[i] - (double)r[i]; num += d * d; den += (double)r[i] * r[i]; }
        return den == 0 ? Math.Sqrt(num) : Math.Sqrt(num / den);
    }
}
