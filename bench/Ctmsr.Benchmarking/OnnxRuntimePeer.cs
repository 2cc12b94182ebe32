using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Ctmsr.Benchmarking;

/// <summary>
/// ONNX Runtime (its CPU provider, MLAS kernels) as a peer for the whole-model forward: the twin's D(x; sigma, lq)
/// exported once per (config, batch, LR) by bench/twin/export_onnx.py (opset 16, fixed shapes) into a cache outside
/// the checkout, then run in this process with the same thread count and timing as ours. It needs the twin's
/// python and torch only to export; an absent exporter is a note, never an error.
/// </summary>
public static class OnnxRuntimePeer
{
    public static string Version => typeof(InferenceSession).Assembly.GetName().Version?.ToString(3) ?? "?";

    static string CacheDir => Path.Combine(Environment.GetEnvironmentVariable("CTMSR_CACHE") is { Length: > 0 } c ? c
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "ctmsr"), "onnx");

    /// <summary>The exported graph for this case (exported now when absent from the cache).</summary>
    public static string Export(TorchTwin twin, JsonObject config, int batch, int lr, TimeSpan timeout)
    {
        string key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{config.ToJsonString()}|{batch}|{lr}|v1")))[..16].ToLowerInvariant();
        string path = Path.Combine(CacheDir, $"ctmsr-{key}.onnx");
        if (File.Exists(path)) return path;
        Directory.CreateDirectory(CacheDir);
        string script = Path.Combine(Path.GetDirectoryName(twin.Script)!, "export_onnx.py");
        twin.RunScript(script, [path, "--config", config.ToJsonString(), "--batch", $"{batch}", "--lr", $"{lr}"], timeout);
        if (!File.Exists(path)) throw new TorchTwinException($"export_onnx.py wrote no {path}");
        return path;
    }

    /// <summary>Times D on ONNX Runtime: <paramref name="warmup"/> untimed runs, then <paramref name="repeat"/> timed ones.</summary>
    public static (double[] Times, long? PeakBytes) Forward(string onnx, int batch, int lr, int scale, int threads, int repeat, int warmup)
    {
        var rss = RssWatch.Start();
        using var options = new SessionOptions
        {
            IntraOpNumThreads = threads, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        using var session = new InferenceSession(onnx, options);
        int hr = lr * scale;
        var rng = new Random(5);
        DenseTensor<float> Input(params int[] shape)
        {
            var t = new DenseTensor<float>(shape);
            var span = t.Buffer.Span;
            for (int i = 0; i < span.Length; i++) span[i] = (float)(rng.NextDouble() * 2 - 1);
            return t;
        }
        var sigma = new DenseTensor<float>(Enumerable.Repeat(1f, batch).ToArray(), [batch]);
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("x", Input(batch, 3, hr, hr)),
            NamedOnnxValue.CreateFromTensor("sigma", sigma),
            NamedOnnxValue.CreateFromTensor("lq", Input(batch, 3, lr, lr)),
        };
        var times = BenchTimer.Calls(() => { using var _ = session.Run(inputs); }, () => { }, repeat, warmup);
        return (times, rss.PeakGrowth());
    }
}
