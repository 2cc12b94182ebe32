using System.Runtime.InteropServices;
using System.Text;

namespace Ctmsr.Imaging.Native;

/// <summary>The libpng 1.6 "simplified" API (png_image), bound lazily through function pointers. libpng reports
/// errors with longjmp, which must never cross managed frames; the simplified API catches them in C and returns 0
/// with the text in <see cref="PngImage.Message"/>, which is why only that API is used.</summary>
internal sealed unsafe class LibPng
{
    public const uint ImageVersion = 1;
    public const uint FormatFlagAlpha = 0x01, FormatFlagColor = 0x02, FormatFlagLinear = 0x04, FormatFlagColormap = 0x08;
    public const uint ImageWarning = 1, ImageError = 2;

    static readonly Lazy<LibPng> Instance = new(() => new LibPng(), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The bound API; throws DllNotFoundException (one line, with the apt-get fix) if the library is missing.</summary>
    public static LibPng Api => Instance.Value;

    public readonly delegate* unmanaged[Cdecl]<PngImage*, void*, nuint, int> BeginReadFromMemory;
    public readonly delegate* unmanaged[Cdecl]<PngImage*, void*, void*, int, void*, int> FinishRead;
    public readonly delegate* unmanaged[Cdecl]<PngImage*, void*, nuint*, int, void*, int, void*, int> WriteToMemory;
    public readonly delegate* unmanaged[Cdecl]<PngImage*, void> Free;

    LibPng()
    {
        var lib = NativeLibraryLoader.Load("libpng16.so.16", "libpng16-16");
        BeginReadFromMemory = (delegate* unmanaged[Cdecl]<PngImage*, void*, nuint, int>)lib.Export("png_image_begin_read_from_memory");
        FinishRead = (delegate* unmanaged[Cdecl]<PngImage*, void*, void*, int, void*, int>)lib.Export("png_image_finish_read");
        WriteToMemory = (delegate* unmanaged[Cdecl]<PngImage*, void*, nuint*, int, void*, int, void*, int>)lib.Export("png_image_write_to_memory");
        Free = (delegate* unmanaged[Cdecl]<PngImage*, void>)lib.Export("png_image_free");
    }
}

/// <summary>png_image from png.h (LP64 layout: pointer, seven uint32, char[64]).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct PngImage
{
    public nint Opaque;
    public uint Version;
    public uint Width;
    public uint Height;
    public uint Format;
    public uint Flags;
    public uint ColormapEntries;
    public uint WarningOrError;
    public fixed byte MessageBytes[64];

    public string Message
    {
        get
        {
            fixed (byte* p = MessageBytes)
            {
                int n = 0;
                while (n < 64 && p[n] != 0) n++;
                return Encoding.ASCII.GetString(p, n);
            }
        }
    }
}
