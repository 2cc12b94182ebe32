using System.Globalization;
using System.Text;
using Ctmsr.Train.Imaging;

namespace Ctmsr.Train.Metrics;

/// <summary>One image to score: its name, how to get the SR image and (for full-reference metrics) the ground truth.
/// The SR source is a function so that a caller can produce it on the fly (e.g. upscale an LQ image with a model).</summary>
public sealed record EvalItem(string Name, Func<Image> Sr, Func<Image>? Gt);

/// <summary>The scores of one image; a metric that was not computed is null.</summary>
public sealed record ImageScores(string Name, double? PsnrY, double? SsimY, double? LpipsAlex, double? Niqe);

/// <summary>Which metrics to compute: PSNR/SSIM need a ground truth, LPIPS a loaded scorer, NIQE a pristine model.</summary>
public sealed record EvalMetrics(bool FullReference, LpipsScorer? Lpips, NiqeModel? Niqe, int CropBorder = 0);

/// <summary>Scores directories of images and writes the per-image table with a mean row.</summary>
public static class Evaluation
{
    /// <summary>The decodable images of a directory, sorted by name (ordinal).</summary>
    public static string[] ImageFiles(string dir)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"{dir}: no such directory; pass the folder that holds the images");
        var files = Directory.GetFiles(dir).Where(f => ImageCodec.FormatOfExtension(f) != ImageCodec.Format.Unknown)
            .OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal).ToArray();
        if (files.Length == 0) throw new FileNotFoundException($"{dir} holds no PNG, JPEG or PNM images; pass the folder with the images to score");
        return files;
    }

    /// <summary>
    /// Pairs every image of <paramref name="srDir"/> with the ground truth of the same file name in <paramref name="gtDir"/>
    /// (or, failing that, the same name without extension); without a gt directory the items are no-reference.
    /// </summary>
    public static List<EvalItem> PairDirectories(string srDir, string? gtDir)
    {
        var items = new List<EvalItem>();
        Dictionary<string, string>? byStem = null;
        if (gtDir is not null)
        {
            var gts = ImageFiles(gtDir);
            byStem = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var g in gts) byStem.TryAdd(Path.GetFileNameWithoutExtension(g), g);
        }
        foreach (var sr in ImageFiles(srDir))
        {
            string name = Path.GetFileName(sr);
            Func<Image>? gt = null;
            if (gtDir is not null)
            {
                string exact = Path.Combine(gtDir, name);
                string gtPath = File.Exists(exact) ? exact
                    : byStem!.TryGetValue(Path.GetFileNameWithoutExtension(name), out var g) ? g
                    : throw new FileNotFoundException($"no ground truth for {name} in {gtDir}; SR and GT images are paired by file name");
                gt = () => ImageCodec.Decode(gtPath);
            }
            items.Add(new EvalItem(name, () => ImageCodec.Decode(sr), gt));
        }
        return items;
    }

    public static ImageScores Score(EvalItem item, EvalMetrics m)
    {
        var sr = item.Sr();
        double? psnr = null, ssim = null, lpips = null, niqe = null;
        if (m.FullReference || m.Lpips is not null)
        {
            if (item.Gt is null) throw new ArgumentException($"{item.Name}: full-reference metrics need a ground truth; pass --gt");
            var gt = item.Gt();
            if (gt.Width != sr.Width || gt.Height != sr.Height)
                throw new ArgumentException($"{item.Name}: SR is {sr.Width}x{sr.Height} but GT is {gt.Width}x{gt.Height}; compare outputs with ground truth of the same size");
            if (m.FullReference) { psnr = Psnr.Y(sr, gt, m.CropBorder); ssim = Ssim.Y(sr, gt, m.CropBorder); }
            if (m.Lpips is not null) lpips = m.Lpips.Score(sr, gt);
        }
        if (m.Niqe is not null) niqe = Niqe.Of(sr, m.Niqe, m.CropBorder);
        return new ImageScores(item.Name, psnr, ssim, lpips, niqe);
    }

    /// <summary>The mean of each computed metric over the rows (BasicSR's average of per-image values).</summary>
    public static ImageScores Mean(IReadOnlyList<ImageScores> rows)
    {
        static double? Avg(IEnumerable<double?> v) { var l = v.Where(x => x.HasValue).Select(x => x!.Value).ToList(); return l.Count == 0 ? null : l.Average(); }
        return new ImageScores("mean", Avg(rows.Select(r => r.PsnrY)), Avg(rows.Select(r => r.SsimY)), Avg(rows.Select(r => r.LpipsAlex)), Avg(rows.Select(r => r.Niqe)));
    }

    /// <summary>CSV with a header of the computed metrics, one row per image and a final "mean" row.</summary>
    public static string ToCsv(IReadOnlyList<ImageScores> rows)
    {
        var cols = new List<(string name, Func<ImageScores, double?> get, string fmt)>();
        if (rows.Any(r => r.PsnrY.HasValue)) cols.Add(("psnr_y", r => r.PsnrY, "F4"));
        if (rows.Any(r => r.SsimY.HasValue)) cols.Add(("ssim_y", r => r.SsimY, "F6"));
        if (rows.Any(r => r.LpipsAlex.HasValue)) cols.Add(("lpips_alex", r => r.LpipsAlex, "F6"));
        if (rows.Any(r => r.Niqe.HasValue)) cols.Add(("niqe", r => r.Niqe, "F4"));
        var sb = new StringBuilder();
        sb.Append("image");
        foreach (var c in cols) sb.Append(',').Append(c.name);
        sb.Append('\n');
        foreach (var r in rows.Append(Mean(rows)))
        {
            sb.Append(Quote(r.Name));
            foreach (var c in cols)
            {
                var v = c.get(r);
                sb.Append(',').Append(v is null ? "" : double.IsPositiveInfinity(v.Value) ? "inf" : v.Value.ToString(c.fmt, CultureInfo.InvariantCulture));
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    static string Quote(string s) => s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
