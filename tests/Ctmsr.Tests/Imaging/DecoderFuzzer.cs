using System.Buffers.Binary;
using System.Diagnostics;
using Ctmsr.Imaging;

namespace Ctmsr.Tests.Imaging;

/// <summary>A mutation fuzzer over the decoders. Seeds are small valid files of every input format; each case applies
/// 1-4 mutations: bit flips, byte overwrites, truncation, random insertions and deletions, duplication of a whole PNG
/// chunk / JPEG segment (or of a byte range in other formats), and header size lies (the width/height fields of PNG
/// IHDR, JPEG SOF, BMP, GIF, TGA and WebP rewritten to 0, 1, 65535 or random values), with PNG CRCs repaired half of
/// the time so mutations reach past the CRC check. Each decode must end, within a time limit, in an image within the
/// pixel limit or an <see cref="ImageFormatException"/>, and must not allocate more than a fixed bound.</summary>
public sealed class DecoderFuzzer(List<(string Name, byte[] Bytes)> seeds, int seed)
{
    public readonly Random Rng = new(seed);

    public sealed record Outcome(int Runs, int Decoded, int Rejected, double Seconds, double SlowestMs, long MostBytes, string? Failure);

    public Outcome Run(int maxRuns, double maxSeconds, ImageDecodeOptions opt, double perFileLimitMs, long perFileBytes)
    {
        var sw = Stopwatch.StartNew();
        int runs = 0, decoded = 0, rejected = 0;
        double slowest = 0;
        long most = 0;
        while (runs < maxRuns && sw.Elapsed.TotalSeconds < maxSeconds)
        {
            var (name, bytes) = seeds[runs % seeds.Count];
            var m = Mutate(bytes);
            var o = runs % 5 == 4 ? opt with { StrictJpeg = false } : opt;
            long before = GC.GetTotalAllocatedBytes();
            var t = Stopwatch.StartNew();
            var task = Task.Run(() => ImageCodec.Decode(m, name, o));
            bool finished;
            try { finished = task.Wait(TimeSpan.FromMilliseconds(perFileLimitMs)); }
            catch (AggregateException) { finished = true; }
            double ms = t.Elapsed.TotalMilliseconds;
            long bytesUsed = GC.GetTotalAllocatedBytes() - before;
            string Where() => $"case {runs}: a mutation of {name} ({m.Length} bytes, {Convert.ToHexString(m.AsSpan(0, Math.Min(32, m.Length)))}...)";
            if (!finished) return new(runs, decoded, rejected, sw.Elapsed.TotalSeconds, ms, most, $"{Where()} did not finish within {perFileLimitMs} ms");
            if (task.IsFaulted)
            {
                var e = task.Exception!.InnerException!;
                if (e is not ImageFormatException) return new(runs, decoded, rejected, sw.Elapsed.TotalSeconds, slowest, most, $"{Where()} threw {e.GetType().Name}: {e.Message}");
                rejected++;
            }
            else
            {
                var img = task.Result;
                if ((long)img.Width * img.Height > o.MaxPixels) return new(runs, decoded, rejected, sw.Elapsed.TotalSeconds, slowest, most, $"{Where()} decoded {img} over the pixel limit");
                decoded++;
            }
            if (bytesUsed > perFileBytes) return new(runs, decoded, rejected, sw.Elapsed.TotalSeconds, slowest, bytesUsed, $"{Where()} allocated {bytesUsed >> 20} MiB (limit {perFileBytes >> 20} MiB)");
            slowest = Math.Max(slowest, ms);
            most = Math.Max(most, bytesUsed);
            runs++;
        }
        return new(runs, decoded, rejected, sw.Elapsed.TotalSeconds, slowest, most, null);
    }

    public byte[] Mutate(byte[] src)
    {
        var d = new List<byte>(src);
        int edits = 1 + Rng.Next(4);
        for (int e = 0; e < edits && d.Count > 0; e++)
        {
            // Bias towards the headers, where a single byte matters most.
            int at = Rng.Next(2) == 0 ? Rng.Next(Math.Min(d.Count, 1024)) : Rng.Next(d.Count);
            switch (Rng.Next(9))
            {
                case 0: d[at] ^= (byte)(1 << Rng.Next(8)); break;
                case 1: d[at] = (byte)Rng.Next(256); break;
                case 2: d.RemoveRange(at, d.Count - at); break;
                case 3: d.InsertRange(at, Enumerable.Range(0, 1 + Rng.Next(16)).Select(_ => (byte)Rng.Next(256))); break;
                case 4: d.RemoveRange(at, Math.Min(d.Count - at, 1 + Rng.Next(64))); break;
                case 5: d[at] = Rng.Next(2) == 0 ? (byte)0xFF : (byte)0; break;
                case 6: Duplicate(d); break;
                default: LieAboutSize(d); break;
            }
        }
        var o = d.ToArray();
        if (o.Length > 8 && o[0] == 0x89 && Rng.Next(2) == 0) FixPngCrcs(o);
        return o;
    }

    /// <summary>Repeats one PNG chunk or JPEG marker segment in place (a second IHDR, PLTE, IDAT, DQT, DHT, SOF, SOS...);
    /// in other formats a random byte range.</summary>
    void Duplicate(List<byte> d)
    {
        var units = Units(d);
        if (units.Count > 0)
        {
            var (start, len) = units[Rng.Next(units.Count)];
            d.InsertRange(start, d.GetRange(start, len));
            return;
        }
        int a = Rng.Next(d.Count), n = Math.Min(d.Count - a, 1 + Rng.Next(256));
        d.InsertRange(a + n, d.GetRange(a, n));
    }

    static List<(int Start, int Length)> Units(List<byte> d)
    {
        var r = new List<(int, int)>();
        if (d.Count > 8 && d[0] == 0x89 && d[1] == 'P')
        {
            for (int pos = 8; pos + 12 <= d.Count;)
            {
                long len = ((long)d[pos] << 24) | ((long)d[pos + 1] << 16) | ((long)d[pos + 2] << 8) | d[pos + 3];
                if (pos + 12 + len > d.Count) break;
                r.Add((pos, 12 + (int)len));
                pos += 12 + (int)len;
            }
        }
        else if (d.Count > 4 && d[0] == 0xFF && d[1] == 0xD8)
        {
            for (int pos = 2; pos + 4 <= d.Count && d[pos] == 0xFF;)
            {
                int m = d[pos + 1], len = (d[pos + 2] << 8) | d[pos + 3];
                if (m is 0xD9 or 0xDA || pos + 2 + len > d.Count) break;
                r.Add((pos, 2 + len));
                pos += 2 + len;
            }
        }
        return r;
    }

    /// <summary>Rewrites a width or height field of the header to 0, 1, 65535, a random value or a multiple of the truth.</summary>
    void LieAboutSize(List<byte> d)
    {
        int Lie(int truth) => Rng.Next(5) switch { 0 => 0, 1 => 1, 2 => 65535, 3 => Rng.Next(1 << 16), _ => truth * (2 + Rng.Next(30)) };
        var a = d.ToArray();
        if (a.Length > 24 && a[0] == 0x89)
        {
            int off = 16 + 4 * Rng.Next(2);
            BinaryPrimitives.WriteUInt32BigEndian(a.AsSpan(off), (uint)Lie((int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(a.AsSpan(off)), 65535)));
        }
        else if (a.Length > 4 && a[0] == 0xFF && a[1] == 0xD8)
        {
            foreach (var (start, _) in Units(d))
                if (a[start + 1] is >= 0xC0 and <= 0xC2 && start + 9 <= a.Length)
                {
                    int off = start + 5 + 2 * Rng.Next(2);
                    BinaryPrimitives.WriteUInt16BigEndian(a.AsSpan(off), (ushort)Lie(BinaryPrimitives.ReadUInt16BigEndian(a.AsSpan(off))));
                }
        }
        else if (a.Length > 26 && a[0] == 'B' && a[1] == 'M')
        {
            int off = 18 + 4 * Rng.Next(2);
            BinaryPrimitives.WriteInt32LittleEndian(a.AsSpan(off), Rng.Next(2) == 0 ? -Lie(10) : Lie(BinaryPrimitives.ReadInt32LittleEndian(a.AsSpan(off))));
        }
        else if (a.Length > 10 && a[0] == 'G' && a[1] == 'I')
        {
            int off = 6 + 2 * Rng.Next(2);
            BinaryPrimitives.WriteUInt16LittleEndian(a.AsSpan(off), (ushort)Lie(BinaryPrimitives.ReadUInt16LittleEndian(a.AsSpan(off))));
        }
        else if (a.Length > 30 && a[0] == 'R' && a[8] == 'W')
        {
            // VP8L: 14-bit width-1 and height-1 after the signature byte at 20; VP8: 14-bit fields at 26 and 28.
            int off = a[15] == 'L' ? 21 : 26 + 2 * Rng.Next(2);
            BinaryPrimitives.WriteUInt16LittleEndian(a.AsSpan(off), (ushort)Rng.Next(1 << 16));
        }
        else if (a.Length > 16)
        {
            // TGA (and anything else): the width/height words at 12 and 14.
            int off = 12 + 2 * Rng.Next(2);
            BinaryPrimitives.WriteUInt16LittleEndian(a.AsSpan(off), (ushort)Lie(BinaryPrimitives.ReadUInt16LittleEndian(a.AsSpan(off))));
        }
        d.Clear();
        d.AddRange(a);
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
}
