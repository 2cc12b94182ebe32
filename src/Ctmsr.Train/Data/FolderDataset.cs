using System.Collections.Concurrent;
using Ctmsr.Train.Degradation;
using Ctmsr.Imaging;

namespace Ctmsr.Train.Data;

/// <summary>
/// HR images of a folder (recursive), cropped at random (reflect-101 padding when smaller) and degraded on the
/// fly with the Real-ESRGAN pipeline (spec section 7). Sample g of a run is a pure function of (seed, g):
/// epoch g / M visits the M files in a seeded permutation, the crop corner and the degradation draw their own
/// seeds from (seed, g). A file that cannot be decoded is skipped (the next file of the permutation takes its
/// place), remembered and reported by <see cref="BadFileSummary"/>.
/// </summary>
public sealed class FolderDataset : ISampleSource
{
    readonly RealEsrganDegradation _degrade;
    readonly ConcurrentDictionary<string, string> _bad = new(StringComparer.Ordinal);
    readonly object _permLock = new();
    readonly Dictionary<long, int[]> _perms = new();

    public string Folder { get; }
    public IReadOnlyList<string> Files { get; }
    public int Crop { get; }
    public int Scale { get; }
    public ulong Seed { get; }

    /// <summary>Files that failed to decode so far, with the reason.</summary>
    public IReadOnlyDictionary<string, string> BadFiles => _bad;

    /// <summary>Called once per newly found bad file (path, reason).</summary>
    public Action<string, string>? OnBadFile { get; set; }

    public FolderDataset(string folder, int crop = 256, ulong seed = 0, RealEsrganDegradation? degradation = null)
    {
        _degrade = degradation ?? new RealEsrganDegradation(ImageCodec.JpegRoundTrip);
        Scale = _degrade.Settings.Scale;
        if (crop <= 0 || crop % Scale != 0)
            throw new ArgumentException($"crop size {crop} must be a positive multiple of the scale {Scale} (e.g. 256)");
        Folder = folder; Crop = crop; Seed = seed;
        Files = ImageFiles.List(folder);
        ProbeOne();
    }

    /// <summary>Decodes files in order until one works, so a folder of unreadable files fails now, clearly.</summary>
    void ProbeOne()
    {
        foreach (var f in Files)
            if (TryLoad(f) is not null) return;
        var first = _bad.OrderBy(kv => kv.Key, StringComparer.Ordinal).First();
        throw new InvalidDataException($"none of the {Files.Count} image files in {Folder} could be decoded (e.g. {first.Value}); check that the folder holds valid PNG/JPEG images");
    }

    public int[] Permutation(long epoch)
    {
        lock (_permLock)
        {
            if (_perms.TryGetValue(epoch, out var p)) return p;
            p = Enumerable.Range(0, Files.Count).ToArray();
            var rng = new DegradationRandom(SeedMix.Mix(Seed, 0x7065726DUL, (ulong)epoch));
            for (int i = p.Length - 1; i > 0; i--) { int j = rng.NextInt(i + 1); (p[i], p[j]) = (p[j], p[i]); }
            if (_perms.Count >= 4) _perms.Remove(_perms.Keys.Min());
            _perms[epoch] = p;
            return p;
        }
    }

    Image? TryLoad(string path)
    {
        if (_bad.ContainsKey(path)) return null;
        try
        {
            return ImageCodec.Decode(path).ToRgb();
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException)
        {
            if (_bad.TryAdd(path, e.Message)) OnBadFile?.Invoke(path, e.Message);
            return null;
        }
    }

    public TrainSample Get(long index)
    {
        if (index < 0) throw new ArgumentOutOfRangeException(nameof(index), index, "sample index must be >= 0");
        int m = Files.Count;
        Image? img = null; string file = "";
        var perm = Permutation(index / m);
        int pos = (int)(index % m);
        for (int t = 0; t < m && img is null; t++)
        {
            // a bad file's place goes to the next file of the same epoch's permutation (all files get tried)
            file = Files[perm[(pos + t) % m]];
            img = TryLoad(file);
        }
        if (img is null)
            throw new InvalidDataException($"every image file in {Folder} failed to decode ({_bad.Count} bad files); check the data folder");
        var (top, left) = CropSampler.Corner(img.Height, img.Width, Crop, SeedMix.Mix(Seed, 1, (ulong)index));
        var hr = CropSampler.Crop(img.Data, img.Height, img.Width, top, left, Crop);
        var pair = _degrade.Apply(hr, Crop, Crop, SeedMix.Mix(Seed, 2, (ulong)index));
        return new TrainSample(TrainSample.ToSigned(hr), TrainSample.ToSigned(pair.Lq), TrainSample.ToSigned(pair.LqUp), Crop, Crop, Scale, file);
    }

    /// <summary>One line on the bad files met so far, or null when there were none.</summary>
    public string? BadFileSummary()
    {
        if (_bad.IsEmpty) return null;
        var names = _bad.Keys.OrderBy(k => k, StringComparer.Ordinal).Take(3).Select(Path.GetFileName);
        return $"{_bad.Count} of {Files.Count} image files in {Folder} could not be decoded and were skipped (e.g. {string.Join(", ", names)})";
    }
}
