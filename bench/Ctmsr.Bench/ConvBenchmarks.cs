using BenchmarkDotNet.Attributes;
using Ctmsr.Kernels;
using Ctmsr.Kernels.Cpu;

namespace Ctmsr.Bench;

/// <summary>Conv2d forward / backward-data / backward-weight on the shapes of <see cref="Quick.ConvShapes"/>.</summary>
[MemoryDiagnoser]
public class ConvBenchmarks
{
    public static IEnumerable<ConvShape> Shapes => Quick.ConvShapes;
    [ParamsSource(nameof(Shapes))] public ConvShape S;
    float[] _x = [], _w = [], _b = [], _y = [], _dx = [], _dw = [], _db = [];

    [GlobalSetup]
    public void Setup()
    {
        var r = new Random(1);
        float[] R(long n) { var v = new float[n]; for (long i = 0; i < n; i++) v[i] = (float)(r.NextDouble() * 2 - 1); return v; }
        _x = R((long)S.N * S.Cin * S.H * S.W); _w = R((long)S.Cout * S.Cin * S.K * S.K); _b = R(S.Cout);
        _y = R((long)S.N * S.Cout * S.OutH * S.OutW); _dx = new float[_x.Length]; _dw = new float[_w.Length]; _db = new float[S.Cout];
    }

    [Benchmark] public void Forward() => CpuConv.Forward(S, _x, _w, _b, _y);
    [Benchmark] public void BackwardData() => CpuConv.BackwardData(S, _y, _w, _dx, false);
    [Benchmark] public void BackwardWeight() => CpuConv.BackwardWeight(S, _x, _y, _dw, _db);
}
