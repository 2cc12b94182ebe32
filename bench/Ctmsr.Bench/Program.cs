using BenchmarkDotNet.Running;
using Ctmsr.Bench;

// `degrade` times the data pipeline (DegradationBench); `quick` prints a Markdown table in seconds; anything else goes to BenchmarkDotNet
// (e.g. `-- --filter *Gemm*`, `-- --list flat`).
if (args.Length > 0 && args[0] == "quick") return Quick.Run(args[1..]);
if (args.Length > 0 && args[0] == "forward") return ForwardTiming.Run(args[1..]);
if (args.Length > 0 && args[0] == "degrade") return DegradationBench.Run(args[1..]);
// `lab <kernel> [variant]`: numbered variants of a kernel, validated against the float64 reference, then timed (Lab/)
if (args.Length > 0 && args[0] == "lab") return Ctmsr.Bench.Lab.KernelLab.Run(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(Quick).Assembly).Run(args);
return 0;
