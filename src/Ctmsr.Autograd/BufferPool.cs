using Ctmsr.Kernels;

namespace Ctmsr.Autograd;

/// <summary>
/// Per-backend pool of device buffers bucketed by size (steps of 1/8 of a power of two, so at most
/// 12.5% is wasted). A training step that returns its temporaries allocates nothing new after
/// warm-up; <see cref="Misses"/> counts real allocations so a test can check that.
/// With <see cref="KeepResidentAtPeak"/> (inference) the cached buffers' memory is given back whenever the resident
/// total would pass the most ever in use at once (see there).
/// </summary>
public sealed class BufferPool
{
    readonly Backend _backend;
    readonly Dictionary<long, Stack<DeviceBuffer>> _free = new();
    readonly object _lock = new();
    // KeepResidentAtPeak: free buffers whose memory is resident, oldest return first, and those given back
    readonly List<DeviceBuffer> _residentFree = new();
    readonly HashSet<DeviceBuffer> _discarded = new(ReferenceEqualityComparer.Instance);
    bool _keepAtPeak;
    long _cap;

    public BufferPool(Backend backend) => _backend = backend;

    public long Misses { get; private set; }
    public long Hits { get; private set; }
    public long BytesAllocated { get; private set; }
    public long BytesInUse { get; private set; }
    public long PeakBytesInUse { get; private set; }
    /// <summary>Bytes of the pool's buffers holding physical memory: those in use and the cached ones not given back
    /// (<see cref="DeviceBuffer.Discard"/>); <see cref="BytesAllocated"/> less what was discarded.</summary>
    public long ResidentBytes { get; private set; }
    /// <summary>Buffers and bytes given back under <see cref="KeepResidentAtPeak"/> (each reuse takes fresh pages).</summary>
    public long Discards { get; private set; }
    public long BytesDiscarded { get; private set; }

    /// <summary>Free buffers smaller than this are never given back (a page or two each: not worth a system call).</summary>
    public const long MinDiscardBytes = 1 << 20;

    /// <summary>
    /// Inference policy: after each rent the resident total is held to the most bytes ever in use at once since the
    /// policy was set (or the pool trimmed), by giving back the memory of cached buffers, oldest returned first
    /// (<see cref="DeviceBuffer.Discard"/>; where the device cannot, the buffer is released). Without it the pool keeps
    /// every size it handed out, so the resident set is the sum over sizes of each size's most simultaneous uses: the
    /// low-resolution tensors of a network stay resident while its high-resolution stages run. The buffers stay in
    /// the pool, so a step that reuses a given-back buffer only takes fresh pages (no allocation, no collection). Off
    /// by default: a training step reuses every buffer every step and gains nothing.
    /// </summary>
    public bool KeepResidentAtPeak
    {
        get => _keepAtPeak;
        set
        {
            lock (_lock)
            {
                if (value && !_keepAtPeak)
                {
                    _residentFree.Clear();
                    foreach (var st in _free.Values)
                        foreach (var b in st) if (!_discarded.Contains(b)) _residentFree.Add(b);
                    _cap = BytesInUse;
                    Enforce();
                }
                _keepAtPeak = value;
            }
        }
    }

    public static long Bucket(long count)
    {
        if (count <= 64) return 64;
        int top = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)count);
        long step = 1L << Math.Max(0, top - 3);
        return (count + step - 1) / step * step;
    }

    public DeviceBuffer Rent(long count)
    {
        long b = Bucket(count), peakBefore;
        lock (_lock)
        {
            peakBefore = PeakBytesInUse;
            BytesInUse += b * 4;
            PeakBytesInUse = Math.Max(PeakBytesInUse, BytesInUse);
            if (_free.TryGetValue(b, out var st) && st.Count > 0)
            {
                Hits++;
                var buf = st.Pop();
                if (_discarded.Count > 0 && _discarded.Remove(buf)) ResidentBytes += b * 4;
                else if (_keepAtPeak) _residentFree.Remove(buf);
                if (_keepAtPeak) { _cap = Math.Max(_cap, BytesInUse); Enforce(); }
                return buf;
            }
            Misses++;
            BytesAllocated += b * 4;
            ResidentBytes += b * 4;
            if (_keepAtPeak) { _cap = Math.Max(_cap, BytesInUse); Enforce(); }
        }
        try { return _backend.Allocate(b); }
        catch
        {
            // an allocation that failed (e.g. out of device memory) holds nothing: undo the counts
            lock (_lock) { BytesInUse -= b * 4; BytesAllocated -= b * 4; ResidentBytes -= b * 4; PeakBytesInUse = Math.Max(peakBefore, BytesInUse); }
            throw;
        }
    }

    /// <summary>Gives back cached buffers' memory, oldest first, until the resident total is within the cap.</summary>
    void Enforce()
    {
        for (int i = 0; i < _residentFree.Count && ResidentBytes > _cap;)
        {
            var buf = _residentFree[i];
            if (buf.Length * 4 < MinDiscardBytes) { i++; continue; }
            _residentFree.RemoveAt(i);
            ResidentBytes -= buf.Length * 4;
            Discards++;
            BytesDiscarded += buf.Length * 4;
            if (buf.Discard()) _discarded.Add(buf);
            else
            {
                // the device cannot keep an allocation without its memory: release the buffer itself
                var st = _free[buf.Length];
                _free[buf.Length] = new Stack<DeviceBuffer>(st.Where(x => !ReferenceEquals(x, buf)).Reverse().ToArray());
                BytesAllocated -= buf.Length * 4;
                buf.Dispose();
            }
        }
    }

    public void Return(DeviceBuffer buf)
    {
        lock (_lock)
        {
            BytesInUse -= buf.Length * 4;
            if (!_free.TryGetValue(buf.Length, out var st)) _free[buf.Length] = st = new Stack<DeviceBuffer>();
            st.Push(buf);
            if (_keepAtPeak) _residentFree.Add(buf);
        }
    }

    /// <summary>Releases every cached buffer back to the device.</summary>
    public void Trim()
    {
        lock (_lock)
        {
            foreach (var st in _free.Values)
                while (st.Count > 0)
                {
                    var b = st.Pop();
                    BytesAllocated -= b.Length * 4;
                    if (!_discarded.Remove(b)) ResidentBytes -= b.Length * 4;
                    b.Dispose();
                }
            _residentFree.Clear();
            _cap = BytesInUse;
        }
    }

    public void ResetPeak() { lock (_lock) PeakBytesInUse = BytesInUse; }
}
