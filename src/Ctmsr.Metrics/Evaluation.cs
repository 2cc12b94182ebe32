using System.Globalization;
using System.Text;
using Ctmsr.Imaging;

namespace Ctmsr.Metrics;

/// <summary>One image to score: its name, how to get the SR image and (for full-reference metrics) the ground truth.
/// The SR source is a function so that a caller can produce it on the fly (e.g. upscale an LQ image with a model).
/// Baseline, when given, is a second candidate scored the same way beside it (the bicubic upsampling of the LQ image).</summary>
public sealed record EvalItem(string Name, Func<Image> Sr, Func<Image>? Gt, Func<Image>? Baseline = null);

/// <summary>Scores of one image; a metric that was not computed is null. Bicubic holds the baseline's scores, when scored.
/// Niqe is NaN ("n/a") for an image smaller than NIQE's 96x96 block; Error is set (and the scores null) for an image that
/// could not be scored. Perceptual is the ResNet18 perceptual distance (<see cref="PerceptualScorer"/>).</summary>
public sealed record ImageScores(string Name, double? PsnrY, double? SsimY, double? LpipsAlex, double? Niqe, ImageScores? Bicubic = null, string? Error = null, double? Perceptual = null);

/// <summary>Which metrics to compute: PSNR/SSIM need a ground truth, LPIPS a loaded scorer, NIQE a pristine model.</summary>
public sealed record EvalMetrics(bool FullReference, LpipsScorer? Lpips, NiqeModel? Niqe, int CropBorder = 0, PerceptualScorer? Perceptual = null);

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

    /// <summary>
    /// Pairs every LQ image of <paramref name="lqDir"/> with its ground truth (as <see cref="PairDirectories"/>) for
    /// upscale-and-score: SR is <paramref name="upscale"/> of the LQ image, the baseline its bicubic x<paramref name="scale"/>
    /// (PyTorch bicubic, clamped). The LQ image is decoded when the item is scored, not before.
    /// </summary>
    public static List<EvalItem> PairLq(string lqDir, string? gtDir, Func<Image, Image> upscale, int scale) =>
        PairDirectories(lqDir, gtDir).Select(i => i with
        {
            Sr = () => upscale(i.Sr()),
            Baseline = () => Imaging.Resampling.Upsample.Bicubic(i.Sr(), scale),
        }).ToList();

    public static ImageScores Score(EvalItem item, EvalMetrics m)
    {
        var sr = item.Sr();
        Image? gt = null;
        if (m.FullReference || m.Lpips is not null || m.Perceptual is not null)
        {
            if (item.Gt is null) throw new ArgumentException($"{item.Name}: full-reference metrics need a ground truth; pass --gt");
            gt = item.Gt();
        }
        var scores = ScoreOne(item.Name, sr, gt, m);
        return item.Baseline is null ? scores : scores with { Bicubic = ScoreOne(item.Name, item.Baseline(), gt, m) };
    }

    static ImageScores ScoreOne(string name, Image sr, Image? gt, EvalMetrics m)
    {
        double? psnr = null, ssim = null, lpips = null, niqe = null, perceptual = null;
        if (gt is not null)
        {
            if (gt.Width != sr.Width || gt.Height != sr.Height)
                throw new ArgumentException($"{name}: SR is {sr.Width}x{sr.Height} but GT is {gt.Width}x{gt.Height}; compare outputs with ground truth of the same size");
            if (m.FullReference) { psnr = Psnr.Y(sr, gt, m.CropBorder); ssim = Ssim.Y(sr, gt, m.CropBorder); }
            if (m.Lpips is not null) lpips = m.Lpips.Score(sr, gt);
            if (m.Perceptual is not null) perceptual = m.Perceptual.Score(sr, gt);
        }
        if (m.Niqe is not null)
            niqe = Math.Min(sr.Width, sr.Height) - 2 * m.CropBorder < Niqe.BlockSize ? double.NaN : Niqe.Of(sr, m.Niqe, m.CropBorder);
        return new ImageScores(name, psnr, ssim, lpips, niqe, Perceptual: perceptual);
    }

    /// <summary>The mean of each computed metric over the rows (BasicSR's average of per-image values).</summary>
    public static ImageScores Mean(IReadOnlyList<ImageScores> rows)
    {
        static double? Avg(IEnumerable<double?> v) { var l = v.Where(x => x.HasValue && !double.IsNaN(x.Value)).Select(x => x!.Value).ToList(); return l.Count == 0 ? null : l.Average(); }
        rows = rows.Where(r => r.Error is null).ToList();
        var bic = rows.Select(r => r.Bicubic).OfType<ImageScores>().ToList();
        return new ImageScores("mean", Avg(rows.Select(r => r.PsnrY)), Avg(rows.Select(r => r.SsimY)), Avg(rows.Select(r => r.LpipsAlex)), Avg(rows.Select(r => r.Niqe)),
            bic.Count == 0 ? null : Mean(bic), Perceptual: Avg(rows.Select(r => r.Perceptual)));
    }

    /// <summary>CSV with a header of the computed metrics, one row per image and a final "mean" row; the baseline's
    /// scores, when present, follow as bicubic_* columns.</summary>
    public static string ToCsv(IReadOnlyList<ImageScores> rows)
    {
        var cols = new List<(string name, Func<ImageScores, double?> get, string fmt)>();
        var metrics = new (string name, Func<ImageScores, double?> get, string fmt)[]
        {
            ("psnr_y", r => r.PsnrY, "F4"), ("ssim_y", r => r.SsimY, "F6"), ("lpips_alex", r => r.LpipsAlex, "F6"), ("niqe", r => r.Niqe, "F4"),
            ("perceptual_resnet18", r => r.Perceptual, "F6"),
        };
        foreach (var c in metrics)
            if (rows.Any(r => c.get(r).HasValue)) cols.Add(c);
        foreach (var c in metrics)
            if (rows.Any(r => r.Bicubic is { } b && c.get(b).HasValue)) cols.Add(("bicubic_" + c.name, r => r.Bicubic is { } b ? c.get(b) : null, c.fmt));
        var sb = new StringBuilder();
        sb.Append("image");
        foreach (var c in cols) sb.Append(',').Append(c.name);
        bool hasErrors = rows.Any(r => r.Error is not null);
        if (hasErrors) sb.Append(",error");
        sb.Append('\n');
        foreach (var r in rows.Append(Mean(rows)))
        {
            sb.Append(Quote(r.Name));
            foreach (var c in cols)
            {
                var v = c.get(r);
                sb.Append(',').Append(v is null ? "" : double.IsNaN(v.Value) ? "n/a" : double.IsPositiveInfinity(v.Value) ? "inf" : v.Value.ToString(c.fmt, CultureInfo.InvariantCulture));
            }
            if (hasErrors) sb.Append(',').Append(r.Error is null ? "" : Quote(r.Error));
            sb.Append('\n');
        }
        return sb.ToString();
    }

    static string Quote(string s) => s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
