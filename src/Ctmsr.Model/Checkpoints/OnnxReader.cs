namespace Ctmsr.Model.Checkpoints;

/// <summary>
/// Reads an ONNX ModelProto by field number (onnx/onnx.proto: ModelProto, GraphProto, NodeProto, AttributeProto,
/// TensorProto, ValueInfoProto) with <see cref="ProtobufReader"/>. Limits: the file at most 2 GiB (protobuf's own
/// bound), at most 100,000 nodes and initializers, tensors of rank at most 8 whose declared size must equal the
/// bytes present; weights stored outside the file (external data) are refused. Unknown fields are skipped.
/// </summary>
public static class OnnxReader
{
    const long MaxFileBytes = int.MaxValue;
    const int MaxItems = 100_000;
    const int MaxRank = 8;

    public static OnnxModel Read(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"{path}: no such ONNX file", path);
        if (info.Length > MaxFileBytes) throw new OnnxFormatException($"{path} is {info.Length:N0} bytes; ONNX files over 2 GiB keep their weights outside the file, which this importer does not read");
        if (info.Length == 0) throw new OnnxFormatException($"{path} is empty; it is not an ONNX model");
        var bytes = File.ReadAllBytes(path);

        long ir = 0, opset = 0; string producer = "";
        Graph? graph = null;
        var r = new ProtobufReader(bytes, path);
        while (!r.End)
        {
            var (f, w) = r.ReadTag();
            if (f == 1 && w == 0) ir = r.ReadInt64();
            else if (f == 2 && w == 2) producer = r.ReadString();
            else if (f == 7 && w == 2) graph = ReadGraph(r.ReadBytes(), path);
            else if (f == 8 && w == 2) { var (domain, version) = ReadOpset(r.ReadBytes(), path); if (domain is "" or "ai.onnx") opset = version; }
            else r.Skip(w);
        }
        if (graph is null) throw new OnnxFormatException($"{path} has no graph: it is not an ONNX model (or not one this importer reads)");
        return new OnnxModel
        {
            Path = path, IrVersion = ir, Producer = producer, Opset = opset,
            Nodes = graph.Nodes, Inputs = graph.Inputs, Outputs = graph.Outputs, Initializers = graph.Initializers,
        };
    }

    sealed class Graph
    {
        public List<OnnxNode> Nodes { get; } = [];
        public List<OnnxValueInfo> Inputs { get; } = [];
        public List<OnnxValueInfo> Outputs { get; } = [];
        public Dictionary<string, HostTensor> Initializers { get; } = new(StringComparer.Ordinal);
    }

    static (string Domain, long Version) ReadOpset(ReadOnlySpan<byte> b, string path)
    {
        var r = new ProtobufReader(b, path);
        string domain = ""; long version = 0;
        while (!r.End)
        {
            var (f, w) = r.ReadTag();
            if (f == 1 && w == 2) domain = r.ReadString();
            else if (f == 2 && w == 0) version = r.ReadInt64();
            else r.Skip(w);
        }
        return (domain, version);
    }

    static Graph ReadGraph(ReadOnlySpan<byte> b, string path)
    {
        var g = new Graph();
        var r = new ProtobufReader(b, path);
        while (!r.End)
        {
            var (f, w) = r.ReadTag();
            if (w != 2) { r.Skip(w); continue; }
            switch (f)
            {
                case 1: g.Nodes.Add(ReadNode(r.ReadBytes(), path)); break;
                case 5:
                    var (name, t) = ReadTensor(r.ReadBytes(), path);
                    if (!g.Initializers.TryAdd(name, t)) throw new OnnxFormatException($"{path}: two initializers are named '{name}'; the file is corrupt");
                    break;
                case 11: g.Inputs.Add(ReadValueInfo(r.ReadBytes(), path)); break;
                case 12: g.Outputs.Add(ReadValueInfo(r.ReadBytes(), path)); break;
                case 15: throw new OnnxFormatException($"{path} holds sparse initializers, which this importer does not read; export the model with dense weights");
                default: r.Skip(w); break;
            }
            if (g.Nodes.Count > MaxItems || g.Initializers.Count > MaxItems)
                throw new OnnxFormatException($"{path} has more than {MaxItems:N0} nodes or initializers; that is beyond what this importer reads");
        }
        return g;
    }

    static OnnxNode ReadNode(ReadOnlySpan<byte> b, string path)
    {
        var r = new ProtobufReader(b, path);
        var inputs = new List<string>(); var outputs = new List<string>();
        var attrs = new Dictionary<string, OnnxAttribute>(StringComparer.Ordinal);
        string op = "", name = "";
        while (!r.End)
        {
            var (f, w) = r.ReadTag();
            if (w != 2) { r.Skip(w); continue; }
            switch (f)
            {
                case 1: inputs.Add(r.ReadString()); break;
                case 2: outputs.Add(r.ReadString()); break;
                case 3: name = r.ReadString(); break;
                case 4: op = r.ReadString(); break;
                case 5: var a = ReadAttribute(r.ReadBytes(), path); attrs[a.Name] = a; break;
                default: r.Skip(w); break;
            }
        }
        if (op.Length == 0) throw new OnnxFormatException($"{path}: node '{name}' has no operator type; the file is corrupt");
        return new OnnxNode(op, name, inputs, outputs, attrs);
    }

    static OnnxAttribute ReadAttribute(ReadOnlySpan<byte> b, string path)
    {
        var r = new ProtobufReader(b, path);
        string name = ""; long? i = null; float? fl = null; string? s = null;
        var ints = new List<long>(); var floats = new List<float>();
        while (!r.End)
        {
            var (f, w) = r.ReadTag();
            if (f == 1 && w == 2) name = r.ReadString();
            else if (f == 2 && w == 5) fl = r.ReadFixed32Float();
            else if (f == 3 && w == 0) i = r.ReadInt64();
            else if (f == 4 && w == 2) s = r.ReadString();
            else if (f == 7 && w == 5) floats.Add(r.ReadFixed32Float());
            else if (f == 7 && w == 2)
            {
                var p = new ProtobufReader(r.ReadBytes(), path);
                while (!p.End) floats.Add(p.ReadFixed32Float());
            }
            else if (f == 8 && w is 0 or 2) r.ReadInt64s(w, ints, MaxItems);
            else r.Skip(w);
        }
        return new OnnxAttribute(name, i, fl, s, ints, floats);
    }

    static OnnxValueInfo ReadValueInfo(ReadOnlySpan<byte> b, string path)
    {
        var r = new ProtobufReader(b, path);
        string name = ""; int elem = 0; var dims = new List<long>();
        while (!r.End)
        {
            var (f, w) = r.ReadTag();
            if (f == 1 && w == 2) name = r.ReadString();
            else if (f == 2 && w == 2)
            {
                // TypeProto.tensor_type (1) -> elem_type (1), shape (2) -> dim (1) -> dim_value (1) | dim_param (2)
                var tp = new ProtobufReader(r.ReadBytes(), path);
                while (!tp.End)
                {
                    var (f2, w2) = tp.ReadTag();
                    if (f2 != 1 || w2 != 2) { tp.Skip(w2); continue; }
                    var tt = new ProtobufReader(tp.ReadBytes(), path);
                    while (!tt.End)
                    {
                        var (f3, w3) = tt.ReadTag();
                        if (f3 == 1 && w3 == 0) elem = (int)tt.ReadInt64();
                        else if (f3 == 2 && w3 == 2)
                        {
                            var sh = new ProtobufReader(tt.ReadBytes(), path);
                            while (!sh.End)
                            {
                                var (f4, w4) = sh.ReadTag();
                                if (f4 != 1 || w4 != 2) { sh.Skip(w4); continue; }
                                var d = new ProtobufReader(sh.ReadBytes(), path);
                                long v = -1;
                                while (!d.End) { var (f5, w5) = d.ReadTag(); if (f5 == 1 && w5 == 0) v = d.ReadInt64(); else d.Skip(w5); }
                                dims.Add(v);
                                if (dims.Count > MaxRank) throw new OnnxFormatException($"{path}: value '{name}' has rank over {MaxRank}");
                            }
                        }
                        else tt.Skip(w3);
                    }
                }
            }
            else r.Skip(w);
        }
        return new OnnxValueInfo(name, elem, dims);
    }

    /// <summary>ONNX TensorProto.DataType codes this importer converts.</summary>
    static DType? ToDType(long onnx) => onnx switch
    {
        1 => DType.F32, 2 => DType.U8, 6 => DType.I32, 7 => DType.I64, 9 => DType.Bool, 10 => DType.F16, 11 => DType.F64, 16 => DType.BF16,
        _ => null,
    };

    static (string Name, HostTensor Tensor) ReadTensor(ReadOnlySpan<byte> b, string path)
    {
        var r = new ProtobufReader(b, path);
        var dims = new List<long>();
        long dataType = 0; string name = "";
        ReadOnlySpan<byte> raw = default; bool hasRaw = false;
        using var floats = new MemoryStream(); var longs = new List<long>(); var int32s = new List<long>();
        while (!r.End)
        {
            var (f, w) = r.ReadTag();
            switch (f)
            {
                case 1 when w is 0 or 2: r.ReadInt64s(w, dims, MaxRank); break;
                case 2 when w == 0: dataType = r.ReadInt64(); break;
                case 8 when w == 2: name = r.ReadString(); break;
                case 9 when w == 2: raw = r.ReadBytes(); hasRaw = true; break;
                case 4 when w == 5: floats.Write(BitConverter.GetBytes(r.ReadFixed32Float())); break;
                case 4 when w == 2: floats.Write(r.ReadBytes()); break; // packed little-endian floats, the bytes as they are
                case 5 when w is 0 or 2: r.ReadInt64s(w, int32s, int.MaxValue); break;
                case 7 when w is 0 or 2: r.ReadInt64s(w, longs, int.MaxValue); break;
                case 13 or 14:
                    if (f == 14 && w == 0 && r.ReadInt64() == 0) break; // data_location DEFAULT
                    throw new OnnxFormatException($"{path}: tensor '{name}' keeps its data in an external file, which this importer does not read; export with the weights inside the .onnx file");
                default: r.Skip(w); break;
            }
        }
        var dtype = ToDType(dataType) ?? throw new OnnxFormatException($"{path}: initializer '{name}' has ONNX data type {dataType}, which the importer does not convert (float, float16, bfloat16, double and integer types are read)");
        long count = 1;
        foreach (var d in dims)
        {
            if (d < 0 || d > int.MaxValue) throw new OnnxFormatException($"{path}: initializer '{name}' has dimension {d}; the file is corrupt");
            count *= d;
            if (count > int.MaxValue / 8) throw new OnnxFormatException($"{path}: initializer '{name}' has over {int.MaxValue / 8:N0} elements; that is beyond what this importer reads");
        }
        var shape = dims.Select(d => (int)d).ToArray();
        int size = HostTensor.SizeOf(dtype);
        byte[] bytes;
        if (hasRaw)
        {
            if (raw.Length != count * size) throw new OnnxFormatException($"{path}: initializer '{name}' declares {count:N0} {dtype} elements but holds {raw.Length:N0} bytes; the file is truncated or corrupt");
            bytes = raw.ToArray();
        }
        else if (dtype == DType.F32)
        {
            if (floats.Length != count * 4) throw new OnnxFormatException($"{path}: initializer '{name}' declares {count:N0} floats but holds {floats.Length / 4.0:N0}; the file is truncated or corrupt");
            bytes = floats.ToArray();
        }
        else if (dtype == DType.I64)
        {
            if (longs.Count != count) throw new OnnxFormatException($"{path}: initializer '{name}' declares {count:N0} int64 values but holds {longs.Count:N0}; the file is corrupt");
            return (name, HostTensor.FromLongs(longs.ToArray(), shape));
        }
        else if (dtype == DType.I32)
        {
            if (int32s.Count != count) throw new OnnxFormatException($"{path}: initializer '{name}' declares {count:N0} int32 values but holds {int32s.Count:N0}; the file is corrupt");
            bytes = new byte[count * 4];
            for (int i = 0; i < count; i++) BitConverter.TryWriteBytes(bytes.AsSpan(4 * i), (int)int32s[i]);
        }
        else throw new OnnxFormatException($"{path}: initializer '{name}' ({dtype}) stores its values in a field the importer does not read; re-export with raw_data");
        return (name, new HostTensor(dtype, shape, bytes));
    }
}
