using Ctmsr.Autograd;

namespace Ctmsr.Train.Distributed;

/// <summary>
/// What a training stage needs to run data-parallel over <see cref="Size"/> ranks: average its parameter
/// gradients (and a few scalars such as the loss) across ranks between backward and the optimiser step, and make
/// every rank start from rank 0's state. A stage uses it as:
/// <code>
///   reducer.Attach(parameters);                  // once
///   reducer.Broadcast(...);                      // weights / optimiser state from rank 0
///   per step: reducer.BeginFinalBackward();      // before the pass that completes the step's gradients
///             loss.Backward();                   // buckets go out as their gradients become final
///             reducer.Complete(values);          // gradients and values now hold the average over ranks
///             optimizer.StepOnce();
/// </code>
/// Every rank must make the same calls in the same order (they are collective).
/// </summary>
public interface IGradientReducer
{
    int Rank { get; }
    int Size { get; }

    /// <summary>The parameters whose gradients are averaged (registration order, the same on every rank).</summary>
    void Attach(IReadOnlyList<Tensor> parameters);

    /// <summary>The backward pass that follows on this thread produces the step's final gradients (with accumulation: the last micro-batch's).</summary>
    void BeginFinalBackward();

    /// <summary>
    /// Finishes the reduction: every attached parameter's gradient becomes the mean over ranks (a parameter without
    /// a gradient on a rank counts as zero there), and <paramref name="values"/> become their mean over ranks.
    /// </summary>
    void Complete(Span<double> values);

    /// <summary>Rank 0's bytes into every rank's span (same length everywhere).</summary>
    void Broadcast(Span<byte> data);

    /// <summary>Rank 0's values of these tensors into every rank's (same shapes everywhere).</summary>
    void Broadcast(IEnumerable<Tensor> tensors);

    /// <summary>Rank 0's string on every rank (the others pass anything).</summary>
    string BroadcastString(string? value);

    /// <summary>What the last <see cref="Complete"/> cost: bytes reduced, seconds the step waited for communication.</summary>
    ReductionStats LastStats { get; }
}

/// <summary>
/// One step's reduction: <see cref="Bytes"/> reduced per rank; the time a rank spent in the reducer (staging gradients
/// to the host during backward, polling, waiting in Complete): <see cref="ExposedSeconds"/> is its minimum over ranks
/// (the last rank to finish backward waits only for the reduction: the time the reduction adds to the step),
/// <see cref="MaxSeconds"/> its maximum (which adds the ranks' load imbalance); and the number of buckets.
/// </summary>
public readonly record struct ReductionStats(long Bytes, double ExposedSeconds, double MaxSeconds, int Buckets);
