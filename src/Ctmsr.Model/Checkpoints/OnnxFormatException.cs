namespace Ctmsr.Model.Checkpoints;

/// <summary>An ONNX file could not be read: corrupt, truncated, too large, or using a feature the importer refuses. An <see cref="IOException"/>.</summary>
public sealed class OnnxFormatException(string message) : IOException(message);
