using System.Reflection;

namespace Ctmsr.Tests.Perceptual;

/// <summary>The ONNX files of NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1 (downloaded by the test project's restore).</summary>
static class Resnet18Files
{
    static string Folder()
    {
        var env = Environment.GetEnvironmentVariable("CTMSR_RESNET18_ONNX_DIR");
        if (!string.IsNullOrEmpty(env)) return env;
        return typeof(Resnet18Files).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .First(a => a.Key == "Resnet18OnnxFolder").Value!;
    }

    static string Find(string relative)
    {
        var p = Path.Combine(Folder(), relative);
        if (!File.Exists(p)) Assert.Ignore($"{p} is absent (restore tests/Ctmsr.Tests to download NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1)");
        return p;
    }

    public static string Model => Find("ResNet18Onnx/ResNet18.onnx");
    public static string Preprocess => Find("ResNetPrepOnnx/ResNetPreprocess.onnx");
}
