using System.Buffers.Binary;

namespace Ctmsr.Model.Checkpoints;

/// <summary>
/// Protocol-buffer wire format over a byte span (varint, 64-bit, length-delimited, 32-bit fields), enough to walk
/// a schema we name by field number. Every length is checked against what is left, so a corrupt file ends in an
/// <see cref="OnnxFormatException"/>, never an out-of-range read. Nested messages are sub-spans: nothing is copied.
/// </summary>
public ref struct ProtobufReader
{
    readonly ReadOnlySpan<byte> _buf;
    readonly string _what;
    int _pos;

    public ProtobufReader(ReadOnlySpan<byte> buf, string what) { _buf = buf; _what = what; _pos = 0; }

    public readonly bool End => _pos >= _buf.Length;

    /// <summary>The next field's number and wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32).</summary>
    public (int Field, int Wire) ReadTag()
    {
        ulong tag = ReadVarint();
        int wire = (int)(tag & 7);
        ulong field = tag >> 3;
        if (field == 0 || field > int.MaxValue) throw Corrupt($"field number {field}");
        return ((int)field, wire);
    }

    public ulong ReadVarint()
    {
        ulong r = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (_pos >= _buf.Length) throw Corrupt("a varint runs past the end");
            byte b = _buf[_pos++];
            r |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return r;
        }
        throw Corrupt("a varint longer than 10 bytes");
    }

    public long ReadInt64() => (long)ReadVarint();

    public ReadOnlySpan<byte> ReadBytes()
    {
        ulong len = ReadVarint();
        if (len > (ulong)(_buf.Length - _pos)) throw Corrupt($"a {len}-byte field with {_buf.Length - _pos} bytes left");
        var s = _buf.Slice(_pos, (int)len);
        _pos += (int)len;
        return s;
    }

    public string ReadString() => System.Text.Encoding.UTF8.GetString(ReadBytes());

    public float ReadFixed32Float()
    {
        if (_buf.Length - _pos < 4) throw Corrupt("a 32-bit field runs past the end");
        float v = BinaryPrimitives.ReadSingleLittleEndian(_buf[_pos..]);
        _pos += 4;
        return v;
    }

    /// <summary>Skips the value of a field of this wire type (groups, wire types 3/4, are refused: ONNX has none).</summary>
    public void Skip(int wire)
    {
        switch (wire)
        {
            case 0: ReadVarint(); break;
            case 1: Advance(8); break;
            case 2: ReadBytes(); break;
            case 5: Advance(4); break;
            default: throw Corrupt($"wire type {wire}");
        }
    }

    /// <summary>A repeated int64 field: packed (wire 2) or one value (wire 0), appended to <paramref name="into"/>.</summary>
    public void ReadInt64s(int wire, List<long> into, int max)
    {
        if (wire == 0) { into.Add(ReadInt64()); }
        else if (wire == 2)
        {
            var r = new ProtobufReader(ReadBytes(), _what);
            while (!r.End) into.Add(r.ReadInt64());
        }
        else throw Corrupt($"wire type {wire} for an integer list");
        if (into.Count > max) throw Corrupt($"a list of more than {max} integers");
    }

    void Advance(int n)
    {
        if (_buf.Length - _pos < n) throw Corrupt($"a {n}-byte field runs past the end");
        _pos += n;
    }

    readonly OnnxFormatException Corrupt(string detail) =>
        new($"{_what} is not a valid protocol-buffer file ({detail} at byte {_pos}); the file is truncated or corrupt: download it again");
}
