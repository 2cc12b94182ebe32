using Ctmsr.Imaging;

namespace Ctmsr.Inference;

/// <summary>One input file and the output it is written to.</summary>
public sealed record BatchJob(string Input, string Output);

/// <summary>A batch event: Kind "start" (Index/Total, Input), "tile" (Progress), "notice" (Message), "done" /
/// "skipped" / "failed" (Result).</summary>
public sealed record BatchEvent(string Kind, int Index, int Total, string Input, UpscaleFileResult? Result = null,
    UpscaleProgress? Progress = null, string? Message = null);

/// <summary>The outcome of a batch; ExitCode is 0 when no file failed, else 1.</summary>
public sealed record BatchSummary(int Done, int Skipped, int Failed, double Ms, IReadOnlyList<UpscaleFileResult> Items)
{
    public int ExitCode => Failed > 0 ? 1 : 0;
}

/// <summary>
/// Folder and single-file runs of an <see cref="Upscaler"/>: which files to read (images by extension; everything else,
/// including hidden temporaries, is ignored), where their outputs go (the input tree mirrored under the output folder,
/// extension of the output format), and a run that reports each file and goes on after a file fails.
/// </summary>
public static class UpscaleBatch
{
    /// <summary>
    /// Jobs for <paramref name="input"/>: a folder gives one job per image in it (in its sub-folders too when
    /// <paramref name="recursive"/>, mirrored under <paramref name="output"/>), sorted by path; files under the output
    /// folder are left out when it lies inside the input folder. A file gives one job, written to
    /// <paramref name="output"/> itself, or into it when it is an existing folder or ends with a separator.
    /// Throws ArgumentException (usage) for a folder with no images and FileNotFoundException for a missing input.
    /// </summary>
    public static IReadOnlyList<BatchJob> Plan(string input, string output, bool recursive, OutputFormat format)
    {
        string ext = SaveOptions.Extension(format);
        if (Directory.Exists(input))
        {
            if (File.Exists(output)) throw new ArgumentException($"{output} is a file, but the input {input} is a folder: give an output folder");
            string inFull = Path.GetFullPath(input), outFull = Path.GetFullPath(output);
            string outPrefix = Path.TrimEndingDirectorySeparator(outFull) + Path.DirectorySeparatorChar;
            var jobs = Directory.EnumerateFiles(inFull, "*", new EnumerationOptions
                {
                    RecurseSubdirectories = recursive, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.Hidden,
                    MatchType = MatchType.Simple,
                })
                .Where(IsImageName)
                .Where(f => !f.StartsWith(outPrefix, StringComparison.Ordinal))
                .Order(StringComparer.Ordinal)
                .Select(f => new BatchJob(f, Path.Combine(outFull, Path.ChangeExtension(Path.GetRelativePath(inFull, f), ext))))
                .ToList();
            // a.png and a.jpg side by side would both become a.png: every input of such a group is named after its
            // source extension too (a-png.png, a-jpg.png), so a name never depends on which file came first
            var clash = jobs.GroupBy(j => j.Output, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
            for (int i = 0; i < jobs.Count; i++)
                if (clash.Contains(jobs[i].Output))
                {
                    string rel = Path.GetRelativePath(inFull, jobs[i].Input);
                    string stem = Path.ChangeExtension(rel, null) + "-" + Path.GetExtension(rel).TrimStart('.').ToLowerInvariant();
                    jobs[i] = jobs[i] with { Output = Path.Combine(outFull, stem + ext) };
                }
            if (jobs.Count == 0)
                throw new ArgumentException($"{input}: no images ({string.Join(", ", ImageCodec.InputExtensions.Select(e => e.TrimStart('.')))}) in this folder{(recursive ? " or below" : "; add --recursive for sub-folders")}");
            return jobs;
        }
        if (input == "-") return [new BatchJob("-", output)]; // standard input
        if (!File.Exists(input)) throw new FileNotFoundException($"{input}: no such file or folder", input);
        bool intoFolder = Directory.Exists(output) || output.EndsWith(Path.DirectorySeparatorChar) || output.EndsWith(Path.AltDirectorySeparatorChar);
        return [new BatchJob(input, intoFolder ? Path.Combine(output, Path.ChangeExtension(Path.GetFileName(input), ext)) : output)];
    }

    /// <summary>Files in the <paramref name="input"/> folder that a run leaves out because they are not images this tool
    /// reads (hidden files and temporaries aside), sorted; empty for a file input.</summary>
    public static IReadOnlyList<string> Unsupported(string input, bool recursive) => !Directory.Exists(input) ? [] :
        Directory.EnumerateFiles(input, "*", new EnumerationOptions { RecurseSubdirectories = recursive, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.Hidden })
            .Where(f => !Path.GetFileName(f).StartsWith('.') && !IsImageName(f))
            .Order(StringComparer.Ordinal).ToList();

    /// <summary>Throws IOException naming the first output folder of <paramref name="jobs"/> where no file can be
    /// created, so a read-only destination is found before any image is computed.</summary>
    public static void CheckWritable(IReadOnlyList<BatchJob> jobs)
    {
        foreach (var dir in jobs.Where(j => j.Output != "-").Select(j => Path.GetDirectoryName(Path.GetFullPath(j.Output))!).Distinct(StringComparer.Ordinal))
            if (!Ctmsr.Kernels.AtomicFile.CanWriteIn(dir, out var why))
                throw new IOException($"{dir}: cannot write the outputs here ({why}): choose another -o or fix the folder's permissions");
    }

    /// <summary>True for a file name whose extension names a format the codecs read, and that is not hidden.</summary>
    public static bool IsImageName(string path) =>
        !Path.GetFileName(path).StartsWith('.') && ImageCodec.FormatOfExtension(path) != ImageCodec.Format.Unknown;

    /// <summary>Runs the jobs in order. A file that fails (bad image, write error, device error) is reported and the
    /// batch goes on; cancellation stops it between tiles and propagates. No output is left half-written.</summary>
    public static async Task<BatchSummary> RunAsync(Upscaler upscaler, IReadOnlyList<BatchJob> jobs, SaveOptions save,
        IProgress<BatchEvent>? events = null, CancellationToken ct = default)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var items = new List<UpscaleFileResult>();
        int done = 0, skipped = 0, failed = 0;
        for (int i = 0; i < jobs.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            var (src, dst) = jobs[i];
            int index = i;
            events?.Report(new BatchEvent("start", index, jobs.Count, src));
            var tileEvents = events is null ? null : new SyncProgress<UpscaleProgress>(p =>
                events.Report(p.Kind == "tile" ? new BatchEvent("tile", index, jobs.Count, src, Progress: p)
                                               : new BatchEvent("notice", index, jobs.Count, src, Progress: p, Message: p.Message)));
            var t = System.Diagnostics.Stopwatch.StartNew();
            UpscaleFileResult r;
            try
            {
                r = await upscaler.UpscaleFileAsync(src, dst, save, tileEvents, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                r = new UpscaleFileResult(src, dst, "failed", t.Elapsed.TotalMilliseconds, Error: e.Message.ReplaceLineEndings(" "));
            }
            if (r.Notice is not null && r.Status == "done") events?.Report(new BatchEvent("notice", index, jobs.Count, src, Message: r.Notice));
            switch (r.Status)
            {
                case "done": done++; break;
                case "skipped": skipped++; break;
                default: failed++; break;
            }
            items.Add(r);
            events?.Report(new BatchEvent(r.Status, index, jobs.Count, src, r));
        }
        return new BatchSummary(done, skipped, failed, sw.Elapsed.TotalMilliseconds, items);
    }
}

/// <summary>An IProgress that calls its handler on the reporting thread, in order (Progress&lt;T&gt; posts to the thread
/// pool, which can reorder lines of a JSON event stream).</summary>
public sealed class SyncProgress<T>(Action<T> handler) : IProgress<T>
{
    public void Report(T value) => handler(value);
}
