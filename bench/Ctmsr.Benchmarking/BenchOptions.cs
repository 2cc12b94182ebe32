using Ctmsr.Model.Network;

namespace Ctmsr.Benchmarking;

/// <summary>What `ctmsr bench` measures.</summary>
public sealed record BenchOptions
{
    /// <summary>Device specs for <see cref="Ctmsr.Kernels.Devices.Create"/>, e.g. ["cpu", "opencl:0"].</summary>
    public IReadOnlyList<string> Devices { get; init; } = ["cpu"];
    /// <summary>GEMM/convolution arithmetic of every device (tf32/bf16: tensor cores; devices without them are skipped
    /// under `--device all`).</summary>
    public Ctmsr.Kernels.MatmulPrecision Precision { get; init; } = Ctmsr.Kernels.MatmulPrecision.Fp32;
    public bool Kernels { get; init; } = true;
    public bool Model { get; init; } = true;
    public string ConfigName { get; init; } = "x4";
    public CtmsrConfig Config { get; init; } = CtmsrConfig.X4;
    /// <summary>Batch sizes of the model cases; kernels use the first.</summary>
    public IReadOnlyList<int> Batches { get; init; } = [1, 4];
    /// <summary>LR side (the HR side is Scale times it); a multiple of the config's SizeMultiple.</summary>
    public int LrSize { get; init; } = 64;
    /// <summary>Rounds per kernel, timed steps per model case (the median is reported).</summary>
    public int Repeat { get; init; } = 5;
    /// <summary>Untimed calls before the timed steps of a model case (kernels always warm up once).</summary>
    public int Warmup { get; init; } = 1;
    /// <summary>Seconds per kernel case over all its rounds.</summary>
    public double KernelBudget { get; init; } = 1.0;
    public IReadOnlyList<int> GemmSizes { get; init; } = [512, 1024, 2048];
    /// <summary>Profile the model cases per op (<see cref="Ctmsr.Kernels.ProfilingBackend"/>) instead of timing kernels and
    /// model cases against the peers.</summary>
    public bool Profile { get; init; }
    public bool Torch { get; init; } = true;
    /// <summary>Run the model forward on ONNX Runtime too (its graph is exported through the twin, so it needs torch).</summary>
    public bool Onnx { get; init; } = true;
    public string Python { get; init; } = TorchTwin.DefaultPython;
    /// <summary>Progress lines (stderr in the CLI).</summary>
    public Action<string>? Log { get; init; }

    public void Validate()
    {
        if (Devices.Count == 0) throw new ArgumentException("no device to benchmark; pass --device cpu, opencl[:N], cuda[:N] or all");
        if (!Kernels && !Model) throw new ArgumentException("nothing to measure; pass --what kernels, model or all");
        if (Batches.Count == 0 || Batches.Any(b => b < 1)) throw new ArgumentException("--batch must be at least 1");
        if (Repeat < 1) throw new ArgumentException("--repeat must be at least 1");
        if (Warmup < 0) throw new ArgumentException("--warmup must be 0 or more");
        if (LrSize < 1 || LrSize % Config.SizeMultiple != 0)
            throw new ArgumentException($"--lr {LrSize} is not a positive multiple of {Config.SizeMultiple} (window {Config.WindowSize} at {Config.ChannelMult.Length} levels); use e.g. --lr 64");
        if (GemmSizes.Any(s => s < 1)) throw new ArgumentException("--gemm sizes must be positive");
    }
}
