using System.CommandLine;
using System.Globalization;
using Ctmsr.Imaging;
using Ctmsr.Kernels.Cpu;

namespace Ctmsr.Cli;

/// <summary>`--threads N`: the most worker threads the CPU kernels and ImageSharp's codecs use (default: every
/// processor). Results do not depend on it; it leaves cores to other work.</summary>
static class ThreadsOption
{
    public static Option<string?> Create() => new("--threads") { Description = $"CPU worker threads for the CPU kernels and image codecs, at least 1 (default: all {Environment.ProcessorCount}); results are the same for any count" };

    /// <summary>Sets the caps from the option; a value that is not a whole number >= 1 is a usage error (exit 2).</summary>
    public static void Apply(ParseResult r, Option<string?> option)
    {
        if (r.GetValue(option) is not { } s) return;
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) || n < 1)
            throw new ArgumentException($"--threads {s}: expected a whole number >= 1 (worker threads; default all {Environment.ProcessorCount})");
        CpuThreads.Limit = n;
        ImageCodec.Threads = n;
    }
}
