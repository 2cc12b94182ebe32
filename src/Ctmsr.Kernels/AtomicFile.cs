namespace Ctmsr.Kernels;

/// <summary>Writes a file through a temporary sibling and a rename, so readers never see a torn file. Temporaries
/// are named .NAME.PID.GUID.tmp; one left by a process that no longer runs (kill -9) is removed on the next write of
/// the same file; one in flight when the process leaves through Environment.Exit (a forced Ctrl+C exit) is removed on
/// the way out. Errors name the target, not the temporary.</summary>
public static class AtomicFile
{
    static readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> InFlight = new();

    static AtomicFile() => AppDomain.CurrentDomain.ProcessExit += (_, _) => RemoveInFlight();

    /// <summary>Deletes the temporaries being written now (their targets stay as they were): for a process that is
    /// leaving without waiting for its writers. A writer whose temporary went fails instead of renaming it.</summary>
    public static void RemoveInFlight()
    {
        foreach (var tmp in InFlight.Keys)
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public static void Write(string path, Action<Stream> write)
    {
        string full = System.IO.Path.GetFullPath(path);
        string dir = System.IO.Path.GetDirectoryName(full)!;
        string name = System.IO.Path.GetFileName(full);
        string tmp = System.IO.Path.Combine(dir, $".{name}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        FileStream created;
        try
        {
            Directory.CreateDirectory(dir);
            RemoveStale(dir, name);
            InFlight[tmp] = 0;
            created = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            InFlight.TryRemove(tmp, out _);
            throw new IOException($"{full}: cannot write this file ({e.GetType().Name.Replace("Exception", "")}: the folder {dir} is not writable or not there): choose another output path or fix the folder's permissions", e);
        }
        try
        {
            using (var fs = created)
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { }
            throw;
        }
        finally { InFlight.TryRemove(tmp, out _); }
    }

    /// <summary>Deletes temporaries of <paramref name="name"/> whose writing process is gone.</summary>
    static void RemoveStale(string dir, string name)
    {
        foreach (var f in Directory.EnumerateFiles(dir, $".{name}.*.tmp"))
        {
            var parts = System.IO.Path.GetFileName(f)[(name.Length + 2)..].Split('.');
            if (parts.Length != 3 || !int.TryParse(parts[0], out int pid) || pid == Environment.ProcessId || IsAlive(pid)) continue;
            try { File.Delete(f); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    static bool IsAlive(int pid)
    {
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    /// <summary>True when a file can be created in <paramref name="dir"/>, or in the nearest existing folder above it
    /// when it does not exist yet (nothing is created but a probe file, deleted at once): checked before long work whose
    /// results go there.</summary>
    public static bool CanWriteIn(string dir, out string? reason)
    {
        try
        {
            string d = System.IO.Path.GetFullPath(dir);
            while (!Directory.Exists(d))
            {
                if (File.Exists(d)) { reason = $"{d} is a file, not a folder"; return false; }
                d = System.IO.Path.GetDirectoryName(d) ?? throw new DirectoryNotFoundException($"no existing folder above {dir}");
            }
            string probe = System.IO.Path.Combine(d, $".ctmsr-probe.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
            reason = null;
            return true;
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            reason = e.Message;
            return false;
        }
    }

    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, s => s.Write(bytes));
    public static void WriteAllText(string path, string text) => WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text));
}
