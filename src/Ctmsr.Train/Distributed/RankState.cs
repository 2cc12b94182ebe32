using System.Runtime.InteropServices;
using Ctmsr.Autograd;
using Ctmsr.Model.Network;

namespace Ctmsr.Train.Distributed;

/// <summary>
/// Makes every rank hold rank 0's training state: weights, EMA, AdamW moments, the teacher, and the counters
/// (iteration, Adam step, dropout stream). Used at start (the initial or --from weights) and on --resume, so only
/// rank 0 needs to read files and the ranks cannot start out of step.
/// </summary>
public static class RankState
{
    /// <summary>The global batch split over the ranks: each takes Batch / R samples (a contiguous slice).</summary>
    public static int LocalBatch(int batch, int ranks) =>
        batch % ranks == 0 ? batch / ranks
            : throw new ArgumentException($"--batch {batch} cannot be split over {ranks} ranks: pass a global batch that is a multiple of the rank count (e.g. {ranks * Math.Max(1, batch / ranks)})");

    public static void Broadcast(IGradientReducer r, CtmsrNet net, AdamW opt, Ema ema, CtmsrNet? teacher, Span<long> counters)
    {
        r.Broadcast(MemoryMarshal.AsBytes(counters));
        r.Broadcast(net.Parameters());
        r.Broadcast(ema.Pairs.Select(p => p.e));
        r.Broadcast(opt.State.Select(s => s.m));
        r.Broadcast(opt.State.Select(s => s.v));
        if (teacher is not null) r.Broadcast(teacher.Parameters());
    }
}
