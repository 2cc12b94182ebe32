using System.Numerics;
using System.Text;

namespace Ctmsr.Model.Checkpoints;

/// <summary>
/// The only globals a checkpoint pickle may name, in the spirit of torch.load(weights_only=True). Each maps to a fixed
/// C# implementation that returns plain values, so a pickle can never run code or create arbitrary objects; anything
/// else is refused when the pickle names it (GLOBAL / STACK_GLOBAL), before any call.
/// </summary>
internal static class PickleAllowList
{
    public const string Why = "Ctmsr only reads tensor checkpoints, like torch.load(weights_only=True)";

    static readonly Dictionary<string, PickleGlobal> Table = Build();

    public static PickleGlobal Resolve(string module, string name, string where)
    {
        if (Table.TryGetValue(module + "." + name, out var g)) return g;
        throw new PickleRefusedException($"{where}: refusing to load '{Printable(module)}.{Printable(name)}': {Why}");
    }

    static string Printable(string s)
    {
        if (s.Length > 200) s = s[..200] + "...";
        var b = new StringBuilder(s.Length);
        foreach (char c in s) b.Append(char.IsControl(c) ? '?' : c);
        return b.ToString();
    }

    static Dictionary<string, PickleGlobal> Build()
    {
        var t = new Dictionary<string, PickleGlobal>(StringComparer.Ordinal);
        void Add(PickleGlobal g) => t[g.FullName] = g;

        Add(new PickleGlobal("collections", "OrderedDict", PickleGlobalKind.Class, NewOrderedDict));
        Add(new PickleGlobal("torch", "Size", PickleGlobalKind.Class, a => a.Length == 0 ? Array.Empty<object?>() : ToTuple(a[0], "torch.Size")));
        Add(new PickleGlobal("torch", "device", PickleGlobalKind.Class, a => string.Join(":", a)));
        Add(new PickleGlobal("torch", "Tensor", PickleGlobalKind.TypeTag));
        Add(new PickleGlobal("torch.nn.parameter", "Parameter", PickleGlobalKind.TypeTag));
        Add(new PickleGlobal("_codecs", "encode", PickleGlobalKind.Function, Encode));

        Add(new PickleGlobal("torch._utils", "_rebuild_tensor", PickleGlobalKind.Function, a => RebuildTensor(a, 4, "_rebuild_tensor")));
        Add(new PickleGlobal("torch._utils", "_rebuild_tensor_v2", PickleGlobalKind.Function, a => RebuildTensor(a, 6, "_rebuild_tensor_v2")));
        Add(new PickleGlobal("torch._utils", "_rebuild_tensor_v3", PickleGlobalKind.Function, RebuildTensorV3));
        Add(new PickleGlobal("torch._utils", "_rebuild_parameter", PickleGlobalKind.Function, a => Arg(a, 0, 3, "_rebuild_parameter")));
        Add(new PickleGlobal("torch._utils", "_rebuild_parameter_with_state", PickleGlobalKind.Function, a => Arg(a, 0, 4, "_rebuild_parameter_with_state")));
        Add(new PickleGlobal("torch._utils", "_rebuild_from_type_v2", PickleGlobalKind.Function, RebuildFromType));

        foreach (var (storage, dtype, size) in new (string, DType?, int)[]
        {
            ("FloatStorage", DType.F32, 4), ("HalfStorage", DType.F16, 2), ("BFloat16Storage", DType.BF16, 2),
            ("DoubleStorage", DType.F64, 8), ("LongStorage", DType.I64, 8), ("IntStorage", DType.I32, 4),
            ("ByteStorage", DType.U8, 1), ("BoolStorage", DType.Bool, 1),
            ("ShortStorage", null, 2), ("CharStorage", null, 1), ("ComplexFloatStorage", null, 8), ("ComplexDoubleStorage", null, 16),
        })
        {
            Add(new PickleGlobal("torch", storage, PickleGlobalKind.Storage) { DType = dtype, ElementSize = size });
            Add(new PickleGlobal("torch.cuda", storage, PickleGlobalKind.Storage) { DType = dtype, ElementSize = size });
        }
        Add(new PickleGlobal("torch", "UntypedStorage", PickleGlobalKind.Storage) { DType = DType.U8, ElementSize = 1 });
        Add(new PickleGlobal("torch.storage", "UntypedStorage", PickleGlobalKind.Storage) { DType = DType.U8, ElementSize = 1 });

        foreach (var (name, dtype) in new (string, DType?)[]
        {
            ("float32", DType.F32), ("float", DType.F32), ("float16", DType.F16), ("half", DType.F16), ("bfloat16", DType.BF16),
            ("float64", DType.F64), ("double", DType.F64), ("int64", DType.I64), ("long", DType.I64), ("int32", DType.I32),
            ("int", DType.I32), ("uint8", DType.U8), ("bool", DType.Bool), ("int16", null), ("short", null), ("int8", null),
            ("complex64", null), ("complex128", null), ("float8_e4m3fn", null), ("float8_e5m2", null),
        })
            Add(new PickleGlobal("torch", name, PickleGlobalKind.DTypeTag) { DType = dtype });
        return t;
    }

    static object? NewOrderedDict(object?[] a)
    {
        var d = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (a.Length == 0 || a[0] is null) return d;
        if (a[0] is Dictionary<string, object?> src)
        {
            foreach (var (k, v) in src) d[k] = v;
            return d;
        }
        var items = a[0] switch { List<object?> l => l.ToArray(), object?[] tu => tu, _ => null }
            ?? throw new TorchCheckpointException($"OrderedDict expects a list of (key, value) pairs, found {PickleMachine.TypeName(a[0])}; the checkpoint is corrupt");
        foreach (var item in items)
        {
            var pair = item switch { List<object?> l => l.ToArray(), object?[] tu => tu, _ => null };
            if (pair is not { Length: 2 })
                throw new TorchCheckpointException($"OrderedDict expects (key, value) pairs, found {PickleMachine.TypeName(item)}; the checkpoint is corrupt");
            d[PickleMachine.KeyText(pair[0])] = pair[1];
        }
        return d;
    }

    static object? Encode(object?[] a)
    {
        // protocol 2 writes bytes as _codecs.encode(str, 'latin1'): each char is one byte.
        if (a.Length < 1 || a[0] is not string s) throw new TorchCheckpointException("_codecs.encode expects a string; the checkpoint is corrupt");
        var enc = a.Length > 1 ? a[1] as string : "utf-8";
        return enc is "latin1" or "latin-1" or "iso-8859-1" ? Encoding.Latin1.GetBytes(s) : Encoding.UTF8.GetBytes(s);
    }

    static object? Arg(object?[] a, int i, int min, string fn)
    {
        if (a.Length < min) throw new TorchCheckpointException($"{fn} expects {min} arguments, got {a.Length}; the checkpoint is corrupt");
        return a[i];
    }

    static object? RebuildTensor(object?[] a, int min, string fn)
    {
        Arg(a, 0, min, fn);
        var storage = a[0] as TorchStorageRef
            ?? throw new TorchCheckpointException($"{fn}: the first argument must be a storage, found {PickleMachine.TypeName(a[0])}; the checkpoint is corrupt");
        return new TorchTensorRef(storage, storage.Type, ToLong(a[1], fn), ToLongs(a[2], fn), ToLongs(a[3], fn));
    }

    static object? RebuildTensorV3(object?[] a)
    {
        Arg(a, 0, 7, "_rebuild_tensor_v3");
        var storage = a[0] as TorchStorageRef
            ?? throw new TorchCheckpointException($"_rebuild_tensor_v3: the first argument must be a storage, found {PickleMachine.TypeName(a[0])}; the checkpoint is corrupt");
        var dtype = a[6] is PickleGlobal { Kind: PickleGlobalKind.DTypeTag } g ? g
            : throw new TorchCheckpointException($"_rebuild_tensor_v3: the dtype argument is {PickleMachine.TypeName(a[6])}; the checkpoint is corrupt");
        return new TorchTensorRef(storage, dtype, ToLong(a[1], "_rebuild_tensor_v3"), ToLongs(a[2], "_rebuild_tensor_v3"), ToLongs(a[3], "_rebuild_tensor_v3"));
    }

    static object? RebuildFromType(object?[] a)
    {
        // (func, new_type, args, state): rebuild the plain tensor with func, ignore the subclass and its Python state.
        Arg(a, 0, 3, "_rebuild_from_type_v2");
        if (a[0] is not PickleGlobal { Kind: PickleGlobalKind.Function, Call: not null } f)
            throw new PickleRefusedException($"refusing to call {PickleMachine.TypeName(a[0])} from _rebuild_from_type_v2: {Why}");
        return f.Call(ToTuple(a[2], "_rebuild_from_type_v2"));
    }

    static object?[] ToTuple(object? v, string fn) => v switch
    {
        object?[] t => t,
        List<object?> l => l.ToArray(),
        _ => throw new TorchCheckpointException($"{fn}: expected a tuple, found {PickleMachine.TypeName(v)}; the checkpoint is corrupt"),
    };

    internal static long ToLong(object? v, string fn) => v switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        BigInteger bi when bi >= long.MinValue && bi <= long.MaxValue => (long)bi,
        _ => throw new TorchCheckpointException($"{fn}: expected an integer, found {PickleMachine.TypeName(v)}; the checkpoint is corrupt"),
    };

    static long[] ToLongs(object? v, string fn) => Array.ConvertAll(ToTuple(v, fn), x => ToLong(x, fn));
}
