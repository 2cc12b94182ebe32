namespace Ctmsr.Model.Checkpoints;

/// <summary>An attribute of a node: the scalar and list values ONNX operators carry (tensor/graph attributes are skipped).</summary>
public sealed record OnnxAttribute(string Name, long? Int, float? Float, string? Text, IReadOnlyList<long> Ints, IReadOnlyList<float> Floats);

/// <summary>One operator of the graph, in file order (ONNX requires topological order).</summary>
public sealed record OnnxNode(string OpType, string Name, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs,
    IReadOnlyDictionary<string, OnnxAttribute> Attributes)
{
    public long Int(string name, long fallback) => Attributes.TryGetValue(name, out var a) && a.Int is { } v ? v : fallback;
    public float Float(string name, float fallback) => Attributes.TryGetValue(name, out var a) && a.Float is { } v ? v : fallback;
    public string? Text(string name) => Attributes.TryGetValue(name, out var a) ? a.Text : null;
    public IReadOnlyList<long> Ints(string name) => Attributes.TryGetValue(name, out var a) ? a.Ints : [];
}

/// <summary>A graph input or output: name, ONNX element type (1 = float) and dimensions (-1 where symbolic).</summary>
public sealed record OnnxValueInfo(string Name, int ElemType, IReadOnlyList<long> Dims);

/// <summary>
/// What the importer reads of an ONNX model: the graph's nodes, inputs, outputs and initializers (the weights, as
/// <see cref="HostTensor"/>s by name). Nothing in the file is executed; the graph is data a caller maps onto its own
/// layers. See <see cref="OnnxReader"/> for the limits.
/// </summary>
public sealed class OnnxModel
{
    public required string Path { get; init; }
    public required long IrVersion { get; init; }
    public required string Producer { get; init; }
    /// <summary>The default-domain operator set version (0 when the file names none).</summary>
    public required long Opset { get; init; }
    public required IReadOnlyList<OnnxNode> Nodes { get; init; }
    public required IReadOnlyList<OnnxValueInfo> Inputs { get; init; }
    public required IReadOnlyList<OnnxValueInfo> Outputs { get; init; }
    public required IReadOnlyDictionary<string, HostTensor> Initializers { get; init; }

    public static OnnxModel Load(string path) => OnnxReader.Read(path);

    /// <summary>The initializer <paramref name="name"/>; a clear error naming the file when it is absent.</summary>
    public HostTensor Initializer(string name) =>
        Initializers.TryGetValue(name, out var t) ? t
            : throw new OnnxFormatException($"{Path}: the graph uses '{name}' as a weight but has no initializer of that name; the file is not the expected model");

    /// <summary>The nodes that read tensor <paramref name="value"/>.</summary>
    public IEnumerable<OnnxNode> Consumers(string value) => Nodes.Where(n => n.Inputs.Contains(value));
}
