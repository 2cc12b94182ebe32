using Ctmsr.Kernels;
using System.IO.MemoryMappedFiles;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ctmsr.Model.Checkpoints;

/// <summary>
/// safetensors: 8-byte little-endian header length N, N bytes of JSON
/// ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}), then the raw data.
/// Reading memory-maps the file and copies tensors out on demand; writing goes to a temporary
/// file that is renamed into place.
/// </summary>
public sealed class SafetensorsFile : IDisposable
{
    readonly MemoryMappedFile _map;
    readonly MemoryMappedViewAccessor _view;
    readonly long _dataStart;
    readonly Dictionary<string, (DType type, int[] shape, long begin, long end)> _entries = new(StringComparer.Ordinal);

    public string Path { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }
    public IEnumerable<string> Names => _entries.Keys;

    SafetensorsFile(string path)
    {
        Path = path;
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"{path}: no such file", path);
        long len = info.Length;
        if (len < 8) throw new InvalidDataException($"{path}: {len} bytes is too short for a safetensors file (it needs an 8-byte header length)");
        _map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        long hlen = _view.ReadInt64(0);
        if (hlen <= 0 || hlen > len - 8 || hlen > 100_000_000)
            throw new InvalidDataException($"{path}: header length {hlen} does not fit the file ({len} bytes); not a safetensors file or truncated");
        var hb = new byte[hlen];
        _view.ReadArray(8, hb, 0, (int)hlen);
        _dataStart = 8 + hlen;
        JsonObject root;
        try { root = JsonNode.Parse(Encoding.UTF8.GetString(hb))!.AsObject(); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: the safetensors header is not valid JSON ({e.Message})"); }
        var meta = new Dictionary<string, string>();
        foreach (var (name, node) in root)
        {
            if (name == "__metadata__")
            {
                foreach (var (k, v) in node!.AsObject()) meta[k] = v?.ToString() ?? "";
                continue;
            }
            DType type;
            int[] shape;
            long b, e, expect;
            try
            {
                var o = node!.AsObject();
                type = ParseDType(o["dtype"]!.GetValue<string>(), path, name);
                shape = o["shape"]!.AsArray().Select(x => checked((int)x!.GetValue<long>())).ToArray();
                if (shape.Any(d => d < 0)) throw new OverflowException("negative dimension");
                var offs = o["data_offsets"]!.AsArray();
                b = offs[0]!.GetValue<long>();
                e = offs[1]!.GetValue<long>();
                expect = checked(shape.Aggregate(1L, (a, c) => checked(a * c)) * HostTensor.SizeOf(type));
            }
            catch (Exception x) when (x is OverflowException or InvalidOperationException or NullReferenceException or FormatException or ArgumentException or IndexOutOfRangeException)
            {
                // a shape or offset that does not fit (or is missing) is a damaged header, whatever the runtime calls it
                throw new InvalidDataException($"{path}: tensor '{name}' has a malformed entry in the safetensors header ({x.Message.TrimEnd('.')}): the file is corrupt, re-export or re-download it", x);
            }
            if (e - b != expect || b < 0 || _dataStart + e > len)
                throw new InvalidDataException($"{path}: tensor '{name}' claims bytes [{b}, {e}) but its shape needs {expect} and the file has {len - _dataStart}; the file is truncated or corrupt");
            _entries[name] = (type, shape, b, e);
        }
        Metadata = meta;
    }

    public static SafetensorsFile Open(string path) => new(path);

    static DType ParseDType(string s, string path, string name) => s switch
    {
        "F32" => DType.F32, "F16" => DType.F16, "BF16" => DType.BF16, "F64" => DType.F64,
        "I64" => DType.I64, "I32" => DType.I32, "U8" => DType.U8, "BOOL" => DType.Bool,
        _ => throw new InvalidDataException($"{path}: tensor '{name}' has dtype {s}, which Ctmsr does not read (F32, F16, BF16, F64, I64, I32, U8, BOOL)"),
    };

    static string DTypeName(DType t) => t switch
    {
        DType.F32 => "F32", DType.F16 => "F16", DType.BF16 => "BF16", DType.F64 => "F64",
        DType.I64 => "I64", DType.I32 => "I32", DType.U8 => "U8", _ => "BOOL",
    };

    public bool Contains(string name) => _entries.ContainsKey(name);

    public HostTensor Get(string name)
    {
        if (!_entries.TryGetValue(name, out var e))
            throw new KeyNotFoundException($"{Path}: no tensor named '{name}'");
        var bytes = new byte[e.end - e.begin];
        _view.ReadArray(_dataStart + e.begin, bytes, 0, bytes.Length);
        return new HostTensor(e.type, e.shape, bytes);
    }

    public float[] Floats(string name) => Get(name).ToFloats();

    public Dictionary<string, HostTensor> ReadAll(string prefix = "")
    {
        var d = new Dictionary<string, HostTensor>(StringComparer.Ordinal);
        foreach (var n in _entries.Keys)
            if (n.StartsWith(prefix, StringComparison.Ordinal)) d[n[prefix.Length..]] = Get(n);
        return d;
    }

    public void Dispose() { _view.Dispose(); _map.Dispose(); }

    /// <summary>Writes tensors (sorted by name, as the reference writer does) atomically: temp file, then rename.</summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, HostTensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        WriteSources(path, tensors.Select(t => KeyValuePair.Create(t.Key, TensorSource.Of(t.Value))), metadata);

    /// <summary>
    /// Writes tensors whose bytes are produced one at a time as the writer reaches them (<see cref="TensorSource"/>):
    /// the host holds one tensor's bytes at a time, in one reused buffer, instead of a copy of every tensor. A
    /// training checkpoint of the x4 model (3.4 GB) used to take two such copies (6.9 GB of fresh pages; 100 s
    /// and a 14 GB peak on this project's machine).
    /// </summary>
    public static void WriteSources(string path, IEnumerable<KeyValuePair<string, TensorSource>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.OrderBy(t => t.Key, StringComparer.Ordinal).ToList();
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var m = new JsonObject();
            foreach (var (k, v) in metadata) m[k] = v;
            header["__metadata__"] = m;
        }
        long off = 0, largest = 0;
        foreach (var (name, t) in list)
        {
            header[name] = new JsonObject
            {
                ["dtype"] = DTypeName(t.DType),
                ["shape"] = new JsonArray(t.Shape.Select(s => (JsonNode)s).ToArray()),
                ["data_offsets"] = new JsonArray(off, off + t.ByteLength),
            };
            off += t.ByteLength;
            largest = Math.Max(largest, t.ByteLength);
        }
        if (largest > Array.MaxLength)
            throw new ArgumentException($"{path}: a tensor of {largest} bytes is larger than one host array can hold; split it");
        var hb = Encoding.UTF8.GetBytes(header.ToJsonString());
        int pad = (8 - hb.Length % 8) % 8;
        AtomicFile.Write(path, s =>
        {
            s.Write(BitConverter.GetBytes((long)(hb.Length + pad)));
            s.Write(hb);
            for (int i = 0; i < pad; i++) s.WriteByte((byte)' ');
            var buf = GC.AllocateUninitializedArray<byte>((int)largest);
            foreach (var (_, t) in list)
            {
                var span = buf.AsSpan(0, (int)t.ByteLength);
                t.Fill(span);
                s.Write(span);
            }
        });
    }
}

/// <summary>
/// A tensor for <see cref="SafetensorsFile.WriteSources"/>:
/// its dtype and shape, and a routine that writes its little-endian bytes into a span of exactly
/// <see cref="ByteLength"/> bytes when the writer reaches it.
/// </summary>
public sealed class TensorSource(DType dtype, int[] shape, Action<Span<byte>> fill)
{
    public DType DType { get; } = dtype;
    public int[] Shape { get; } = shape;
    public Action<Span<byte>> Fill { get; } = fill;
    public long ByteLength => Shape.Aggregate(1L, (a, b) => a * b) * HostTensor.SizeOf(DType);

    /// <summary>A tensor already in host memory.</summary>
    public static TensorSource Of(HostTensor t) => new(t.DType, t.Shape, d => t.Bytes.CopyTo(d));

    /// <summary>A float32 tensor on any backend, downloaded when written (no host copy before that).</summary>
    public static TensorSource Of(Ctmsr.Autograd.Tensor t, int[]? shape = null) =>
        new(DType.F32, shape ?? t.Shape, d => t.Backend.Download(t.Buffer, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(d)));
}
