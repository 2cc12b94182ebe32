using System.CommandLine;
using System.Diagnostics;
using Ctmsr.Train.Data;
using Ctmsr.Train.Degradation;
using Ctmsr.Imaging;

namespace Ctmsr.Cli.Verbs;

/// <summary>`ctmsr degrade IN_DIR OUT_DIR [--seed S] [--crop 256] [--recursive]`: writes the training pairs (gt crop, lq, lq_up) of a folder.</summary>
static class DegradeVerb
{
    public static Command Create()
    {
        var input = new Argument<DirectoryInfo>("in-dir") { Description = "folder of HR images (PNG, JPEG)" };
        var output = new Argument<DirectoryInfo>("out-dir") { Description = "where gt/, lq/ and lq_up/ are written (PNG, same relative names)" };
        var seed = new Option<ulong>("--seed") { Description = "degradation seed (default 0); a file's pair depends only on the seed and its relative path" };
        var crop = new Option<int>("--crop") { Description = "HR crop size, a multiple of 4 (256 as in training); 0 keeps the whole image", DefaultValueFactory = _ => 256 };
        var recursive = new Option<bool>("--recursive") { Description = "walk sub-folders, mirroring them under each output folder" };
        var cmd = new Command("degrade", "write Real-ESRGAN training pairs (gt crop, lq, bicubic lq_up) of a folder of HR images, deterministic per seed")
            { input, output, seed, crop, recursive };
        cmd.SetGuardedAction(r =>
        {
            var inDir = r.GetValue(input)!; var outDir = r.GetValue(output)!;
            int c = r.GetValue(crop);
            var degradation = new RealEsrganDegradation(ImageCodec.JpegRoundTrip);
            if (c < 0 || c % degradation.Settings.Scale != 0)
                throw new ArgumentException($"--crop {c} must be 0 (whole image) or a positive multiple of {degradation.Settings.Scale}, e.g. 256");
            var files = ImageFiles.List(inDir.FullName, r.GetValue(recursive));
            string outFull = Path.GetFullPath(outDir.FullName) + Path.DirectorySeparatorChar;
            files = files.Where(f => !f.StartsWith(outFull, StringComparison.Ordinal)).ToList(); // never re-read our own outputs
            ulong s = r.GetValue(seed);
            int done = 0, failed = 0;
            var sw = Stopwatch.StartNew();
            var gate = new object();
            Parallel.ForEach(files, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, f =>
            {
                try
                {
                    var paths = PairExport.Export(inDir.FullName, f, outDir.FullName, c, s, degradation);
                    lock (gate) { done++; Console.Error.WriteLine($"[{done + failed}/{files.Count}] {f} -> {paths[1]}"); }
                }
                catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
                {
                    lock (gate) { failed++; Console.Error.WriteLine($"ctmsr: error: {(e.Message.StartsWith(f, StringComparison.Ordinal) ? "" : f + ": ")}{e.Message}"); }
                }
            });
            Console.WriteLine($"{done} pairs written to {outDir.FullName}/{{gt,lq,lq_up}}, {failed} failed, in {sw.Elapsed.TotalSeconds:0.0} s (seed {s}, crop {(c == 0 ? "whole image" : c.ToString())})");
            return failed > 0 ? 1 : 0;
        });
        return cmd;
    }
}
