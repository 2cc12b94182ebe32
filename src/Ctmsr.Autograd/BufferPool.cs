using Ctmsr.Kernels;

namespace Ctmsr.Autograd;

/// <summary>
/// Per-backend pool of device buffers bucketed by size (steps of 1/8 of a power of two, so at most
/// 12.5% is wasted). A training step that returns its temporaries allocates nothing new after
/// warm-up; <see cref="Misses"/> counts real allocations so a test can check that.
/// </summary>
public sealed class BufferPool
{
    readonly Backend _backend;
    readonly Dictionary<long, Stack<DeviceBuffer>> _free = new();
    readonly object _lock = new();

    public BufferPool(Backend backend) => _backend = backend;

    public long Misses { get; private set; }
    public long Hits { get; private set; }
    public long BytesAllocated { get; private set; }
    public long BytesInUse { get; private set; }
    public long PeakBytesInUse { get; private set; }

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
            if (_free.TryGetValue(b, out var st) && st.Count > 0) { Hits++; return st.Pop(); }
            Misses++;
            BytesAllocated += b * 4;
        }
        try { return _backend.Allocate(b); }
        catch
        {
            // an allocation that failed (e.g. out of device memory) holds nothing: undo the counts
            lock (_lock) { BytesInUse -= b * 4; BytesAllocated -= b * 4; PeakBytesInUse = Math.Max(peakBefore, BytesInUse); }
            throw;
        }
    }

    public void Return(DeviceBuffer buf)
    {
        lock (_lock)
        {
            BytesInUse -= buf.Length * 4;
            if (!_free.TryGetValue(buf.Length, out var st)) _free[buf.Length] = st = new Stack<DeviceBuffer>();
            st.Push(buf);
        }
    }

    /// <summary>Releases every cached buffer back to the device.</summary>
    public void Trim()
    {
        lock (_lock)
        {
            foreach (var st in _free.Values) while (st.Count > 0) { var b = st.Pop(); BytesAllocated -= b.Length * 4; b.Dispose(); }
        }
    }

    public void ResetPeak() { lock (_lock) PeakBytesInUse = BytesInUse; }
}
