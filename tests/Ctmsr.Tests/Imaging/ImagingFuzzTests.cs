using System.Buffers.Binary;
using System.Diagnostics;
using Ctmsr.Imaging;

namespace Ctmsr.Tests.Imaging;

/// <summary>Mutation fuzzing of the decoders: random bit flips, byte overwrites, truncations, insertions, deletions
/// and chunk-CRC repair of small valid files. Every outcome must be a decoded image or an ImageFormatException.</summary>
public class ImagingFuzzTests
{
    static List<(string Name, byte[] Bytes)> Seeds()
    {
        var files = new List<string>();
        foreach (var dir in new[] { "data/RealSet65", "data/ValSR/lq" })
            files.AddRange(Directory.GetFiles(SharedData.Path_(dir)));
        var bySize = files.Select(f => (Name: f, Bytes: File.ReadAllBytes(f))).OrderBy(s => s.Bytes.Length).ThenBy(s => s.Name, StringComparer.Ordinal).ToList();
        // The two smallest of each kind (by magic bytes), plus a small baseline JPEG made here.
        var seeds = bySize.Where(s => s.Bytes[0] == 0x89).Take(2).Concat(bySize.Where(s => s.Bytes[0] == 0xFF).Take(2)).ToList();
        var img = ImageCodec.Decode(seeds[0].Bytes, seeds[0].Name).ToRgb();
        seeds.Add(("baseline.jpg", ImageCodec.EncodeJpeg(img, 85)));
        seeds.Add(("rgba16.png", ImageCodec.EncodePng(new Image(img.Width, img.Height, 3, 16, img.Data), 16)));
        return seeds;
    }

    static byte[] Mutate(byte[] src, Random rng)
    {
        var d = new List<byte>(src);
        int edits = 1 + rng.Next(4);
        for (int e = 0; e < edits && d.Count > 0; e++)
        {
            // Bias towards the headers, where a single byte matters most.
            int at = rng.Next(2) == 0 ? rng.Next(Math.Min(d.Count, 1024)) : rng.Next(d.Count);
            switch (rng.Next(6))
            {
                case 0: d[at] ^= (byte)(1 << rng.Next(8)); break;
                case 1: d[at] = (byte)rng.Next(256); break;
                case 2: d.RemoveRange(at, d.Count - at); break;
                case 3: d.InsertRange(at, Enumerable.Range(0, 1 + rng.Next(16)).Select(_ => (byte)rng.Next(256))); break;
                case 4: d.RemoveRange(at, Math.Min(d.Count - at, 1 + rng.Next(64))); break;
                default: d[at] = rng.Next(2) == 0 ? (byte)0xFF : (byte)0; break;
            }
        }
        var o = d.ToArray();
        if (o.Length > 8 && o[0] == 0x89 && rng.Next(2) == 0) FixPngCrcs(o); // reach past libpng's CRC check
        return o;
    }

    static void FixPngCrcs(byte[] p)
    {
        for (int pos = 8; pos + 12 <= p.Length;)
        {
            long len = BinaryPrimitives.ReadUInt32BigEndian(p.AsSpan(pos));
            if (pos + 12 + len > p.Length) return;
            BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(pos + 8 + (int)len), PngReference.Crc32(p.AsSpan(pos + 4, 4 + (int)len)));
            pos += 12 + (int)len;
        }
    }

    [Test]
    public void MutatedFilesDecodeOrFailCleanly()
    {
        var seeds = Seeds();
        var opt = new ImageDecodeOptions { MaxPixels = 4_000_000 };
        var lenient = opt with { StrictJpeg = false };
        var rng = new Random(20240611);
        var sw = Stopwatch.StartNew();
        int runs = 0, decoded = 0, rejected = 0;
        while (runs < 6000 && sw.Elapsed.TotalSeconds < 15)
        {
            var (name, bytes) = seeds[runs % seeds.Count];
            var m = Mutate(bytes, rng);
            var o = runs % 5 == 4 ? lenient : opt;
            try
            {
                var img = ImageCodec.Decode(m, name, o);
                Assert.That(img.Width * img.Height, Is.GreaterThan(0).And.LessThanOrEqualTo(4_000_000));
                decoded++;
            }
            catch (ImageFormatException)
            {
                rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"run {runs} on a mutation of {name} ({m.Length} bytes) threw {e.GetType().Name}: {e.Message}");
            }
            runs++;
        }
        TestContext.Out.WriteLine($"{runs} mutations in {sw.Elapsed.TotalSeconds:0.0} s: {decoded} decoded, {rejected} rejected");
        Assert.That(runs, Is.GreaterThanOrEqualTo(1000), "too slow: fewer than 1000 mutations in 15 s");
        Assert.That(decoded, Is.GreaterThan(0));
        Assert.That(rejected, Is.GreaterThan(0));
    }
}
