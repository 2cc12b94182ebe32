using System.CommandLine;
using Ctmsr.Kernels;

namespace Ctmsr.Cli;

/// <summary>The `--precision fp32|tf32|bf16` option of the verbs whose time goes into GEMM and convolution (upscale, train,
/// bench, verify): the backend's <see cref="Backend.Precision"/>, set when the device is opened (<see cref="DeviceOption.Open"/>).</summary>
static class PrecisionOption
{
    public static Option<string?> Create() => new("--precision")
    {
        Description = "GEMM/convolution arithmetic: fp32 (default, exact to the golden bounds), tf32 or bf16 (tensor cores, float32 accumulation; " +
                      "--device cuda on an NVIDIA GPU of compute capability 8.0+ only; other devices refuse it)",
    };
}
