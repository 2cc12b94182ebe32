namespace Ctmsr.Kernels.Gpu;

/// <summary>
/// One kernel argument, typed to match the kernel signature exactly: C# int = int, long = i64,
/// ulong = u64, float = float, bool = int (0/1), a buffer = GLOBAL float*.
/// </summary>
public readonly struct KernelArg
{
    public enum ArgKind : byte { I32, I64, U64, F32, Buffer }

    public ArgKind Kind { get; }
    public long Bits { get; }
    public GpuBuffer? Buffer { get; }

    KernelArg(ArgKind kind, long bits, GpuBuffer? buffer) { Kind = kind; Bits = bits; Buffer = buffer; }

    public int AsInt => (int)Bits;
    public float AsFloat => BitConverter.Int32BitsToSingle((int)Bits);

    public static implicit operator KernelArg(int v) => new(ArgKind.I32, v, null);
    public static implicit operator KernelArg(bool v) => new(ArgKind.I32, v ? 1 : 0, null);
    public static implicit operator KernelArg(long v) => new(ArgKind.I64, v, null);
    public static implicit operator KernelArg(ulong v) => new(ArgKind.U64, unchecked((long)v), null);
    public static implicit operator KernelArg(float v) => new(ArgKind.F32, BitConverter.SingleToInt32Bits(v), null);
    public static implicit operator KernelArg(GpuBuffer v) => new(ArgKind.Buffer, 0, v);
}

/// <summary>Work-groups per dimension and the work-group (block) size; OpenCL's global size is their product.</summary>
public readonly record struct LaunchGrid(int GroupsX, int GroupsY, int GroupsZ, int LocalX, int LocalY, int LocalZ)
{
    public static LaunchGrid Linear(int groups, int local) => new(groups, 1, 1, local, 1, 1);
}

/// <summary>A float32 allocation on a GPU backend: the API's handle to it, released once on Dispose, and counted in
/// the backend's <see cref="DeviceMemoryInfo.Used"/> while alive.</summary>
public abstract class GpuBuffer(GpuBackend owner, long count, System.Runtime.InteropServices.SafeHandle memory) : DeviceBuffer
{
    int disposed;
    public override long Length => count;
    public override Backend Backend => owner;

    /// <summary>Bytes the allocation holds (an empty buffer still takes one float).</summary>
    public static long BytesFor(long count) => Math.Max(count, 1) * sizeof(float);

    public override void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0) return;
        memory.Dispose();
        owner.TrackBytes(-BytesFor(count));
    }
}
