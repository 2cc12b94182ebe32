using System.Runtime.InteropServices;

namespace Ctmsr.Imaging.Native;

/// <summary>The TurboJPEG 2.x C API (libturbojpeg.so.0), bound lazily through function pointers.
/// Handles are not thread-safe; callers create one per operation.</summary>
internal sealed unsafe class TurboJpeg
{
    // Constants from turbojpeg.h (libjpeg-turbo 2.1).
    public const int PfRgb = 0, PfGray = 6, PfCmyk = 11;
    public const int Samp444 = 0, Samp422 = 1, Samp420 = 2, SampGray = 3;
    public const int CsRgb = 0, CsYCbCr = 1, CsGray = 2, CsCmyk = 3, CsYcck = 4;
    public const int FlagAccurateDct = 4096, FlagStopOnWarning = 8192, FlagLimitScans = 32768;
    public const int ErrWarning = 0, ErrFatal = 1;

    static readonly Lazy<TurboJpeg> Instance = new(() => new TurboJpeg(), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The bound API; throws DllNotFoundException (one line, with the apt-get fix) if the library is missing.</summary>
    public static TurboJpeg Api => Instance.Value;

    public readonly delegate* unmanaged[Cdecl]<nint> InitDecompress;
    public readonly delegate* unmanaged[Cdecl]<nint> InitCompress;
    public readonly delegate* unmanaged[Cdecl]<nint, byte*, nuint, int*, int*, int*, int*, int> DecompressHeader3;
    public readonly delegate* unmanaged[Cdecl]<nint, byte*, nuint, byte*, int, int, int, int, int, int> Decompress2;
    public readonly delegate* unmanaged[Cdecl]<nint, byte*, int, int, int, int, byte**, nuint*, int, int, int, int> Compress2;
    public readonly delegate* unmanaged[Cdecl]<nint, byte*> GetErrorStr2;
    public readonly delegate* unmanaged[Cdecl]<nint, int> GetErrorCode;
    public readonly delegate* unmanaged[Cdecl]<nint, int> Destroy;
    public readonly delegate* unmanaged[Cdecl]<byte*, void> Free;

    TurboJpeg()
    {
        var lib = NativeLibraryLoader.Load("libturbojpeg.so.0", "libturbojpeg0");
        InitDecompress = (delegate* unmanaged[Cdecl]<nint>)lib.Export("tjInitDecompress");
        InitCompress = (delegate* unmanaged[Cdecl]<nint>)lib.Export("tjInitCompress");
        DecompressHeader3 = (delegate* unmanaged[Cdecl]<nint, byte*, nuint, int*, int*, int*, int*, int>)lib.Export("tjDecompressHeader3");
        Decompress2 = (delegate* unmanaged[Cdecl]<nint, byte*, nuint, byte*, int, int, int, int, int, int>)lib.Export("tjDecompress2");
        Compress2 = (delegate* unmanaged[Cdecl]<nint, byte*, int, int, int, int, byte**, nuint*, int, int, int, int>)lib.Export("tjCompress2");
        GetErrorStr2 = (delegate* unmanaged[Cdecl]<nint, byte*>)lib.Export("tjGetErrorStr2");
        GetErrorCode = (delegate* unmanaged[Cdecl]<nint, int>)lib.Export("tjGetErrorCode");
        Destroy = (delegate* unmanaged[Cdecl]<nint, int>)lib.Export("tjDestroy");
        Free = (delegate* unmanaged[Cdecl]<byte*, void>)lib.Export("tjFree");
    }

    public string ErrorText(nint handle) => Marshal.PtrToStringUTF8((nint)GetErrorStr2(handle)) ?? "unknown TurboJPEG error";
}
