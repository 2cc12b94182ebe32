namespace Ctmsr.Train.Data;

/// <summary>
/// Prepares batches on background threads, at most <c>inFlight</c> ahead of the consumer (bounded memory).
/// Batch s holds samples s*B .. s*B+B-1 of the source, so its content does not depend on the thread count or
/// on timing; starting at step s0 (a resume) yields exactly the batches an uninterrupted run would.
/// A sample that throws fails the batch, and <see cref="Next"/> rethrows it.
/// Data-parallel: with <c>shards</c> R, batch s of shard r holds samples s*B*R + r*B .. + B-1, the r-th slice of
/// the single-process batch of B*R.
/// </summary>
public sealed class BatchLoader : IDisposable
{
    readonly ISampleSource _source;
    readonly int _batch, _inFlight, _shard, _shards;
    readonly object _gate = new();
    readonly Dictionary<long, (TrainBatch? batch, Exception? error)> _ready = new();
    readonly List<Thread> _threads = new();
    long _next, _consumed;
    bool _stop;

    public int BatchSize => _batch;
    public long NextStep { get { lock (_gate) return _consumed; } }

    public BatchLoader(ISampleSource source, int batchSize, long startStep = 0, int workers = 2, int inFlight = 2, int shard = 0, int shards = 1)
    {
        if (shards <= 0 || shard < 0 || shard >= shards) throw new ArgumentException($"shard {shard} of {shards} is not a valid slice");
        _shard = shard; _shards = shards;
        if (batchSize <= 0) throw new ArgumentException($"batch size {batchSize} must be positive");
        if (workers <= 0) throw new ArgumentException($"loader workers {workers} must be positive");
        if (inFlight <= 0) throw new ArgumentException($"batches in flight {inFlight} must be positive");
        _source = source; _batch = batchSize; _inFlight = inFlight;
        _next = _consumed = startStep;
        for (int i = 0; i < workers; i++)
        {
            var t = new Thread(Work) { IsBackground = true, Name = $"ctmsr-loader-{i}" };
            _threads.Add(t);
            t.Start();
        }
    }

    void Work()
    {
        while (true)
        {
            long step;
            lock (_gate)
            {
                while (!_stop && _next >= _consumed + _inFlight) Monitor.Wait(_gate);
                if (_stop) return;
                step = _next++;
            }
            TrainBatch? b = null; Exception? err = null;
            try
            {
                var samples = new TrainSample[_batch];
                for (int i = 0; i < _batch; i++) samples[i] = _source.Get((step * _shards + _shard) * _batch + i);
                b = TrainBatch.Stack(step, samples);
            }
            catch (Exception e) { err = e; }
            lock (_gate)
            {
                _ready[step] = (b, err);
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>The next batch in step order (blocks until it is ready).</summary>
    public TrainBatch Next()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stop, this);
            (TrainBatch? batch, Exception? error) r;
            while (!_ready.Remove(_consumed, out r)) Monitor.Wait(_gate);
            _consumed++;
            Monitor.PulseAll(_gate);
            if (r.error is not null)
                throw new InvalidDataException($"preparing batch {_consumed - 1} failed: {r.error.Message}", r.error);
            return r.batch!;
        }
    }

    public void Dispose()
    {
        lock (_gate) { _stop = true; Monitor.PulseAll(_gate); }
        foreach (var t in _threads) t.Join();
    }
}
