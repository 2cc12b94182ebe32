using System.Text;

namespace Ctmsr.Kernels.Mpi;

/// <summary>
/// MPI_COMM_WORLD of a process started by Open MPI's mpirun: rank, size, the collectives data-parallel training
/// needs (broadcast, allreduce, non-blocking allreduce, barrier) and abort. Every call is checked (errors return,
/// they do not abort inside the library) and a failure throws <see cref="MpiException"/> naming the call.
/// MPI is called from the thread that initialised it only (MPI_THREAD_FUNNELED is all this needs).
/// </summary>
public sealed unsafe class MpiWorld : IDisposable
{
    readonly MpiHandles _h;
    bool _finalized;

    public int Rank { get; }
    public int Size { get; }
    /// <summary>This rank's index among the ranks on its machine (picks the GPU of a multi-GPU node).</summary>
    public int LocalRank { get; }
    /// <summary>The thread support the library granted (MPI_THREAD_*).</summary>
    public int ThreadLevel { get; }

    /// <summary>True when an MPI launcher started this process (Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE; MPICH's sets PMI_SIZE).</summary>
    public static bool Launched => Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is not null
                                   || Environment.GetEnvironmentVariable("PMI_SIZE") is not null;

    MpiWorld(MpiHandles h, int rank, int size, int localRank, int level)
    {
        _h = h; Rank = rank; Size = size; LocalRank = localRank; ThreadLevel = level;
    }

    /// <summary>MPI_Init_thread (FUNNELED) on MPI_COMM_WORLD, with errors returned to the caller.</summary>
    public static MpiWorld Init()
    {
        if (Environment.GetEnvironmentVariable("PMI_SIZE") is not null && Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is null)
            throw new MpiException("this process was started by MPICH's launcher, but Ctmsr's MPI binding supports Open MPI only: install openmpi-bin libopenmpi-dev and launch with Open MPI's mpirun");
        var h = MpiHandles.Resolve();
        int initialized;
        Check(MpiNative.MPI_Initialized(&initialized), "MPI_Initialized");
        if (initialized != 0) throw new MpiException("MPI is already initialised in this process; create one MpiWorld per process");
        int provided;
        Check(MpiNative.MPI_Init_thread(null, null, MpiNative.MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
        Check(MpiNative.MPI_Comm_set_errhandler(h.CommWorld, h.ErrorsReturn), "MPI_Comm_set_errhandler");
        int rank, size;
        Check(MpiNative.MPI_Comm_rank(h.CommWorld, &rank), "MPI_Comm_rank");
        Check(MpiNative.MPI_Comm_size(h.CommWorld, &size), "MPI_Comm_size");
        int local = int.TryParse(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_LOCAL_RANK"), out var lr) ? lr : rank;
        return new MpiWorld(h, rank, size, local, provided);
    }

    public void Barrier() => Check(MpiNative.MPI_Barrier(_h.CommWorld), "MPI_Barrier");

    /// <summary>Rank <paramref name="root"/>'s bytes into every rank's <paramref name="data"/> (same length on all ranks).</summary>
    public void Broadcast(Span<byte> data, int root = 0)
    {
        fixed (byte* p = data)
            for (long o = 0; o < data.Length; o += int.MaxValue)
                Check(MpiNative.MPI_Bcast(p + o, (int)Math.Min(int.MaxValue, data.Length - o), _h.Byte, root, _h.CommWorld), "MPI_Bcast");
    }

    public void Broadcast(Span<float> data, int root = 0)
    {
        fixed (float* p = data)
            for (long o = 0; o < data.Length; o += int.MaxValue)
                Check(MpiNative.MPI_Bcast(p + o, (int)Math.Min(int.MaxValue, data.Length - o), _h.Float, root, _h.CommWorld), "MPI_Bcast");
    }

    /// <summary>A string from the root to every rank (others pass anything, e.g. null).</summary>
    public string BroadcastString(string? value, int root = 0)
    {
        var bytes = Rank == root ? Encoding.UTF8.GetBytes(value ?? "") : [];
        var len = new[] { (double)bytes.Length };
        Broadcast(len.AsSpan(), root);
        if (Rank != root) bytes = new byte[(int)len[0]];
        Broadcast(bytes.AsSpan(), root);
        return Encoding.UTF8.GetString(bytes);
    }

    void Broadcast(Span<double> data, int root)
    {
        fixed (double* p = data) Check(MpiNative.MPI_Bcast(p, data.Length, _h.Double, root, _h.CommWorld), "MPI_Bcast");
    }

    /// <summary>Element-wise sum over ranks, in place.</summary>
    public void AllreduceSum(Span<double> data)
    {
        fixed (double* p = data) Check(MpiNative.MPI_Allreduce(MpiNative.InPlace, p, data.Length, _h.Double, _h.Sum, _h.CommWorld), "MPI_Allreduce");
    }

    public void AllreduceSum(Span<float> data)
    {
        fixed (float* p = data)
            for (long o = 0; o < data.Length; o += int.MaxValue)
                Check(MpiNative.MPI_Allreduce(MpiNative.InPlace, p + o, (int)Math.Min(int.MaxValue, data.Length - o), _h.Float, _h.Sum, _h.CommWorld), "MPI_Allreduce");
    }

    /// <summary>Element-wise maximum over ranks, in place.</summary>
    public void AllreduceMax(Span<double> data)
    {
        fixed (double* p = data) Check(MpiNative.MPI_Allreduce(MpiNative.InPlace, p, data.Length, _h.Double, _h.Max, _h.CommWorld), "MPI_Allreduce");
    }

    /// <summary>
    /// Starts an in-place sum over ranks of <paramref name="count"/> floats at <paramref name="buffer"/> (MPI_Iallreduce).
    /// The memory must stay put (native or pinned) until <see cref="Wait"/> or a true <see cref="Test"/>.
    /// </summary>
    public MpiRequest StartAllreduceSum(float* buffer, int count)
    {
        nint req;
        Check(MpiNative.MPI_Iallreduce(MpiNative.InPlace, buffer, count, _h.Float, _h.Sum, _h.CommWorld, &req), "MPI_Iallreduce");
        return new MpiRequest(req);
    }

    /// <summary>Drives progress and says whether the request is done (then it is freed).</summary>
    public bool Test(ref MpiRequest r)
    {
        if (r.Done) return true;
        int flag;
        nint h = r.Handle;
        Check(MpiNative.MPI_Test(&h, &flag, null), "MPI_Test");
        if (flag != 0) r = new MpiRequest(0);
        return flag != 0;
    }

    public void Wait(ref MpiRequest r)
    {
        if (r.Done) return;
        nint h = r.Handle;
        Check(MpiNative.MPI_Wait(&h, null), "MPI_Wait");
        r = new MpiRequest(0);
    }

    /// <summary>Ends every rank of the job with <paramref name="code"/> (MPI_Abort); used when one rank cannot go on, so none hangs.</summary>
    public void Abort(int code)
    {
        Console.Out.Flush(); Console.Error.Flush();
        MpiNative.MPI_Abort(_h.CommWorld, code);
        Environment.Exit(code); // MPI_Abort does not return; this is for a library that does
    }

    public void Dispose()
    {
        if (_finalized) return;
        _finalized = true;
        Check(MpiNative.MPI_Finalize(), "MPI_Finalize");
    }

    static void Check(int status, string call)
    {
        if (status == MpiNative.MPI_SUCCESS) return;
        var text = new byte[MpiNative.MPI_MAX_ERROR_STRING];
        int len = 0;
        fixed (byte* t = text)
            if (MpiNative.MPI_Error_string(status, t, &len) != MpiNative.MPI_SUCCESS) len = 0;
        string what = len > 0 ? Encoding.ASCII.GetString(text, 0, len) : "unknown error";
        throw new MpiException($"{call} failed with error {status} ({what}): another rank has probably failed or the network dropped; see the other ranks' messages, then continue with --resume");
    }
}

/// <summary>An outstanding non-blocking MPI operation (an Open MPI MPI_Request; 0 once complete).</summary>
public readonly record struct MpiRequest(nint Handle)
{
    public bool Done => Handle == 0;
}
