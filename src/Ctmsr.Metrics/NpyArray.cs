using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;

namespace Ctmsr.Metrics;

/// <summary>
/// A NumPy array read from .npy (magic "\x93NUMPY", version, header length, a Python-dict header with descr,
/// fortran_order and shape, then raw data) or from one entry of an .npz (a zip of .npy files). Values come back as
/// float64 in C (row-major) order, whatever the stored order; dtypes: little-endian f8, f4, i8, i4 and u1.
/// </summary>
public sealed partial class NpyArray(int[] shape, double[] data)
{
    public int[] Shape { get; } = shape;
    public double[] Data { get; } = data;
    public long Count => Data.LongLength;

    public double this[int i, int j] => Data[i * Shape[1] + j];

    public static NpyArray Read(Stream s, string nameForErrors)
    {
        var magic = new byte[8];
        s.ReadExactly(magic);
        if (magic[0] != 0x93 || Encoding.ASCII.GetString(magic, 1, 5) != "NUMPY")
            throw new InvalidDataException($"{nameForErrors}: not a .npy array (bad magic); re-save it with numpy.save");
        int major = magic[6];
        int headerLen;
        if (major == 1) { var b = new byte[2]; s.ReadExactly(b); headerLen = BinaryPrimitives.ReadUInt16LittleEndian(b); }
        else { var b = new byte[4]; s.ReadExactly(b); headerLen = (int)BinaryPrimitives.ReadUInt32LittleEndian(b); }
        var hb = new byte[headerLen];
        s.ReadExactly(hb);
        string header = Encoding.Latin1.GetString(hb);
        var descr = DescrRegex().Match(header);
        var fortran = FortranRegex().Match(header);
        var shapeM = ShapeRegex().Match(header);
        if (!descr.Success || !fortran.Success || !shapeM.Success)
            throw new InvalidDataException($"{nameForErrors}: unreadable .npy header '{header.Trim()}'");
        var shape = shapeM.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();
        long n = shape.Aggregate(1L, (a, b) => a * b);
        string dt = descr.Groups[1].Value;
        int size = dt switch { "<f8" or "<i8" => 8, "<f4" or "<i4" => 4, "|u1" => 1, _ => 0 };
        if (size == 0) throw new InvalidDataException($"{nameForErrors}: dtype '{dt}' is not supported (use little-endian float64/float32/int64/int32/uint8)");
        var raw = new byte[n * size];
        s.ReadExactly(raw);
        var v = new double[n];
        for (long i = 0; i < n; i++)
        {
            var span = raw.AsSpan((int)(i * size), size);
            v[i] = dt switch
            {
                "<f8" => BinaryPrimitives.ReadDoubleLittleEndian(span),
                "<f4" => BinaryPrimitives.ReadSingleLittleEndian(span),
                "<i8" => BinaryPrimitives.ReadInt64LittleEndian(span),
                "<i4" => BinaryPrimitives.ReadInt32LittleEndian(span),
                _ => span[0],
            };
        }
        if (fortran.Groups[1].Value == "True" && shape.Length > 1) v = FortranToC(v, shape);
        return new NpyArray(shape, v);
    }

    /// <summary>Reorders column-major data (first index fastest) to row-major.</summary>
    static double[] FortranToC(double[] f, int[] shape)
    {
        var c = new double[f.Length];
        int r = shape.Length;
        var idx = new int[r];
        for (long i = 0; i < f.Length; i++)
        {
            // i walks the Fortran order; compute the C offset of the same multi-index
            long off = 0;
            for (int d = 0; d < r; d++) off = off * shape[d] + idx[d];
            c[off] = f[i];
            for (int d = 0; d < r; d++) { if (++idx[d] < shape[d]) break; idx[d] = 0; }
        }
        return c;
    }

    public static NpyArray ReadFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such .npy file", path);
        using var f = File.OpenRead(path);
        return Read(f, path);
    }

    /// <summary>Every array of an .npz archive by name (the entry name without ".npy").</summary>
    public static Dictionary<string, NpyArray> ReadNpz(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such .npz file", path);
        var result = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
        ZipArchive zip;
        try { zip = ZipFile.OpenRead(path); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: not an .npz archive ({e.Message}); re-save it with numpy.savez", e); }
        using (zip)
        {
            foreach (var e in zip.Entries)
            {
                if (!e.FullName.EndsWith(".npy", StringComparison.Ordinal)) continue;
                using var s = e.Open();
                using var ms = new MemoryStream();
                s.CopyTo(ms);
                ms.Position = 0;
                result[e.FullName[..^4]] = Read(ms, $"{path}:{e.FullName}");
            }
        }
        return result;
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']+)'")] private static partial Regex DescrRegex();
    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")] private static partial Regex FortranRegex();
    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")] private static partial Regex ShapeRegex();
}
