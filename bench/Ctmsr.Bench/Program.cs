using BenchmarkDotNet.Running;
using Ctmsr.Bench;

// `quick` prints a Markdown table in seconds; anything else goes to BenchmarkDotNet
// (e.g. `-- --filter *Gemm*`, `-- --list flat`).
if (args.Length > 0 && args[0] == "quick") return Quick.Run(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(Quick).Assembly).Run(args);
return 0;
