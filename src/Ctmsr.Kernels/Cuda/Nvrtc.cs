using System.Runtime.InteropServices;
using System.Text;

namespace Ctmsr.Kernels.Cuda;

/// <summary>
/// NVRTC, loaded at run time from the first soname that exists (libnvrtc.so.13, .12, .11.2, libnvrtc.so), since
/// its soname carries the CUDA major version. Compiles the shared kernel sources (with prelude_cuda.h) to PTX.
/// </summary>
sealed unsafe class Nvrtc
{
    public static readonly string[] Sonames = ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"];

    readonly delegate* unmanaged<nint*, byte*, byte*, int, byte**, byte**, int> create;
    readonly delegate* unmanaged<nint, int, byte**, int> compile;
    readonly delegate* unmanaged<nint, nuint*, int> logSize;
    readonly delegate* unmanaged<nint, byte*, int> getLog;
    readonly delegate* unmanaged<nint, nuint*, int> ptxSize;
    readonly delegate* unmanaged<nint, byte*, int> getPtx;
    readonly delegate* unmanaged<nint*, int> destroy;
    readonly delegate* unmanaged<int, byte*> errorString;

    public string Soname { get; }
    public (int Major, int Minor) Version { get; }

    Nvrtc(nint lib, string soname)
    {
        Soname = soname;
        create = (delegate* unmanaged<nint*, byte*, byte*, int, byte**, byte**, int>)NativeLibrary.GetExport(lib, "nvrtcCreateProgram");
        compile = (delegate* unmanaged<nint, int, byte**, int>)NativeLibrary.GetExport(lib, "nvrtcCompileProgram");
        logSize = (delegate* unmanaged<nint, nuint*, int>)NativeLibrary.GetExport(lib, "nvrtcGetProgramLogSize");
        getLog = (delegate* unmanaged<nint, byte*, int>)NativeLibrary.GetExport(lib, "nvrtcGetProgramLog");
        ptxSize = (delegate* unmanaged<nint, nuint*, int>)NativeLibrary.GetExport(lib, "nvrtcGetPTXSize");
        getPtx = (delegate* unmanaged<nint, byte*, int>)NativeLibrary.GetExport(lib, "nvrtcGetPTX");
        destroy = (delegate* unmanaged<nint*, int>)NativeLibrary.GetExport(lib, "nvrtcDestroyProgram");
        errorString = (delegate* unmanaged<int, byte*>)NativeLibrary.GetExport(lib, "nvrtcGetErrorString");
        var version = (delegate* unmanaged<int*, int*, int>)NativeLibrary.GetExport(lib, "nvrtcVersion");
        int ma = 0, mi = 0;
        version(&ma, &mi);
        Version = (ma, mi);
    }

    /// <summary>Loads NVRTC or explains how to install it.</summary>
    public static Nvrtc Load()
    {
        foreach (var name in Sonames)
            if (NativeLibrary.TryLoad(name, typeof(Nvrtc).Assembly, null, out var lib)) return new Nvrtc(lib, name);
        throw new CudaException($"NVRTC not found (tried {string.Join(", ", Sonames)}): install the CUDA runtime compiler " +
            "(apt-get install nvidia-cuda-toolkit, or libnvrtc from the CUDA toolkit / pip nvidia-cuda-nvrtc-cu12 on LD_LIBRARY_PATH), or use --device cuda (the ILGPU kernels need no NVRTC), opencl or cpu");
    }

    string Error(int status) => Marshal.PtrToStringUTF8((nint)errorString(status)) ?? $"NVRTC error {status}";

    /// <summary>Compiles CUDA C++ <paramref name="source"/> to PTX; the exception carries the compile log.</summary>
    public byte[] CompileToPtx(string source, string name, IReadOnlyList<string> options, out int status)
    {
        nint prog = 0;
        var src = Encoding.UTF8.GetBytes(source + "\0");
        var nm = Encoding.UTF8.GetBytes(name + "\0");
        fixed (byte* s = src, n = nm)
        {
            int st = create(&prog, s, n, 0, null, null);
            if (st != 0) throw new CudaException($"nvrtcCreateProgram failed: {Error(st)}; reinstall NVRTC ({Soname}) or use --device opencl");
        }
        try
        {
            var optBytes = options.Select(o => Encoding.UTF8.GetBytes(o + "\0")).ToArray();
            var handles = optBytes.Select(o => GCHandle.Alloc(o, GCHandleType.Pinned)).ToArray();
            try
            {
                var ptrs = stackalloc byte*[optBytes.Length];
                for (int i = 0; i < optBytes.Length; i++) ptrs[i] = (byte*)handles[i].AddrOfPinnedObject();
                status = compile(prog, optBytes.Length, ptrs);
            }
            finally { foreach (var h in handles) h.Free(); }
            if (status != 0)
            {
                if (status == 5) return []; // NVRTC_ERROR_INVALID_OPTION: caller retries with an older architecture
                throw new CudaException($"NVRTC ({Soname}) could not compile {name} with '{string.Join(' ', options)}': {Error(status)}; " +
                    $"compile log:\n{Log(prog)}\nreport it with the GPU name, or use --device opencl or cpu");
            }
            nuint size = 0;
            ptxSize(prog, &size);
            var ptx = new byte[(int)size];
            fixed (byte* p = ptx) getPtx(prog, p);
            return ptx;
        }
        finally { destroy(&prog); }
    }

    string Log(nint prog)
    {
        nuint size = 0;
        if (logSize(prog, &size) != 0 || size == 0) return "(no log)";
        var buf = new byte[(int)size];
        fixed (byte* b = buf) getLog(prog, b);
        return Encoding.UTF8.GetString(buf).TrimEnd('\0');
    }
}
