using Ctmsr.Kernels;
using Ctmsr.Kernels.Cpu;

namespace Ctmsr.Tests.Ilgpu;

/// <summary>
/// Diagnostic (explicit): the golden grad.x error with one group of ops moved from ILGPU-OpenCL to the CPU backend
/// (inputs copied over, outputs copied back). The group whose move removes the error holds the culprit, even when
/// every op matches the oracle on its own inputs (a write outside an op's declared outputs would show this way).
/// </summary>
[TestFixture, Explicit("diagnostic: several golden runs on PoCL (minutes each)"), NonParallelizable]
public sealed class IlgpuHybridBisect
{
    sealed class Hybrid(Backend inner, Backend cpu, Func<string, bool> onCpu) : Ops.InterceptingBackend(inner)
    {
        protected override void Op(string name, string shape, DeviceBuffer?[] reads, DeviceBuffer[] writes, Action<Backend, Func<DeviceBuffer, DeviceBuffer>> run)
        {
            if (!onCpu(name)) { run(Inner, b => b); return; }
            var map = new Dictionary<DeviceBuffer, DeviceBuffer>(ReferenceEqualityComparer.Instance);
            foreach (var b in reads.Concat(writes))
            {
                if (b is null || map.ContainsKey(b)) continue;
                var host = new float[b.Length];
                Inner.Download(b, host);
                var c = cpu.Allocate(b.Length);
                cpu.Upload(host, c);
                map[b] = c;
            }
            run(cpu, b => map[b]);
            foreach (var w in writes)
            {
                var host = new float[w.Length];
                cpu.Download(map[w], host);
                Inner.Upload(host, w);
            }
            foreach (var c in map.Values) c.Dispose();
        }
    }

    [TestCase("Conv"), TestCase("Conv2dForward"), TestCase("Conv2dBackwardData"), TestCase("Conv2dBackwardWeight"), TestCase("GroupNorm"),
     TestCase("Gemm|Window|Relative"), TestCase("Activation|Add|Mul|Scale|Sum|Copy|Fill|Pool|Upsample")]
    public void GradXWithGroupOnCpu(string group)
    {
        var prefixes = group.Split('|');
        using var il = TestDevices.OpenOrSkip("opencl:0");
        using var cpu = new CpuBackend();
        var hybrid = new Hybrid(il, cpu, name => prefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)));
        TestContext.Out.WriteLine($"{group} on the CPU: grad.x rel L2 {Gpu.OpenClOpErrorSurvey.GoldenGradXError(hybrid):E2}");
    }
}
