using System.Text;
using Ctmsr.Train.Degradation;
using Ctmsr.Imaging;

namespace Ctmsr.Train.Data;

/// <summary>One exported training pair, 8-bit RGB: the HR crop, its degraded LR image and the bicubic x4 of the LR.</summary>
public sealed record ExportedPair(Image Gt, Image Lq, Image LqUp);

/// <summary>
/// Writes the pairs the model trains on to disk (`ctmsr degrade`): for each HR image a crop as <see cref="FolderDataset"/>
/// takes it (reflect-101 padding when smaller) and its Real-ESRGAN degradation (spec section 7), saved as
/// OUT/gt/NAME.png, OUT/lq/NAME.png and OUT/lq_up/NAME.png, the layout `train --val` and `eval --lq/--gt` read.
/// The randomness of a file is a pure function of (seed, its path relative to the input folder), so a file's
/// pair does not change when other files are added, removed, or processed in another order.
/// </summary>
public static class PairExport
{
    public static readonly string[] Folders = ["gt", "lq", "lq_up"];

    /// <summary>The seed of one file: the run seed mixed with a 64-bit FNV-1a hash of its relative path ('/' separators).</summary>
    public static ulong FileSeed(ulong seed, string relativePath)
    {
        ulong h = 0xCBF29CE484222325UL;
        foreach (byte b in Encoding.UTF8.GetBytes(relativePath.Replace('\\', '/'))) { h ^= b; h *= 0x100000001B3UL; }
        return SeedMix.Mix(seed, 0x6465677261646500UL, h);
    }

    /// <summary>
    /// The pair of one HR image. <paramref name="crop"/> &gt; 0 takes a random crop x crop (a multiple of the scale);
    /// 0 keeps the whole image, trimmed at the bottom/right to a multiple of the scale.
    /// </summary>
    public static ExportedPair Make(Image hr, int crop, ulong fileSeed, RealEsrganDegradation degradation)
    {
        int s = degradation.Settings.Scale;
        if (crop < 0 || crop % s != 0) throw new ArgumentException($"--crop {crop} must be 0 (whole image) or a positive multiple of the scale {s}, e.g. 256");
        var rgb = hr.WithoutAlpha().ToRgb();
        float[] gt; int h, w;
        if (crop > 0)
        {
            var (top, left) = CropSampler.Corner(rgb.Height, rgb.Width, crop, SeedMix.Mix(fileSeed, 1));
            gt = CropSampler.Crop(rgb.Data, rgb.Height, rgb.Width, top, left, crop);
            h = w = crop;
        }
        else
        {
            h = rgb.Height / s * s; w = rgb.Width / s * s;
            if (h == 0 || w == 0) throw new ArgumentException($"the image is {rgb.Width}x{rgb.Height}, smaller than the scale {s}; use --crop to pad it");
            gt = new float[3 * h * w];
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < h; y++) Array.Copy(rgb.Data, (c * rgb.Height + y) * rgb.Width, gt, (c * h + y) * w, w);
        }
        var pair = degradation.Apply(gt, h, w, SeedMix.Mix(fileSeed, 2));
        return new ExportedPair(new Image(w, h, 3, 8, gt), new Image(pair.LqWidth, pair.LqHeight, 3, 8, pair.Lq), new Image(w, h, 3, 8, pair.LqUp));
    }

    /// <summary>The three output paths of an input file (its relative path with a .png extension under each folder).</summary>
    public static string[] OutputPaths(string outDir, string relativePath)
    {
        string rel = Path.ChangeExtension(relativePath, ".png");
        return Folders.Select(f => Path.Combine(outDir, f, rel)).ToArray();
    }

    /// <summary>Decodes, degrades and writes one file (each output atomically); returns the output paths.</summary>
    public static string[] Export(string inDir, string file, string outDir, int crop, ulong seed, RealEsrganDegradation degradation)
    {
        string rel = Path.GetRelativePath(inDir, file);
        var pair = Make(ImageCodec.Decode(file), crop, FileSeed(seed, rel), degradation);
        var paths = OutputPaths(outDir, rel);
        ImageCodec.Save(pair.Gt, paths[0], 8);
        ImageCodec.Save(pair.Lq, paths[1], 8);
        ImageCodec.Save(pair.LqUp, paths[2], 8);
        return paths;
    }
}
