namespace Ctmsr.Train.Training;

/// <summary>What a running stage reports after every iteration.</summary>
public sealed record TrainProgress(
    TrainStage Stage, int Iteration, int Total, double Loss, double LossCt, double? LossDtm, float Lr, int Steps,
    double ItPerSec, double ImagesPerSec, TimeSpan Eta);

/// <summary>The outcome of <see cref="Trainer.Run"/>: where it stopped and the losses of this session (index 0 = the first iteration run).</summary>
public sealed record TrainResult(int Iteration, IReadOnlyList<double> Losses, string? LastCheckpoint, bool Finished);

/// <summary>Optional collaborators of a trainer: the perceptual distance, progress and message sinks, and a sample source override.</summary>
public sealed class TrainerHooks
{
    /// <summary>LPIPS-VGG (per-sample [B]); null trains with Charbonnier alone (said once at start).</summary>
    public PerSampleDistance? Lpips { get; init; }
    public IProgress<TrainProgress>? Progress { get; init; }
    /// <summary>Notes and warnings for the user (one line each).</summary>
    public Action<string>? Message { get; init; }
    /// <summary>Replaces the folder dataset named by the options (tests, custom data).</summary>
    public Data.ISampleSource? Source { get; init; }
    /// <summary>The alignment stage's NIQE and LPIPS-Alex rewards (--reward niqe|lpips-alex|mix); null where not given.</summary>
    public Ctmsr.Metrics.NiqeModel? Niqe { get; init; }
    public Ctmsr.Metrics.LpipsScorer? LpipsAlex { get; init; }
    /// <summary>Data-parallel training: this rank's share of the batch, gradients averaged over ranks (null: one process).</summary>
    public Distributed.IGradientReducer? Reducer { get; init; }
}

/// <summary>A non-finite loss: names the iteration, the last good checkpoint and what to try.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
