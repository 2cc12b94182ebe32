using System.CommandLine;
using Ctmsr.Cli.Verbs;

namespace Ctmsr.Cli;

static class Program
{
    static int Main(string[] args)
    {
        var root = new RootCommand("ctmsr: one-step generative x4 super-resolution (CTMSR) on a .NET tensor engine with CPU, OpenCL and CUDA backends");
        foreach (var verb in new[] { UpscaleVerb.Create(), VerifyVerb.Create(), ConvertVerb.Create(), DevicesVerb.Create(), EvalVerb.Create(), TrainVerb.Create(), DemoVerb.Create(), DegradeVerb.Create(), SelfCheckVerb.Create(), BenchVerb.Create(), TrajectoryVerb.Create() })
            root.Subcommands.Add(verb);
        try
        {
            var parsed = root.Parse(args);
            // Usage errors (missing argument, unknown option or command): one line on stderr and exit 2, like every
            // other error here, instead of System.CommandLine's help dump and exit 1. Help and --version still print.
            if (parsed.Errors.Count > 0)
            {
                var path = new List<string>();
                for (var c = parsed.CommandResult; c is not null && c.Command != root; c = c.Parent as System.CommandLine.Parsing.CommandResult)
                    path.Insert(0, c.Command.Name);
                string verb = string.Concat(path.Select(n => " " + n));
                var error = parsed.Errors.FirstOrDefault(e => !e.Message.StartsWith("Required command", StringComparison.Ordinal)) ?? parsed.Errors[0];
                string what = args.Length == 0 ? "no command given" : error.Message.TrimEnd('.');
                Console.Error.WriteLine($"ctmsr: error: {what}; see 'ctmsr{verb} --help'{(args.Length == 0 ? " (start with 'ctmsr demo')" : "")}");
                return 2;
            }
            return parsed.Invoke();
        }
        catch (Exception e)
        {
            return Fail.Report(e);
        }
    }
}
