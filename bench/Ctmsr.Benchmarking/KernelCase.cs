using System.Text.Json.Nodes;
using Ctmsr.Kernels;

namespace Ctmsr.Benchmarking;

/// <summary>
/// One kernel measurement: what it is (op, shape, pass), its analytic cost, how to run it on a backend
/// (Setup allocates random inputs into `owned` and returns the call to time) and the same case for the
/// PyTorch twin (bench/twin/serve.py's request format).
/// </summary>
public sealed class KernelCase
{
    public required string Op { get; init; }
    public required string Shape { get; init; }
    public required string Pass { get; init; }
    /// <summary>FLOPs per call (0 for a memory-bound kernel).</summary>
    public double Flops { get; init; }
    /// <summary>Minimum bytes moved per call (set for memory-bound kernels).</summary>
    public double Bytes { get; init; }
    public bool MemoryBound => Flops == 0;
    public required JsonObject Torch { get; init; }
    public required Func<Backend, List<DeviceBuffer>, Action> Setup { get; init; }
}
