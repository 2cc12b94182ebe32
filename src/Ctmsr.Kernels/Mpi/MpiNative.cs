using System.Runtime.InteropServices;

namespace Ctmsr.Kernels.Mpi;

/// <summary>
/// The MPI 3 entry points Ctmsr uses, bound to Open MPI's libmpi.so.40 (Debian's openmpi 4.x; Open MPI 5 keeps the
/// soname). Open MPI's handles (MPI_Comm, MPI_Datatype, MPI_Op, MPI_Request) are pointers; the predefined ones are
/// the addresses of exported globals, resolved once in <see cref="MpiHandles"/>. MPICH's integer handles are not
/// supported (its libmpi.so.12 exports no such globals, and loading fails with a message that says so).
/// </summary>
static unsafe partial class MpiNative
{
    public const string Lib = "libmpi.so.40";

    public const int MPI_SUCCESS = 0;
    public const int MPI_THREAD_SINGLE = 0, MPI_THREAD_FUNNELED = 1, MPI_THREAD_SERIALIZED = 2, MPI_THREAD_MULTIPLE = 3;
    public const int MPI_MAX_ERROR_STRING = 256;
    /// <summary>Open MPI's MPI_IN_PLACE ((void*)1) and MPI_STATUS(ES)_IGNORE (NULL).</summary>
    public static readonly void* InPlace = (void*)1;

    [LibraryImport(Lib)] public static partial int MPI_Init_thread(int* argc, byte*** argv, int required, int* provided);
    [LibraryImport(Lib)] public static partial int MPI_Initialized(int* flag);
    [LibraryImport(Lib)] public static partial int MPI_Finalized(int* flag);
    [LibraryImport(Lib)] public static partial int MPI_Finalize();
    [LibraryImport(Lib)] public static partial int MPI_Abort(nint comm, int errorcode);
    [LibraryImport(Lib)] public static partial int MPI_Comm_rank(nint comm, int* rank);
    [LibraryImport(Lib)] public static partial int MPI_Comm_size(nint comm, int* size);
    [LibraryImport(Lib)] public static partial int MPI_Comm_set_errhandler(nint comm, nint errhandler);
    [LibraryImport(Lib)] public static partial int MPI_Error_string(int errorcode, byte* text, int* length);
    [LibraryImport(Lib)] public static partial int MPI_Barrier(nint comm);
    [LibraryImport(Lib)] public static partial int MPI_Bcast(void* buffer, int count, nint datatype, int root, nint comm);
    [LibraryImport(Lib)] public static partial int MPI_Allreduce(void* sendbuf, void* recvbuf, int count, nint datatype, nint op, nint comm);
    [LibraryImport(Lib)] public static partial int MPI_Iallreduce(void* sendbuf, void* recvbuf, int count, nint datatype, nint op, nint comm, nint* request);
    [LibraryImport(Lib)] public static partial int MPI_Wait(nint* request, void* status);
    [LibraryImport(Lib)] public static partial int MPI_Test(nint* request, int* flag, void* status);
}

/// <summary>The predefined Open MPI handles this binding uses: addresses of libmpi's exported globals.</summary>
sealed class MpiHandles
{
    public nint CommWorld { get; }
    public nint Float { get; }
    public nint Double { get; }
    public nint Byte { get; }
    public nint Sum { get; }
    public nint Max { get; }
    public nint ErrorsReturn { get; }

    MpiHandles(nint lib)
    {
        nint Get(string name) => NativeLibrary.TryGetExport(lib, name, out var a) ? a
            : throw new MpiException($"{MpiNative.Lib} does not export {name}: it is not Open MPI (Ctmsr's MPI binding supports Open MPI 4/5 only); install openmpi-bin libopenmpi-dev and launch with Open MPI's mpirun");
        CommWorld = Get("ompi_mpi_comm_world");
        Float = Get("ompi_mpi_float");
        Double = Get("ompi_mpi_double");
        Byte = Get("ompi_mpi_byte");
        Sum = Get("ompi_mpi_op_sum");
        Max = Get("ompi_mpi_op_max");
        ErrorsReturn = Get("ompi_mpi_errors_return");
    }

    public static MpiHandles Resolve()
    {
        nint lib;
        try { lib = NativeLibrary.Load(MpiNative.Lib); }
        catch (DllNotFoundException e)
        {
            throw new MpiException($"cannot load {MpiNative.Lib} ({e.Message}): install Open MPI (apt-get install openmpi-bin libopenmpi-dev, or scripts/deps.sh) or run without mpirun/--distributed");
        }
        return new MpiHandles(lib);
    }
}

/// <summary>An MPI call that failed, or an MPI environment that cannot work; the message names the cause and the fix.</summary>
public sealed class MpiException(string message) : Exception(message);
