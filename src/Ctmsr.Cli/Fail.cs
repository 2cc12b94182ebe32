namespace Ctmsr.Cli;

/// <summary>Turns an exception into the one-line error users see (cause and fix) and an exit code.</summary>
static class Fail
{
    public static int Report(Exception e, string prefix = "")
    {
        while (e is AggregateException { InnerExceptions.Count: 1 } a) e = a.InnerExceptions[0];
        if (e is System.Reflection.TargetInvocationException { InnerException: { } inner }) e = inner;
        string msg = e.Message.ReplaceLineEndings(" ");
        Console.Error.WriteLine($"ctmsr: error: {prefix}{msg}");
        if (Environment.GetEnvironmentVariable("CTMSR_TRACE") == "1") Console.Error.WriteLine(e);
        return e is ArgumentException or FileNotFoundException or DirectoryNotFoundException ? 2 : 1;
    }
}

static class CommandExtensions
{
    /// <summary>Sets the verb's action with Ctmsr's error reporting (one line on stderr, non-zero exit) instead of a stack trace.</summary>
    public static void SetGuardedAction(this System.CommandLine.Command cmd, Func<System.CommandLine.ParseResult, int> action) =>
        cmd.SetAction(r =>
        {
            try { return action(r); }
            catch (Exception e) { return Fail.Report(e); }
        });
}
