using System.IO.Compression;
using System.Text;

namespace Ctmsr.Tests.Checkpoints;

/// <summary>
/// Assembles pickle bytes opcode by opcode (following the pickle format, not the reader under test), so tests can
/// build checkpoints torch would write as well as hostile ones.
/// </summary>
public sealed class PickleBuilder
{
    readonly List<byte> _b = [];

    public PickleBuilder Raw(params byte[] bytes) { _b.AddRange(bytes); return this; }
    public PickleBuilder Op(char c) { _b.Add((byte)c); return this; }
    public PickleBuilder Proto(int p = 2) => Raw(0x80, (byte)p);
    public PickleBuilder Mark() => Op('(');
    public PickleBuilder Stop() => Op('.');
    public PickleBuilder Tuple() => Op('t');
    public PickleBuilder EmptyTuple() => Op(')');
    public PickleBuilder EmptyDict() => Op('}');
    public PickleBuilder EmptyList() => Op(']');
    public PickleBuilder SetItems() => Op('u');
    public PickleBuilder Reduce() => Op('R');
    public PickleBuilder BinPersId() => Op('Q');
    public PickleBuilder False() => Raw(0x89);
    public PickleBuilder None() => Op('N');

    public PickleBuilder Global(string module, string name)
    {
        Op('c');
        _b.AddRange(Encoding.ASCII.GetBytes(module + "\n" + name + "\n"));
        return this;
    }

    public PickleBuilder Str(string s)
    {
        var u = Encoding.UTF8.GetBytes(s);
        Op('X');
        _b.AddRange(BitConverter.GetBytes((uint)u.Length));
        _b.AddRange(u);
        return this;
    }

    public PickleBuilder Int(long v)
    {
        if (v >= 0 && v < 256) return Raw((byte)'K', (byte)v);
        if (v >= int.MinValue && v <= int.MaxValue) { Op('J'); _b.AddRange(BitConverter.GetBytes((int)v)); return this; }
        var le = new System.Numerics.BigInteger(v).ToByteArray();
        Raw(0x8a, (byte)le.Length);
        _b.AddRange(le);
        return this;
    }

    public PickleBuilder IntTuple(params long[] v)
    {
        Mark();
        foreach (var x in v) Int(x);
        return Tuple();
    }

    /// <summary>torch._utils._rebuild_tensor_v2(persistent storage, offset, size, stride, False, OrderedDict()).</summary>
    public PickleBuilder Tensor(string storageType, string key, long numel, long offset, long[] size, long[] stride)
    {
        Global("torch._utils", "_rebuild_tensor_v2");
        Mark();
        Mark().Str("storage").Global("torch", storageType).Str(key).Str("cpu").Int(numel).Tuple().BinPersId();
        Int(offset).IntTuple(size).IntTuple(stride).False();
        Global("collections", "OrderedDict").EmptyTuple().Reduce();
        Tuple();
        return Reduce();
    }

    public byte[] ToArray() => [.. _b];

    /// <summary>A torch-style zip: &lt;name&gt;/data.pkl, &lt;name&gt;/data/&lt;key&gt; (stored, not deflated), version.</summary>
    public static void WriteZip(string path, byte[]? pickle, IReadOnlyDictionary<string, byte[]> storages, string name = "archive")
    {
        using var fs = File.Create(path);
        using var zip = new ZipArchive(fs, ZipArchiveMode.Create);
        void Put(string entry, byte[] data)
        {
            using var s = zip.CreateEntry(entry, CompressionLevel.NoCompression).Open();
            s.Write(data);
        }
        if (pickle is not null) Put($"{name}/data.pkl", pickle);
        Put($"{name}/version", "3\n"u8.ToArray());
        foreach (var (k, v) in storages) Put($"{name}/data/{k}", v);
    }
}
