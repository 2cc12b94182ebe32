using System.CommandLine;
using Ctmsr.Cli.Verbs;

namespace Ctmsr.Cli;

static class Program
{
    static int Main(string[] args)
    {
        var root = new RootCommand("ctmsr: one-step generative x4 super-resolution (CTMSR) on a .NET tensor engine with CPU, OpenCL and CUDA backends");
        foreach (var verb in new[] { UpscaleVerb.Create(), VerifyVerb.Create(), ConvertVerb.Create(), DevicesVerb.Create(), EvalVerb.Create(), TrainVerb.Create(), DemoVerb.Create(), DegradeVerb.Create(), SelfCheckVerb.Create(), BenchVerb.Create() })
            root.Subcommands.Add(verb);
        try
        {
            return root.Parse(args).Invoke();
        }
        catch (Exception e)
        {
            return Fail.Report(e);
        }
    }
}
