namespace Ctmsr.Benchmarking;

/// <summary>One measured line: a kernel or a whole-model case, ours and (where measured) the twin's.</summary>
public sealed class BenchRow
{
    public required string Section { get; init; }          // "kernels" or "model"
    public required string Op { get; init; }
    public required string Shape { get; init; }
    public required string Pass { get; init; }
    public double Flops { get; init; }
    public double Bytes { get; init; }
    public required double[] Times { get; init; }
    public double[]? TorchTimes { get; set; }
    /// <summary>Peak resident growth over the case (<see cref="RssWatch"/>), as measured for every engine.</summary>
    public long? PeakBytes { get; init; }
    /// <summary>The buffer pool's high-water mark of bytes in use (our engine's own view; conv scratch not included).</summary>
    public long? PoolPeakBytes { get; init; }
    public long? PoolBytes { get; init; }
    public long? TorchPeakBytes { get; set; }
    public string? TorchMemory { get; set; }
    public double[]? OnnxTimes { get; set; }
    public long? OnnxPeakBytes { get; set; }

    public bool MemoryBound => Flops == 0 && Bytes > 0;
    public double Seconds => BenchTimer.Median(Times);
    public double? TorchSeconds => TorchTimes is { Length: > 0 } t ? BenchTimer.Median(t) : null;
    public double? OnnxSeconds => OnnxTimes is { Length: > 0 } t ? BenchTimer.Median(t) : null;
    /// <summary>ONNX Runtime time / our time: above 1 we are faster.</summary>
    public double? SpeedVsOnnx => OnnxSeconds is { } t ? t / Seconds : null;
    public double Gflops => Flops / Seconds / 1e9;
    public double GBs => Bytes / Seconds / 1e9;
    /// <summary>Compute-bound rows against the measured FLOP peak, memory-bound rows against the measured bandwidth.</summary>
    public double FractionOfPeak(DevicePeak p) => MemoryBound ? GBs / p.GBs : Gflops / p.Gflops;
    /// <summary>Torch time / our time: above 1 we are faster.</summary>
    public double? SpeedVsTorch => TorchSeconds is { } t ? t / Seconds : null;
}

/// <summary>One profiled model case: "forward" or "train step", its shape, and the per-op totals.</summary>
public sealed record ProfileRow(string Case, string Shape, ModelProfile Profile);

/// <summary>Everything measured on one device.</summary>
public sealed class DeviceReport
{
    public required string Spec { get; init; }
    public required string Description { get; init; }
    public required DevicePeak Peak { get; init; }
    public List<BenchRow> Rows { get; } = new();
    /// <summary>Per-op profiles of the model cases (`--profile`).</summary>
    public List<ProfileRow> Profiles { get; } = new();
    public List<string> Notes { get; } = new();
    /// <summary>Where the twin ran for this device ("cpu"/"cuda"), or null when it did not.</summary>
    public string? TorchDevice { get; set; }
}

public sealed class BenchResult
{
    public required BenchOptions Options { get; init; }
    public required string Machine { get; init; }
    public string? TorchVersion { get; set; }
    /// <summary>ONNX Runtime's version when its column was measured.</summary>
    public string? OnnxVersion { get; set; }
    public string LoadBefore { get; init; } = "";
    public string LoadAfter { get; set; } = "";
    public DateTime Started { get; init; }
    public List<DeviceReport> Devices { get; } = new();
    public List<string> Notes { get; } = new();
}
