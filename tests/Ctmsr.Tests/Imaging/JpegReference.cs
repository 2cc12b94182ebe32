using System.Diagnostics;

namespace Ctmsr.Tests.Imaging;

/// <summary>Test-only JPEG helpers independent of the codec: frame size from the SOF marker, and decoding through
/// the djpeg command-line tool (package libjpeg-turbo-progs) when it is installed.</summary>
public static class JpegReference
{
    /// <summary>(width, height, components) from the first SOFn marker.</summary>
    public static (int Width, int Height, int Components) ReadSof(ReadOnlySpan<byte> j)
    {
        int pos = 2;
        while (pos + 4 <= j.Length)
        {
            if (j[pos] != 0xFF) throw new InvalidDataException($"marker expected at {pos}");
            byte m = j[pos + 1];
            if (m == 0xFF) { pos++; continue; }
            int len = (j[pos + 2] << 8) | j[pos + 3];
            if (m is >= 0xC0 and <= 0xCF && m is not (0xC4 or 0xC8 or 0xCC))
                return ((j[pos + 7] << 8) | j[pos + 8], (j[pos + 5] << 8) | j[pos + 6], j[pos + 9]);
            pos += 2 + len;
        }
        throw new InvalidDataException("no SOF marker");
    }

    static readonly Lazy<string?> DjpegPath = new(() =>
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
        {
            var p = Path.Combine(dir, "djpeg");
            if (File.Exists(p)) return p;
        }
        return null;
    });

    /// <summary>djpeg's PNM output (accurate integer IDCT, fancy upsampling, no EXIF rotation) as interleaved bytes;
    /// ignores the test when djpeg is absent.</summary>
    public static (int Width, int Height, int Channels, byte[] Pixels) Djpeg(string path)
    {
        if (DjpegPath.Value is null) Assert.Ignore("djpeg is not on PATH: install libjpeg-turbo-progs (scripts/deps.sh) for the JPEG reference check");
        var psi = new ProcessStartInfo(DjpegPath.Value!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-dct", "int", "-pnm", path }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var ms = new MemoryStream();
        p.StandardOutput.BaseStream.CopyTo(ms);
        p.WaitForExit();
        Assert.That(p.ExitCode, Is.EqualTo(0), $"djpeg failed on {path}: {p.StandardError.ReadToEnd()}");
        var b = ms.ToArray();
        // P5/P6 header "Pn\nW H\n255\n" as djpeg writes it.
        int pos = 0, field = 0;
        var vals = new int[4];
        while (field < 4)
        {
            while (char.IsWhiteSpace((char)b[pos])) pos++;
            int start = pos;
            while (!char.IsWhiteSpace((char)b[pos])) pos++;
            var tok = System.Text.Encoding.ASCII.GetString(b, start, pos - start);
            vals[field] = field == 0 ? tok[1] - '0' : int.Parse(tok);
            field++;
        }
        pos++;
        int ch = vals[0] == 5 ? 1 : 3;
        return (vals[1], vals[2], ch, b.AsSpan(pos, vals[1] * vals[2] * ch).ToArray());
    }
}
