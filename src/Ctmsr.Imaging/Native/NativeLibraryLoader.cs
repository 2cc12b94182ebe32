using System.Runtime.InteropServices;

namespace Ctmsr.Imaging.Native;

/// <summary>Loads a shared library by its soname and looks up exports, turning a missing library into a one-line
/// DllNotFoundException that says which Debian package provides it. Function pointers are used instead of an
/// assembly-wide DllImportResolver so that other code in this assembly stays free to register its own.</summary>
internal sealed class NativeLibraryLoader
{
    readonly nint _handle;
    readonly string _name;

    NativeLibraryLoader(nint handle, string name)
    {
        _handle = handle;
        _name = name;
    }

    public static NativeLibraryLoader Load(string soname, string debianPackage)
    {
        if (NativeLibrary.TryLoad(soname, out var h)) return new NativeLibraryLoader(h, soname);
        throw new DllNotFoundException($"{soname} not found: install it with `apt-get install {debianPackage}`");
    }

    public nint Export(string symbol)
    {
        if (NativeLibrary.TryGetExport(_handle, symbol, out var p)) return p;
        throw new EntryPointNotFoundException($"{_name} has no export {symbol}: the installed library is too old, upgrade it");
    }
}
