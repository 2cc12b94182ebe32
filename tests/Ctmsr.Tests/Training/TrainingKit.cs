using Ctmsr.Model.Network;
using Ctmsr.Train.Training;

namespace Ctmsr.Tests.Training;

/// <summary>A tiny CPU setup for training tests: 2 levels (LR multiple 16), one block, 64x64 HR crops.</summary>
static class TrainingKit
{
    public static CtmsrConfig Tiny => CtmsrConfig.Small with { ChannelMult = [1, 2], NumBlocks = 1 };

    public static TrainOptions Options(string data, int iters, int batch = 2) => new()
    {
        Data = data, Model = Tiny, Iterations = iters, Batch = batch, Crop = 64, Seed = 7,
        CheckpointEvery = 1000, KeepCheckpoints = 2, LoaderWorkers = 2, BatchesInFlight = 2,
    };

    public static string TempDir(string tag) => Directory.CreateTempSubdirectory($"ctmsr-{tag}-").FullName;

    public static void Delete(string dir) { try { Directory.Delete(dir, true); } catch (IOException) { } }
}
