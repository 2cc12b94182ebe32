using System.CommandLine;
using Ctmsr.Autograd;
using Ctmsr.Model.Perceptual;

namespace Ctmsr.Cli;

/// <summary>
/// `--perceptual resnet18 --perceptual-weights ResNet18.onnx`: the ResNet18 perceptual distance (train, eval). The ONNX
/// file ships in NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1 (tools/DnnImageModels/ResNet18Onnx/ResNet18.onnx);
/// without --perceptual-weights it is looked for in $CTMSR_RESNET18_ONNX, then in the NuGet package folder.
/// </summary>
static class PerceptualOptions
{
    public const string Name = "resnet18";
    const string PackagePath = "microsoft.ml.dnnimagefeaturizer.resnet18/0.23.1/tools/DnnImageModels/ResNet18Onnx/ResNet18.onnx";

    public static Option<string?> Kind() => new("--perceptual") { Description = "perceptual loss: resnet18 (ImageNet ResNet18 features, LPIPS-style; not LPIPS-VGG, whose weights cannot be had offline)" };

    public static Option<FileInfo?> Weights() => new("--perceptual-weights")
    {
        Description = "ResNet18.onnx of NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1 (default: $CTMSR_RESNET18_ONNX, else the NuGet package folder)",
    };

    /// <summary>Checks the --perceptual name; null when absent.</summary>
    public static string? ParseKind(string? kind) => kind?.Trim().ToLowerInvariant() switch
    {
        null => null,
        Name => Name,
        _ => throw new ArgumentException($"unknown --perceptual '{kind}': use {Name}"),
    };

    /// <summary>The ONNX file: the one given, else $CTMSR_RESNET18_ONNX, else NuGet's package folder ($NUGET_PACKAGES or ~/.nuget/packages).</summary>
    public static string Locate(FileInfo? given)
    {
        if (given is not null)
            return given.Exists ? given.FullName : throw new FileNotFoundException($"{given.FullName}: no such file; pass ResNet18.onnx from NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18 (tools/DnnImageModels/ResNet18Onnx/) to --perceptual-weights");
        var env = Environment.GetEnvironmentVariable("CTMSR_RESNET18_ONNX");
        if (!string.IsNullOrEmpty(env)) return File.Exists(env) ? env : throw new FileNotFoundException($"$CTMSR_RESNET18_ONNX points to {env}, which does not exist; fix or unset it");
        var root = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        if (string.IsNullOrEmpty(root)) root = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var p = Path.Combine(root, PackagePath);
        return File.Exists(p) ? p : throw new FileNotFoundException(
            $"the ResNet18 perceptual loss needs ResNet18.onnx: pass --perceptual-weights PATH (it ships in NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1; `dotnet restore tests/Ctmsr.Tests` downloads it to {Path.GetDirectoryName(p)})");
    }

    public static PerceptualLoss Open(Context ctx, FileInfo? weights) => PerceptualLoss.Load(ctx, Locate(weights));
}
