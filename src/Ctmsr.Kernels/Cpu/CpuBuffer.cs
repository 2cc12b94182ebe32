namespace Ctmsr.Kernels.Cpu;

/// <summary>A host array of floats owned by the CPU backend.</summary>
public sealed class CpuBuffer(CpuBackend owner, long count) : DeviceBuffer
{
    public readonly float[] Data = GC.AllocateUninitializedArray<float>(checked((int)count));
    public override long Length => Data.LongLength;
    public override Backend Backend => owner;
    public override void Dispose() { }
}
