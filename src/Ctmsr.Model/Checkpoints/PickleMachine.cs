using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace Ctmsr.Model.Checkpoints;

/// <summary>
/// A restricted pickle virtual machine (protocols 0-5) for tensor checkpoints. Values come out as plain .NET data:
/// None -> null, bool, int -> long (BigInteger past 64 bits), float -> double, str -> string, bytes -> byte[],
/// list -> List&lt;object?&gt;, tuple -> object?[], dict -> Dictionary&lt;string, object?&gt; (insertion order kept,
/// keys converted to text), set -> HashSet&lt;object?&gt;. Globals go through <see cref="PickleAllowList"/>; the
/// machine never calls anything else, never instantiates classes and never recurses, so hostile input can only end in
/// a <see cref="TorchCheckpointException"/>. Reads are bounded by the stream length, so a corrupt length field cannot
/// allocate more than the file holds.
/// </summary>
internal sealed class PickleMachine
{
    const int MaxLine = 1 << 16;
    readonly Stream _in;
    readonly string _where;
    readonly Func<object?, object?>? _persistentLoad;
    readonly List<object?> _stack = [];
    readonly List<int> _marks = [];
    readonly Dictionary<long, object?> _memo = [];
    long _op;

    PickleMachine(Stream input, string where, Func<object?, object?>? persistentLoad)
    {
        _in = input;
        _where = where;
        _persistentLoad = persistentLoad;
    }

    /// <summary>Runs one pickle from the stream's position up to and including its STOP opcode.</summary>
    /// <param name="where">Names the file (and entry) in error messages.</param>
    /// <param name="persistentLoad">Resolves BINPERSID ids (torch storages); null refuses them.</param>
    public static object? Load(Stream input, string where, Func<object?, object?>? persistentLoad = null)
    {
        if (!input.CanSeek) throw new ArgumentException("the pickle stream must be seekable", nameof(input));
        return new PickleMachine(input, where, persistentLoad).Run();
    }

    object? Run()
    {
        while (true)
        {
            _op = _in.Position;
            int op = ReadByte();
            switch (op)
            {
                case '(': _marks.Add(_stack.Count); break;
                case '.': return Pop();
                case '0': if (_marks.Count > 0 && _stack.Count == _marks[^1]) PopMark(); else Pop(); break; // POP drops a bare mark too
                case '1': PopMark(); break;
                case '2': Push(Peek()); break;
                case 'F': Push(ParseFloat(ReadLine())); break;
                case 'I': Push(ParseIntLine(ReadLine())); break;
                case 'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Read(4))); break;
                case 'K': Push((long)ReadByte()); break;
                case 'L': Push(ParseBig(ReadLine().TrimEnd('L'))); break;
                case 'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Read(2))); break;
                case 'N': Push(null); break;
                case 'P': Push(Persistent(ReadLine())); break;
                case 'Q': Push(Persistent(Pop())); break;
                case 'R': { var args = Pop(); var f = Pop(); Push(Call(f, args)); break; }
                case 'S': Push(UnquoteString(ReadLine())); break;
                case 'T': Push(Text(Read(ReadLength32()))); break;
                case 'U': Push(Text(Read(ReadByte()))); break;
                case 'V': Push(RawUnicodeEscape(ReadLine())); break;
                case 'X': Push(Text(Read(ReadLength32()))); break;
                case 'a': { var v = Pop(); AsList(Peek()).Add(v); break; }
                case 'b': { var state = Pop(); Build(Peek(), state); break; }
                case 'c': { var m = ReadLine(); var n = ReadLine(); Push(PickleAllowList.Resolve(m, n, _where)); break; }
                case 'd': Push(ToDict(PopMark())); break;
                case '}': Push(new Dictionary<string, object?>(StringComparer.Ordinal)); break;
                case 'e': { var items = PopMark(); AsList(Peek()).AddRange(items); break; }
                case 'g': Push(MemoGet(ParseIndex(ReadLine()))); break;
                case 'h': Push(MemoGet(ReadByte())); break;
                case 'j': Push(MemoGet(BinaryPrimitives.ReadUInt32LittleEndian(Read(4)))); break;
                case 'i': { var m = ReadLine(); var n = ReadLine(); var args = PopMark(); Push(Instantiate(PickleAllowList.Resolve(m, n, _where), args)); break; }
                case 'l': Push(new List<object?>(PopMark())); break;
                case ']': Push(new List<object?>()); break;
                case 'o': { var items = PopMark(); if (items.Length == 0) throw Corrupt("OBJ without a class"); Push(Instantiate(items[0], items[1..])); break; }
                case 'p': _memo[ParseIndex(ReadLine())] = Peek(); break;
                case 'q': _memo[ReadByte()] = Peek(); break;
                case 'r': _memo[BinaryPrimitives.ReadUInt32LittleEndian(Read(4))] = Peek(); break;
                case 's': { var v = Pop(); var k = Pop(); AsDict(Peek())[Key(k)] = v; break; }
                case 't': Push(PopMark()); break;
                case ')': Push(Array.Empty<object?>()); break;
                case 'u': { var items = PopMark(); var d = AsDict(Peek()); AddPairs(d, items); break; }
                case 'G': Push(BinaryPrimitives.ReadDoubleBigEndian(Read(8))); break;
                case 'B': Push(Read(ReadLength32()).ToArray()); break;
                case 'C': Push(Read(ReadByte()).ToArray()); break;
                case 0x80: { int p = ReadByte(); if (p > 5) throw Corrupt($"pickle protocol {p} is newer than 5"); break; }
                case 0x81: { var args = Pop(); var cls = Pop(); Push(Instantiate(cls, args)); break; }
                case 0x82: case 0x83: case 0x84:
                    throw new PickleRefusedException($"{_where}: refusing to load a copyreg extension code: {PickleAllowList.Why}");
                case 0x85: Push(new[] { Pop() }); break;
                case 0x86: { var b = Pop(); var a = Pop(); Push(new[] { a, b }); break; }
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new[] { a, b, c }); break; }
                case 0x88: Push(true); break;
                case 0x89: Push(false); break;
                case 0x8a: Push(Normalize(new BigInteger(Read(ReadByte()), isUnsigned: false, isBigEndian: false))); break;
                case 0x8b: Push(Normalize(new BigInteger(Read(ReadLength32()), isUnsigned: false, isBigEndian: false))); break;
                case 0x8c: Push(Text(Read(ReadByte()))); break;
                case 0x8d: Push(Text(Read(ReadLength64()))); break;
                case 0x8e: Push(Read(ReadLength64()).ToArray()); break;
                case 0x8f: Push(new HashSet<object?>()); break;
                case 0x90:
                    {
                        var items = PopMark();
                        if (Peek() is not HashSet<object?> set) throw Corrupt($"ADDITEMS on a {TypeName(Peek())}");
                        foreach (var x in items) set.Add(x);
                        break;
                    }
                case 0x91: Push(new HashSet<object?>(PopMark())); break;
                case 0x92:
                    {
                        var kwargs = Pop(); var args = Pop(); var cls = Pop();
                        if (kwargs is Dictionary<string, object?> { Count: > 0 })
                            throw new PickleRefusedException($"{_where}: refusing to instantiate {TypeName(cls)} with keyword arguments: {PickleAllowList.Why}");
                        Push(Instantiate(cls, args));
                        break;
                    }
                case 0x93:
                    {
                        var n = Pop(); var m = Pop();
                        if (m is not string ms || n is not string ns) throw Corrupt("STACK_GLOBAL needs two strings");
                        Push(PickleAllowList.Resolve(ms, ns, _where));
                        break;
                    }
                case 0x94: _memo[_memo.Count] = Peek(); break;
                case 0x95: Read(8); break; // FRAME: a length hint only
                case 0x96: Push(Read(ReadLength64()).ToArray()); break;
                case 0x97: throw new TorchCheckpointException($"{_where}: the pickle uses out-of-band buffers (NEXT_BUFFER), which torch.save never writes; re-save it with torch.save");
                case 0x98: break;
                default: throw Corrupt($"unknown opcode 0x{op:x2}");
            }
        }
    }

    // ---- stack and memo ----

    void Push(object? v) => _stack.Add(v);

    object? Pop()
    {
        int floor = _marks.Count > 0 ? _marks[^1] : 0;
        if (_stack.Count <= floor) throw Corrupt("stack underflow");
        var v = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return v;
    }

    object? Peek()
    {
        int floor = _marks.Count > 0 ? _marks[^1] : 0;
        if (_stack.Count <= floor) throw Corrupt("stack underflow");
        return _stack[^1];
    }

    object?[] PopMark()
    {
        if (_marks.Count == 0) throw Corrupt("MARK expected");
        int m = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        var items = _stack.GetRange(m, _stack.Count - m).ToArray();
        _stack.RemoveRange(m, _stack.Count - m);
        return items;
    }

    object? MemoGet(long i) => _memo.TryGetValue(i, out var v) ? v : throw Corrupt($"memo entry {i} was never stored");

    // ---- the only ways a pickle can "run" something ----

    object? Call(object? f, object? args)
    {
        if (f is not PickleGlobal g)
            throw Corrupt($"REDUCE of a {TypeName(f)}");
        if (g.Kind is not (PickleGlobalKind.Function or PickleGlobalKind.Class) || g.Call is null)
            throw new PickleRefusedException($"{_where}: refusing to call '{g.FullName}': {PickleAllowList.Why}");
        if (args is not object?[] a) throw Corrupt($"REDUCE of '{g.FullName}' with {TypeName(args)} arguments");
        return Invoke(g, a);
    }

    object? Instantiate(object? cls, object? args)
    {
        if (cls is not PickleGlobal { Kind: PickleGlobalKind.Class, Call: not null } g)
            throw new PickleRefusedException($"{_where}: refusing to instantiate {(cls is PickleGlobal pg ? $"'{pg.FullName}'" : TypeName(cls))}: {PickleAllowList.Why}");
        if (args is not object?[] a) throw Corrupt($"instantiating '{g.FullName}' with {TypeName(args)} arguments");
        return Invoke(g, a);
    }

    object? Invoke(PickleGlobal g, object?[] a)
    {
        try { return g.Call!(a); }
        catch (PickleRefusedException e) { throw new PickleRefusedException($"{_where}: {e.Message}"); }
        catch (TorchCheckpointException e) { throw new TorchCheckpointException($"{_where}: at byte {_op}: {e.Message}", e); }
        catch (Exception e) when (e is InvalidCastException or IndexOutOfRangeException or OverflowException or ArgumentException)
        {
            throw Corrupt($"bad arguments to '{g.FullName}' ({e.Message})");
        }
    }

    void Build(object? obj, object? state)
    {
        // OrderedDict state is its attribute dict (state_dict()._metadata) and tensors may carry Python attributes:
        // neither matters for weights, so BUILD only accepts those targets and drops the state.
        if (obj is Dictionary<string, object?> or TorchTensorRef) return;
        throw Corrupt($"BUILD on a {TypeName(obj)}");
    }

    object? Persistent(object? pid)
    {
        if (_persistentLoad is null) throw Corrupt("a persistent id outside a checkpoint");
        try { return _persistentLoad(pid); }
        catch (PickleRefusedException) { throw; }
        catch (TorchCheckpointException e) { throw new TorchCheckpointException($"{_where}: at byte {_op}: {e.Message}", e); }
    }

    // ---- containers ----

    List<object?> AsList(object? v) => v as List<object?> ?? throw Corrupt($"APPEND to a {TypeName(v)}");

    Dictionary<string, object?> AsDict(object? v) => v as Dictionary<string, object?> ?? throw Corrupt($"SETITEM on a {TypeName(v)}");

    Dictionary<string, object?> ToDict(object?[] items)
    {
        var d = new Dictionary<string, object?>(StringComparer.Ordinal);
        AddPairs(d, items);
        return d;
    }

    void AddPairs(Dictionary<string, object?> d, object?[] items)
    {
        if (items.Length % 2 != 0) throw Corrupt("odd number of items for a dict");
        for (int i = 0; i < items.Length; i += 2) d[Key(items[i])] = items[i + 1];
    }

    string Key(object? k)
    {
        try { return KeyText(k); }
        catch (TorchCheckpointException e) { throw Corrupt(e.Message); }
    }

    /// <summary>Dictionary keys as text: strings as they are, numbers and booleans as Python prints them.</summary>
    internal static string KeyText(object? k) => k switch
    {
        string s => s,
        long l => l.ToString(CultureInfo.InvariantCulture),
        BigInteger b => b.ToString(CultureInfo.InvariantCulture),
        bool b => b ? "True" : "False",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        null => "None",
        _ => throw new TorchCheckpointException($"a dictionary key is a {TypeName(k)}; Ctmsr reads dictionaries with string or integer keys only"),
    };

    internal static string TypeName(object? v) => v switch
    {
        null => "None",
        bool => "bool",
        long or BigInteger => "int",
        double => "float",
        string => "str",
        byte[] => "bytes",
        List<object?> => "list",
        object?[] => "tuple",
        Dictionary<string, object?> => "dict",
        HashSet<object?> => "set",
        PickleGlobal g => $"'{g.FullName}'",
        TorchStorageRef => "storage",
        TorchTensorRef => "tensor",
        HostTensor => "tensor",
        _ => v.GetType().Name,
    };

    // ---- reading ----

    TorchCheckpointException Corrupt(string what) => new($"{_where}: corrupt pickle at byte {_op}: {what}; the file is damaged or not a PyTorch checkpoint");

    TorchCheckpointException Truncated() => new($"{_where}: the pickle ends early at byte {_in.Position} (opcode at {_op}); the file is truncated, re-download or re-save it");

    int ReadByte()
    {
        int b = _in.ReadByte();
        return b < 0 ? throw Truncated() : b;
    }

    ReadOnlySpan<byte> Read(long n)
    {
        if (n < 0) throw Corrupt($"negative length {n}");
        if (n > _in.Length - _in.Position) throw Truncated();
        var buf = new byte[n];
        _in.ReadExactly(buf);
        return buf;
    }

    long ReadLength32() => BinaryPrimitives.ReadUInt32LittleEndian(Read(4));

    long ReadLength64()
    {
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(Read(8));
        return n > (ulong)Array.MaxLength ? throw Truncated() : (long)n;
    }

    string ReadLine()
    {
        var b = new List<byte>();
        while (true)
        {
            int c = ReadByte();
            if (c == '\n') break;
            if (b.Count >= MaxLine) throw Corrupt("a text argument longer than 64 KiB");
            b.Add((byte)c);
        }
        if (b.Count > 0 && b[^1] == '\r') b.RemoveAt(b.Count - 1);
        return Encoding.UTF8.GetString(b.ToArray());
    }

    static string Text(ReadOnlySpan<byte> b) => Encoding.UTF8.GetString(b);

    static object Normalize(BigInteger b) => b >= long.MinValue && b <= long.MaxValue ? (long)b : b;

    object ParseBig(string s) => BigInteger.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var b)
        ? Normalize(b) : throw Corrupt($"'{s}' is not an integer");

    object ParseIntLine(string s) => s switch { "00" => false, "01" => true, _ => ParseBig(s) };

    long ParseIndex(string s) => long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v)
        ? v : throw Corrupt($"'{s}' is not a memo index");

    double ParseFloat(string s) => s switch
    {
        "inf" => double.PositiveInfinity,
        "-inf" => double.NegativeInfinity,
        "nan" => double.NaN,
        _ => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : throw Corrupt($"'{s}' is not a float"),
    };

    // STRING carries a Python 2 repr: quotes and backslash escapes.
    string UnquoteString(string s)
    {
        if (s.Length < 2 || s[0] != s[^1] || (s[0] != '\'' && s[0] != '"')) throw Corrupt("STRING argument is not quoted");
        var b = new StringBuilder();
        for (int i = 1; i < s.Length - 1; i++)
        {
            char c = s[i];
            if (c != '\\' || i + 1 >= s.Length - 1) { b.Append(c); continue; }
            char e = s[++i];
            switch (e)
            {
                case 'n': b.Append('\n'); break;
                case 'r': b.Append('\r'); break;
                case 't': b.Append('\t'); break;
                case 'x' when i + 2 < s.Length - 1 && int.TryParse(s.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int h):
                    b.Append((char)h); i += 2; break;
                default: b.Append(e); break;
            }
        }
        return b.ToString();
    }

    // UNICODE carries raw-unicode-escape: only \uXXXX and \UXXXXXXXX are escapes.
    string RawUnicodeEscape(string s)
    {
        var b = new StringBuilder();
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 1 < s.Length && (s[i + 1] == 'u' || s[i + 1] == 'U'))
            {
                int len = s[i + 1] == 'u' ? 4 : 8;
                if (i + 2 + len <= s.Length && int.TryParse(s.AsSpan(i + 2, len), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int cp)
                    && cp >= 0 && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF))
                {
                    b.Append(char.ConvertFromUtf32(cp));
                    i += 1 + len;
                    continue;
                }
            }
            b.Append(s[i]);
        }
        return b.ToString();
    }
}
