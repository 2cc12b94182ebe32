using System.Diagnostics;
using System.Runtime.InteropServices;
using Ctmsr.Autograd;
using Ctmsr.Kernels.Mpi;

namespace Ctmsr.Train.Distributed;

/// <summary>
/// Averages gradients over the ranks of an <see cref="MpiWorld"/> the way PyTorch DDP does: the parameters are
/// packed, in reverse registration order (roughly the order backward finishes them), into host buckets of about
/// <c>bucketBytes</c>; while backward runs, a parameter's gradient is copied into its bucket as soon as it is final
/// and a full bucket goes out as a non-blocking MPI_Iallreduce (in bucket order, so every rank issues the same
/// collectives in the same order). Backward polls MPI_Test between closures so the reductions progress;
/// <see cref="Complete"/> sends what is left, waits, and copies the sums / R back into the gradients.
///
/// When is a gradient final? A parameter's gradient is written once per use in the graph, so the reducer counts
/// the writes (<see cref="IBackwardObserver"/>) and learns each parameter's count in the first step, which reduces
/// without overlap. If a later graph writes a parameter after it was staged (the graph changed), every rank learns
/// that in Complete and the step is reduced again from the gradients, without overlap, and the counts are relearned.
/// Gradients are staged through host memory: this works with every backend (CPU, OpenCL, CUDA) and any MPI build.
/// </summary>
public sealed unsafe class MpiGradientReducer : IGradientReducer, IBackwardObserver, IDisposable
{
    sealed class Bucket
    {
        public float* Host;
        public int Length;
        public readonly List<int> Params = new();
        public int Unstaged;
        public MpiRequest Request;
        public bool Launched;
    }

    readonly MpiWorld _world;
    readonly long _bucketBytes;
    readonly bool _overlap;
    readonly Dictionary<Tensor, int> _index = new(ReferenceEqualityComparer.Instance);
    readonly List<Bucket> _buckets = new();
    readonly List<int> _touched = new();
    Tensor[] _params = [];
    int[] _bucketOf = [], _offset = [], _writes = [], _expected = [];
    bool[] _staged = [];
    bool _learned, _armed, _late;
    int _nextLaunch, _firstPending;
    long _exposedTicks;
    float[] _scratch = [];

    public int Rank => _world.Rank;
    public int Size => _world.Size;
    public ReductionStats LastStats { get; private set; }
    /// <summary>Steps whose graph differed from the learned one (each reduced twice); 0 in a healthy run.</summary>
    public int Relearned { get; private set; }

    /// <param name="bucketBytes">bucket size; 0 or less: one bucket for everything</param>
    /// <param name="overlap">false: nothing leaves before backward ends (for measuring what the overlap saves)</param>
    public MpiGradientReducer(MpiWorld world, long bucketBytes = 25L << 20, bool overlap = true)
    {
        _world = world; _bucketBytes = bucketBytes <= 0 ? long.MaxValue : bucketBytes; _overlap = overlap;
    }

    public void Attach(IReadOnlyList<Tensor> parameters)
    {
        if (_params.Length > 0) throw new InvalidOperationException("the reducer is already attached to a parameter list");
        int n = parameters.Count;
        _params = parameters.ToArray();
        _bucketOf = new int[n]; _offset = new int[n]; _writes = new int[n]; _expected = new int[n]; _staged = new bool[n];
        for (int i = 0; i < n; i++) _index[_params[i]] = i;
        Bucket? cur = null;
        long curBytes = 0;
        for (int i = n - 1; i >= 0; i--)
        {
            long bytes = _params[i].Count * sizeof(float);
            if (cur is null || (curBytes > 0 && curBytes + bytes > _bucketBytes)) { cur = new Bucket(); _buckets.Add(cur); curBytes = 0; }
            if (cur.Length + _params[i].Count > int.MaxValue) throw new NotSupportedException($"parameter {i} does not fit an MPI message; use smaller buckets");
            _bucketOf[i] = _buckets.Count - 1; _offset[i] = cur.Length;
            cur.Params.Add(i); cur.Length += (int)_params[i].Count; curBytes += bytes;
        }
        foreach (var b in _buckets) b.Host = (float*)NativeMemory.AlignedAlloc((nuint)Math.Max(1, b.Length) * sizeof(float), 64);
    }

    public void BeginFinalBackward()
    {
        if (_params.Length == 0) throw new InvalidOperationException("Attach the parameters before the first step");
        Array.Clear(_writes); Array.Clear(_staged);
        foreach (var b in _buckets) { b.Unstaged = b.Params.Count; b.Launched = false; b.Request = default; }
        _nextLaunch = _firstPending = 0; _late = false; _exposedTicks = 0;
        _touched.Clear();
        _armed = true;
        Tape.Observer = this;
    }

    void IBackwardObserver.GradientWritten(Tensor parameter)
    {
        if (!_armed || !_index.TryGetValue(parameter, out int i)) return;
        if (_staged[i]) _late = true;
        _touched.Add(i);
    }

    void IBackwardObserver.ClosureDone()
    {
        if (!_armed || (_touched.Count == 0 && _firstPending == _nextLaunch)) return;
        long t0 = Stopwatch.GetTimestamp();
        foreach (int i in _touched)
        {
            _writes[i]++;
            if (_overlap && _learned && !_staged[i] && _writes[i] == _expected[i]) Stage(i);
        }
        _touched.Clear();
        LaunchReady();
        // MPI progresses non-blocking collectives only inside MPI calls: poke the oldest in flight
        while (_firstPending < _nextLaunch && _world.Test(ref _buckets[_firstPending].Request)) _firstPending++;
        _exposedTicks += Stopwatch.GetTimestamp() - t0;
    }

    void Stage(int i)
    {
        var p = _params[i];
        var b = _buckets[_bucketOf[i]];
        var dst = new Span<float>(b.Host + _offset[i], (int)p.Count);
        if (p.Grad is null) dst.Clear();
        else p.Backend.Download(p.Grad.Buffer, dst);
        _staged[i] = true;
        b.Unstaged--;
    }

    void LaunchReady()
    {
        while (_nextLaunch < _buckets.Count && _buckets[_nextLaunch].Unstaged == 0)
        {
            var b = _buckets[_nextLaunch++];
            b.Request = _world.StartAllreduceSum(b.Host, b.Length);
            b.Launched = true;
        }
    }

    public void Complete(Span<double> values)
    {
        if (!_armed) throw new InvalidOperationException("Complete without BeginFinalBackward");
        long t0 = Stopwatch.GetTimestamp();
        _armed = false;
        Tape.Observer = null;
        for (int i = 0; i < _params.Length; i++) if (!_staged[i]) Stage(i);
        LaunchReady();
        for (int k = _firstPending; k < _buckets.Count; k++) _world.Wait(ref _buckets[k].Request);
        // the scalars travel with two flags: did any rank see a gradient written after it was staged (the sums are
        // then incomplete), did any rank's write counts differ from the learned ones (relearn them)
        bool mismatch = _learned && !_writes.AsSpan().SequenceEqual(_expected);
        var v = new double[values.Length + 2];
        values.CopyTo(v);
        v[^2] = _late ? 1 : 0;
        v[^1] = mismatch ? 1 : 0;
        _world.AllreduceSum(v);
        for (int i = 0; i < values.Length; i++) values[i] = v[i] / Size;
        if (v[^2] > 0)
        {
            Relearned++;
            for (int i = 0; i < _params.Length; i++) { _staged[i] = false; Stage(i); }
            foreach (var b in _buckets) _world.AllreduceSum(new Span<float>(b.Host, b.Length));
        }
        if (!_learned || v[^2] > 0 || v[^1] > 0) { _writes.CopyTo(_expected, 0); _learned = true; }
        float inv = 1f / Size;
        for (int i = 0; i < _params.Length; i++)
        {
            var p = _params[i];
            var src = new Span<float>(_buckets[_bucketOf[i]].Host + _offset[i], (int)p.Count);
            for (int j = 0; j < src.Length; j++) src[j] *= inv;
            p.Grad ??= Tensor.EmptyPersistent(p.Ctx, p.Shape);
            p.Backend.Upload(src, p.Grad.Buffer);
        }
        _exposedTicks += Stopwatch.GetTimestamp() - t0;
        long bytes = 0;
        foreach (var b in _buckets) bytes += (long)b.Length * sizeof(float);
        // A rank that finishes backward first waits in Complete for the slowest one: that is load imbalance, not
        // communication. The last rank to arrive waits only for the reduction itself, so the step pays the minimum
        // over ranks; the maximum shows the imbalance. (One more tiny collective per step.)
        double mine = _exposedTicks / (double)Stopwatch.Frequency;
        Span<double> mm = [-mine, mine];
        _world.AllreduceMax(mm);
        LastStats = new ReductionStats(bytes, -mm[0], mm[1], _buckets.Count);
    }

    public void Broadcast(Span<byte> data) => _world.Broadcast(data);

    public string BroadcastString(string? value) => _world.BroadcastString(value);

    public void Broadcast(IEnumerable<Tensor> tensors)
    {
        foreach (var t in tensors)
        {
            if (_scratch.Length < t.Count) _scratch = new float[t.Count];
            var s = _scratch.AsSpan(0, (int)t.Count);
            if (Rank == 0) t.Backend.Download(t.Buffer, s);
            _world.Broadcast(s);
            if (Rank != 0) t.Backend.Upload(s, t.Buffer);
        }
    }

    public void Dispose()
    {
        if (Tape.Observer == this) Tape.Observer = null;
        foreach (var b in _buckets) { if (b.Host != null) NativeMemory.AlignedFree(b.Host); b.Host = null; }
    }
}
