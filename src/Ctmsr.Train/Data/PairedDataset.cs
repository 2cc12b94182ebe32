using Ctmsr.Imaging;
using Ctmsr.Imaging.Resampling;

namespace Ctmsr.Train.Data;

/// <summary>
/// Validation pairs: gt/ and lq/ folders matched by file name (the same name, else the same name without the
/// extension). gt must be exactly scale x lq. lq_up is the bicubic x scale upsampling of lq (not rounded, as at
/// inference).
/// </summary>
public sealed class PairedDataset : ISampleSource
{
    public IReadOnlyList<(string gt, string lq)> Pairs { get; }
    public int Scale { get; }

    public int Count => Pairs.Count;

    public PairedDataset(string gtFolder, string lqFolder, int scale = 4)
    {
        Scale = scale;
        var gts = ImageFiles.List(gtFolder);
        var lqs = ImageFiles.List(lqFolder);
        var byName = lqs.GroupBy(Path.GetFileName, StringComparer.Ordinal).ToDictionary(g => g.Key!, g => g.First(), StringComparer.Ordinal);
        var byStem = lqs.GroupBy(Path.GetFileNameWithoutExtension, StringComparer.Ordinal).ToDictionary(g => g.Key!, g => g.First(), StringComparer.Ordinal);
        var pairs = new List<(string, string)>();
        var unmatched = new List<string>();
        foreach (var g in gts)
        {
            if (byName.TryGetValue(Path.GetFileName(g), out var l) || byStem.TryGetValue(Path.GetFileNameWithoutExtension(g), out l)) pairs.Add((g, l));
            else unmatched.Add(Path.GetFileName(g));
        }
        if (pairs.Count == 0)
            throw new InvalidDataException($"no file of {gtFolder} has a namesake in {lqFolder}; gt and lq images must share their file names");
        Unmatched = unmatched;
        Pairs = pairs;
    }

    /// <summary>gt files without an lq namesake (skipped).</summary>
    public IReadOnlyList<string> Unmatched { get; }

    /// <summary>The pair at index % Count.</summary>
    public TrainSample Get(long index)
    {
        var (gp, lp) = Pairs[(int)(index % Count)];
        var gt = ImageCodec.Decode(gp).ToRgb();
        var lq = ImageCodec.Decode(lp).ToRgb();
        if (gt.Width != lq.Width * Scale || gt.Height != lq.Height * Scale)
            throw new InvalidDataException($"{gp} is {gt.Width}x{gt.Height} but its lq {lp} is {lq.Width}x{lq.Height}: gt must be exactly x{Scale} the lq size");
        var up = Resize.Apply(lq.Data, 3, lq.Height, lq.Width, gt.Height, gt.Width, ResizeMode.Bicubic, Scale, Scale);
        return new TrainSample(TrainSample.ToSigned((float[])gt.Data.Clone()), TrainSample.ToSigned((float[])lq.Data.Clone()),
            TrainSample.ToSigned(up), gt.Height, gt.Width, Scale, gp);
    }
}
