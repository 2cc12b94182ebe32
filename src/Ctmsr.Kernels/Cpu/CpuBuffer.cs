using System.Runtime.InteropServices;

namespace Ctmsr.Kernels.Cpu;

/// <summary>A host array of floats owned by the CPU backend.</summary>
public sealed partial class CpuBuffer(CpuBackend owner, long count) : DeviceBuffer
{
    public readonly float[] Data = GC.AllocateUninitializedArray<float>(checked((int)count));
    public override long Length => Data.LongLength;
    public override Backend Backend => owner;
    public override void Dispose() { }

    /// <summary>On Linux, madvise(MADV_DONTNEED) on the whole pages inside the array: the kernel drops them from the
    /// resident set at once and maps zeroed pages on the next touch; the array stays allocated, so the buffer pool
    /// keeps it without the garbage collector having to reclaim and recommit anything (which it does lazily and, for
    /// arrays of mixed sizes, with fragmentation). The garbage collector never reads a float array's elements, so
    /// dropping them is safe. False elsewhere, or when the array spans no whole page.</summary>
    public override unsafe bool Discard()
    {
        if (!OperatingSystem.IsLinux()) return false;
        nuint page = (nuint)Environment.SystemPageSize;
        fixed (float* p = Data)
        {
            nuint start = ((nuint)p + page - 1) / page * page, end = ((nuint)(p + Data.LongLength)) / page * page;
            if (end <= start) return false;
            try { return Madvise(start, end - start, MadvDontNeed) == 0; }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return false; }
        }
    }

    const int MadvDontNeed = 4;

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nuint addr, nuint length, int advice);
}
