using System.Buffers.Binary;
using System.IO.Compression;
using System.Numerics;

namespace Ctmsr.Model.Checkpoints;

/// <summary>
/// Reads PyTorch checkpoints without Python: the zip format of torch &gt;= 1.6 (&lt;name&gt;/data.pkl plus one
/// uncompressed entry &lt;name&gt;/data/&lt;key&gt; per storage) and the legacy format of older torch (pickles of the
/// magic number, protocol version 1001 and sys_info, then the main pickle, the list of storage keys, and each storage
/// as an int64 element count followed by its raw little-endian elements). Pickles run on <see cref="PickleMachine"/>,
/// which only accepts the globals a tensor checkpoint needs, like torch.load(weights_only=True).
/// </summary>
public static class TorchCheckpoint
{
    static readonly BigInteger LegacyMagic = BigInteger.Parse("119547037146038801333356"); // 0x1950a86a20f9469cfc6c
    const long LegacyProtocol = 1001;
    static readonly string[] WellKnownEntries = ["params_ema", "state_dict", "params"];

    /// <summary>
    /// The unpickled object tree: dictionaries as <c>Dictionary&lt;string, object?&gt;</c> in file order, lists as
    /// <c>List&lt;object?&gt;</c>, tuples as <c>object?[]</c>, numbers as long/double/bool, tensors as contiguous
    /// row-major <see cref="HostTensor"/> copies. Throws <see cref="TorchCheckpointException"/> for anything that is
    /// not a readable tensor checkpoint (<see cref="PickleRefusedException"/> where the pickle names a global outside
    /// the allow-list).
    /// </summary>
    public static object? Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file; check the checkpoint path", path);
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var head = new byte[4];
        int n = fs.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        fs.Position = 0;
        if (n == 0) throw NotCheckpoint(path, "the file is empty");
        if (n == 4 && head[0] == 'P' && head[1] == 'K' && (head[2], head[3]) is (3, 4) or (5, 6))
        {
            // ZipArchive reads its directory lazily, so damage can surface on any call into it.
            try { return LoadZip(path, fs); }
            catch (Exception e) when (e is InvalidDataException or NotSupportedException or ArgumentException or (IOException and not TorchCheckpointException))
            {
                throw NotCheckpoint(path, $"a zip archive that cannot be read: {e.Message}; the file is truncated or corrupt", e);
            }
        }
        if (head[0] == 0x80) return LoadLegacy(path, fs);
        if (IsTar(fs)) throw NotCheckpoint(path, "a tar archive from torch < 0.4; load it with an old torch and re-save it with torch.save");
        throw NotCheckpoint(path, $"it starts with bytes {Convert.ToHexString(head, 0, n)}, neither a zip archive (torch >= 1.6) nor a pickle (older torch)");
    }

    /// <summary>
    /// The tensors of a state dict. With <paramref name="key"/>, the top-level entry of that name (e.g. "params_ema");
    /// without, the top level itself where it holds tensors, else the first of "params_ema", "state_dict", "params".
    /// </summary>
    public static Dictionary<string, HostTensor> LoadStateDict(string path, string? key = null)
    {
        var root = Load(path);
        if (root is not Dictionary<string, object?> top)
            throw new TorchCheckpointException($"{path}: the checkpoint holds a {PickleMachine.TypeName(root)}, not a dictionary of tensors; save model.state_dict() instead");
        string? picked = key;
        if (key is not null)
        {
            if (!top.ContainsKey(key))
                throw new TorchCheckpointException($"{path}: no entry '{key}' (top-level keys: {KeyList(top)}); pass one of them as the key");
        }
        else if (!top.Values.Any(v => v is HostTensor))
        {
            picked = WellKnownEntries.FirstOrDefault(top.ContainsKey)
                ?? throw new TorchCheckpointException($"{path}: no tensors at the top level and none of {string.Join(", ", WellKnownEntries)} (top-level keys: {KeyList(top)}); pass the entry that holds the weights as the key");
        }
        var src = top;
        if (picked is not null)
            src = top[picked] as Dictionary<string, object?>
                ?? throw new TorchCheckpointException($"{path}: entry '{picked}' is a {PickleMachine.TypeName(top[picked])}, not a dictionary of tensors; pass another key (top-level keys: {KeyList(top)})");
        var sd = new Dictionary<string, HostTensor>(StringComparer.Ordinal);
        foreach (var (k, v) in src)
            sd[k] = v as HostTensor ?? throw new TorchCheckpointException(
                $"{path}: entry '{(picked is null ? k : picked + "." + k)}' is a {PickleMachine.TypeName(v)}, not a tensor; the state dict holds non-tensor values, pass the key of a plain state dict");
        return sd;
    }

    static string KeyList(Dictionary<string, object?> d) =>
        d.Count == 0 ? "none" : string.Join(", ", d.Keys.Take(20).Select(k => $"'{k}'")) + (d.Count > 20 ? $", ... ({d.Count} in all)" : "");

    static TorchCheckpointException NotCheckpoint(string path, string why, Exception? inner = null) =>
        new($"{path}: not a PyTorch checkpoint ({why})", inner);

    static bool IsTar(FileStream fs)
    {
        if (fs.Length < 263) return false;
        var b = new byte[5];
        fs.Position = 257;
        fs.ReadExactly(b);
        fs.Position = 0;
        return b.AsSpan().SequenceEqual("ustar"u8);
    }

    // ---- zip (torch >= 1.6) ----

    static object? LoadZip(string path, FileStream fs)
    {
        using (var zip = new ZipArchive(fs, ZipArchiveMode.Read, leaveOpen: true))
        {
            var pkl = zip.Entries
                .Where(e => e.FullName == "data.pkl" || e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal))
                .OrderBy(e => e.FullName.Count(c => c == '/'))
                .FirstOrDefault()
                ?? throw NotCheckpoint(path, $"a zip archive without data.pkl; entries: {string.Join(", ", zip.Entries.Take(8).Select(e => e.FullName))}");
            string prefix = pkl.FullName[..^"data.pkl".Length];
            var order = zip.GetEntry(prefix + "byteorder");
            if (order is not null)
            {
                var text = System.Text.Encoding.ASCII.GetString(ReadEntry(path, order)).Trim();
                if (text != "little")
                    throw new TorchCheckpointException($"{path}: storages are stored {text}-endian; Ctmsr reads little-endian checkpoints only, re-save it on a little-endian machine");
            }
            var refs = new Dictionary<string, TorchStorageRef>(StringComparer.Ordinal);
            object? root;
            using (var ms = new MemoryStream(ReadEntry(path, pkl), writable: false))
                root = PickleMachine.Load(ms, $"{path} ({pkl.FullName})", pid => Persistent(pid, refs, null));

            var cache = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            return Resolve(root, path, s =>
            {
                if (cache.TryGetValue(s.Key, out var b)) return b;
                var entry = zip.GetEntry(prefix + "data/" + s.Key)
                    ?? throw new TorchCheckpointException($"{path}: storage entry '{prefix}data/{s.Key}' is missing from the archive; the checkpoint is incomplete, re-save it");
                return cache[s.Key] = ReadEntry(path, entry);
            });
        }
    }

    static byte[] ReadEntry(string path, ZipArchiveEntry e)
    {
        if (e.Length > Array.MaxLength)
            throw new TorchCheckpointException($"{path}: entry '{e.FullName}' holds {e.Length} bytes, more than one array can; Ctmsr cannot load it");
        try
        {
            var b = new byte[e.Length];
            using var s = e.Open();
            s.ReadExactly(b);
            return b;
        }
        catch (Exception ex) when (ex is InvalidDataException or NotSupportedException or ArgumentException or (IOException and not TorchCheckpointException))
        {
            throw new TorchCheckpointException($"{path}: entry '{e.FullName}' cannot be read ({ex.Message}); the file is truncated or corrupt", ex);
        }
    }

    // ---- legacy (torch < 1.6) ----

    static object? LoadLegacy(string path, FileStream fs)
    {
        object? magic;
        try { magic = PickleMachine.Load(fs, path); }
        catch (TorchCheckpointException e) when (e is not PickleRefusedException) { throw NotCheckpoint(path, $"a pickle that does not start with torch's magic number: {e.Message}", e); }
        if (magic is not BigInteger m || m != LegacyMagic)
            throw NotCheckpoint(path, "a pickle without torch's magic number; it was not written by torch.save");
        var protocol = PickleMachine.Load(fs, path);
        if (protocol is not long p || p != LegacyProtocol)
            throw new TorchCheckpointException($"{path}: legacy checkpoint protocol {protocol} is not {LegacyProtocol}; re-save it with a newer torch");
        if (PickleMachine.Load(fs, path) is Dictionary<string, object?> sys && sys.TryGetValue("little_endian", out var le) && le is false)
            throw new TorchCheckpointException($"{path}: the checkpoint was written on a big-endian machine; Ctmsr reads little-endian checkpoints only");

        var refs = new Dictionary<string, TorchStorageRef>(StringComparer.Ordinal);
        var roots = new Dictionary<string, TorchStorageRef>(StringComparer.Ordinal);
        var root = PickleMachine.Load(fs, path, pid => Persistent(pid, refs, roots));
        var keys = PickleMachine.Load(fs, path) as List<object?>
            ?? throw new TorchCheckpointException($"{path}: the storage key list after the main pickle is missing; the file is truncated or corrupt");

        var data = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var count = new byte[8];
        foreach (var k in keys)
        {
            string key = PickleMachine.KeyText(k);
            if (!roots.TryGetValue(key, out var storage))
                throw new TorchCheckpointException($"{path}: storage '{key}' is listed but no tensor uses it; the file is corrupt");
            if (fs.Length - fs.Position < 8) throw Truncated(path, key);
            fs.ReadExactly(count);
            long n = BinaryPrimitives.ReadInt64LittleEndian(count);
            int es = storage.Type.ElementSize;
            if (n < 0 || n > (fs.Length - fs.Position) / es) throw Truncated(path, key);
            var b = new byte[n * es];
            fs.ReadExactly(b);
            data[key] = b;
        }
        return Resolve(root, path, s => data.TryGetValue(s.Key, out var b) ? b
            : throw new TorchCheckpointException($"{path}: storage '{s.Key}' is missing from the end of the file; the file is truncated or corrupt"));
    }

    static TorchCheckpointException Truncated(string path, string key) =>
        new($"{path}: storage '{key}' is cut short; the file is truncated, re-download or re-save it");

    // ---- persistent ids: ('storage', storage_type, key, location, numel[, (view_key, offset, view_size)]) ----

    static TorchStorageRef Persistent(object? pid, Dictionary<string, TorchStorageRef> refs, Dictionary<string, TorchStorageRef>? roots)
    {
        if (pid is not object?[] { Length: >= 5 } t || t[0] is not "storage")
            throw new TorchCheckpointException($"persistent id {PickleMachine.TypeName(pid)} is not a storage reference");
        if (t[1] is not PickleGlobal { Kind: PickleGlobalKind.Storage } type)
            throw new TorchCheckpointException($"persistent id names {PickleMachine.TypeName(t[1])} where a storage type belongs");
        string key = PickleMachine.KeyText(t[2]);
        long numel = PickleAllowList.ToLong(t[4], "storage size");
        if (numel < 0) throw new TorchCheckpointException($"storage '{key}' has negative size {numel}");
        if (!refs.TryGetValue(key, out var root))
        {
            root = new TorchStorageRef(key, type, numel);
            refs[key] = root;
            roots?.Add(key, root);
        }
        if (t.Length < 6 || t[5] is null) return root;
        // Legacy view: a slice of the root storage that gets its own key.
        if (t[5] is not object?[] { Length: 3 } view)
            throw new TorchCheckpointException($"storage '{key}' has view metadata {PickleMachine.TypeName(t[5])}, not (key, offset, size)");
        string viewKey = PickleMachine.KeyText(view[0]);
        if (refs.TryGetValue("view:" + viewKey, out var v)) return v;
        long offset = PickleAllowList.ToLong(view[1], "view offset"), size = PickleAllowList.ToLong(view[2], "view size");
        if (offset < 0 || size < 0 || offset > numel - size)
            throw new TorchCheckpointException($"storage view '{viewKey}' [{offset}, {offset + size}) lies outside its root '{key}' of {numel} elements");
        return refs["view:" + viewKey] = new TorchStorageRef(key, type, size, offset);
    }

    // ---- tensors: replace every TorchTensorRef in the tree by its HostTensor, iteratively (no recursion) ----

    static object? Resolve(object? root, string path, Func<TorchStorageRef, byte[]> storageBytes)
    {
        var done = new Dictionary<TorchTensorRef, HostTensor>(ReferenceEqualityComparer.Instance);
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var work = new Stack<(object container, string name)>();

        HostTensor Materialize(TorchTensorRef t, string name)
        {
            if (done.TryGetValue(t, out var h)) return h;
            var s = t.Storage;
            var bytes = storageBytes(s);
            long es = s.Type.ElementSize, have = bytes.Length / es;
            if (s.Count > have || s.ElementOffset > have - s.Count)
                throw new TorchCheckpointException($"{path}: storage '{s.Key}' should hold {s.Count} elements from element {s.ElementOffset} but has {have}; the file is truncated or corrupt");
            return done[t] = t.Materialize(bytes.AsSpan((int)(s.ElementOffset * es), (int)(s.Count * es)), $"{path}: tensor '{name}'");
        }

        object? Visit(object? v, string name)
        {
            if (v is TorchTensorRef t) return Materialize(t, name);
            if (v is Dictionary<string, object?> or List<object?> or object?[]) work.Push((v, name));
            return v;
        }

        var result = Visit(root, "");
        while (work.Count > 0)
        {
            var (c, name) = work.Pop();
            if (!seen.Add(c)) continue;
            switch (c)
            {
                case Dictionary<string, object?> d:
                    foreach (var k in d.Keys.ToList()) d[k] = Visit(d[k], name.Length == 0 ? k : name + "." + k);
                    break;
                case List<object?> l:
                    for (int i = 0; i < l.Count; i++) l[i] = Visit(l[i], $"{name}[{i}]");
                    break;
                case object?[] a:
                    for (int i = 0; i < a.Length; i++) a[i] = Visit(a[i], $"{name}[{i}]");
                    break;
            }
        }
        return result;
    }
}
