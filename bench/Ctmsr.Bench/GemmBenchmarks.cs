using BenchmarkDotNet.Attributes;
using Ctmsr.Kernels.Cpu;

namespace Ctmsr.Bench;

/// <summary>Square SGEMM, ours vs OpenBLAS cblas_sgemm (same thread count).</summary>
[MemoryDiagnoser]
public class GemmBenchmarks
{
    [Params(256, 512, 1024, 2048)] public int N;
    float[] _a = [], _b = [], _c = [];

    [GlobalSetup]
    public void Setup()
    {
        var r = new Random(1);
        _a = new float[N * N]; _b = new float[N * N]; _c = new float[N * N];
        for (int i = 0; i < _a.Length; i++) { _a[i] = (float)r.NextDouble(); _b[i] = (float)r.NextDouble(); }
        if (OpenBlas.Available) OpenBlas.SetThreads(Environment.ProcessorCount);
    }

    [Benchmark(Baseline = true)]
    public void OpenBlasSgemm() => OpenBlas.Sgemm(false, false, N, N, N, 1f, _a, N, _b, N, 0f, _c, N);

    [Benchmark]
    public void CtmsrSgemm() => CpuGemm.Sgemm(false, false, N, N, N, 1f, _a, 0, N, _b, 0, N, 0f, _c, 0, N);

    [Benchmark]
    public void CtmsrSgemmTN() => CpuGemm.Sgemm(true, false, N, N, N, 1f, _a, 0, N, _b, 0, N, 0f, _c, 0, N);

    [Benchmark]
    public void CtmsrSgemmNT() => CpuGemm.Sgemm(false, true, N, N, N, 1f, _a, 0, N, _b, 0, N, 0f, _c, 0, N);
}
