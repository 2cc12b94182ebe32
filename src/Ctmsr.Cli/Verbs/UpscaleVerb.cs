using System.CommandLine;
using System.Diagnostics;
using Ctmsr.Train.Imaging;
using Ctmsr.Train.Inference;

namespace Ctmsr.Cli.Verbs;

/// <summary>`ctmsr upscale IN -o OUT --weights W [--device D] [--seed S] [--tile N --tile-stride M]`.</summary>
static class UpscaleVerb
{
    static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".ppm", ".pgm"];

    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "an image file or a folder of images" };
        var output = new Option<string>("-o", "--output") { Description = "output file (single input) or folder", Required = true };
        var weights = new Option<FileInfo>("--weights") { Description = "model weights: .safetensors or the official CTMSR.pth (params_ema is used)", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "noise seed (default 0)" };
        var tile = new Option<int>("--tile") { Description = "LR tile size for large inputs (default 512)", DefaultValueFactory = _ => 512 };
        var stride = new Option<int>("--tile-stride") { Description = "LR tile stride (default 448)", DefaultValueFactory = _ => 448 };
        var recursive = new Option<bool>("--recursive") { Description = "walk sub-folders, mirroring them under the output folder" };
        var overwrite = new Option<bool>("--overwrite") { Description = "replace outputs that exist (default: skip them)" };
        var device = DeviceOption.Create();
        var cmd = new Command("upscale", "x4 one-step super-resolution of images (PNG output, same base name)")
            { input, output, weights, seed, tile, stride, recursive, overwrite, device };
        cmd.SetGuardedAction(r =>
        {
            string inPath = r.GetValue(input)!, outPath = r.GetValue(output)!;
            var w = r.GetValue(weights)!;
            if (!w.Exists) throw new FileNotFoundException($"{w.FullName}: no such weights file (convert the official CTMSR.pth or pass it directly)");
            var jobs = new List<(string src, string dst)>();
            if (Directory.Exists(inPath))
            {
                var opt = r.GetValue(recursive) ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly;
                foreach (var f in Directory.EnumerateFiles(inPath, "*", opt).Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant())).Order(StringComparer.Ordinal))
                    jobs.Add((f, Path.Combine(outPath, Path.ChangeExtension(Path.GetRelativePath(inPath, f), ".png"))));
                if (jobs.Count == 0) throw new ArgumentException($"{inPath}: no images (png, jpg, jpeg, ppm, pgm) in this folder");
            }
            else if (File.Exists(inPath))
                jobs.Add((inPath, Directory.Exists(outPath) ? Path.Combine(outPath, Path.ChangeExtension(Path.GetFileName(inPath), ".png")) : outPath));
            else throw new FileNotFoundException($"{inPath}: no such file or folder");

            var sw = Stopwatch.StartNew();
            using var up = Upscaler.Load(w.FullName, DeviceOption.Open(r.GetValue(device)),
                new UpscaleOptions { Seed = r.GetValue(seed), Tile = r.GetValue(tile), TileStride = r.GetValue(stride) });
            Console.Error.WriteLine($"model {up.Config} on {up.DeviceName}, loaded in {sw.Elapsed.TotalSeconds:0.0} s");
            int done = 0, failed = 0, skipped = 0;
            double mpix = 0;
            var total = Stopwatch.StartNew();
            foreach (var (src, dst) in jobs)
            {
                if (File.Exists(dst) && !r.GetValue(overwrite)) { skipped++; continue; }
                try
                {
                    var t = Stopwatch.StartNew();
                    var img = ImageCodec.Decode(src);
                    var sr = up.Upscale(img);
                    ImageCodec.Save(sr, dst);
                    done++;
                    mpix += sr.Width * (double)sr.Height / 1e6;
                    Console.Error.WriteLine($"[{done + failed + skipped}/{jobs.Count}] {src} -> {dst} ({img.Width}x{img.Height} -> {sr.Width}x{sr.Height}, {t.ElapsedMilliseconds} ms)");
                }
                catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException)
                {
                    failed++;
                    Console.Error.WriteLine($"ctmsr: error: {src}: {e.Message}");
                }
            }
            double secs = total.Elapsed.TotalSeconds;
            Console.WriteLine($"{done} upscaled, {failed} failed, {skipped} skipped (exist; --overwrite to redo) in {secs:0.0} s, {(secs > 0 ? mpix / secs : 0):0.00} output megapixels/s");
            return failed > 0 ? 1 : 0;
        });
        return cmd;
    }
}
