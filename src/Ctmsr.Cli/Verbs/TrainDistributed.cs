using System.CommandLine;
using Ctmsr.Kernels.Cuda;
using Ctmsr.Kernels.Mpi;
using Ctmsr.Kernels.OpenCL;
using Ctmsr.Train.Distributed;

namespace Ctmsr.Cli.Verbs;

/// <summary>
/// The data-parallel side of `ctmsr train`: under `mpirun -np R ctmsr train ...` (or with --distributed mpi) every rank
/// joins MPI_COMM_WORLD, opens its own device (a GPU per local rank), and averages gradients through an
/// <see cref="MpiGradientReducer"/>. An error on any rank is printed there and ends the whole job (MPI_Abort), so no
/// rank waits forever for a dead peer.
/// </summary>
sealed class TrainDistributed : IDisposable
{
    public sealed class Options
    {
        public readonly Option<string?> Mode = new("--distributed") { Description = "auto (default: MPI when started by mpirun), mpi (require it) or none (one process even under mpirun)" };
        public readonly Option<double?> BucketMb = new("--bucket-mb") { Description = "data-parallel: gradient bucket size in MB for the overlapped allreduce (default 25; 0 = one bucket for all gradients)" };
        public readonly Option<bool> NoOverlap = new("--no-overlap") { Description = "data-parallel: reduce all buckets after backward instead of while it runs (to measure what the overlap saves)" };

        public IEnumerable<Option> All => [Mode, BucketMb, NoOverlap];
    }

    readonly MpiWorld _world;
    public MpiGradientReducer Reducer { get; }
    public bool Leader => _world.Rank == 0;

    TrainDistributed(MpiWorld world, MpiGradientReducer reducer) { _world = world; Reducer = reducer; }

    /// <summary>Joins MPI when asked to or launched by mpirun; null for a single-process run.</summary>
    public static TrainDistributed? Open(ParseResult r, Options o)
    {
        var mode = (r.GetValue(o.Mode) ?? "auto").Trim().ToLowerInvariant();
        bool use = mode switch
        {
            "auto" => MpiWorld.Launched,
            "mpi" => true,
            "none" => false,
            _ => throw new ArgumentException($"unknown --distributed '{mode}': use auto, mpi or none"),
        };
        double mb = r.GetValue(o.BucketMb) ?? 25;
        if (mb < 0 || !double.IsFinite(mb)) throw new ArgumentException($"--bucket-mb {mb} must be 0 or more (25 is a good size)");
        if (!use) return null;
        if (mode == "mpi" && !MpiWorld.Launched)
            Console.Error.WriteLine("ctmsr: note: --distributed mpi without mpirun: running as a single rank (start it with mpirun -np R ctmsr train ...)");
        var world = MpiWorld.Init();
        return new TrainDistributed(world, new MpiGradientReducer(world, (long)(mb * (1 << 20)), overlap: !r.GetValue(o.NoOverlap)));
    }

    /// <summary>"cuda"/"opencl" without an index: the device numbered by the local rank (modulo the devices present), so each rank of a node gets its own GPU.</summary>
    public string? DeviceSpec(string? spec)
    {
        var s = (spec ?? Environment.GetEnvironmentVariable(Ctmsr.Kernels.Devices.EnvVar))?.Trim().ToLowerInvariant();
        int count = s switch
        {
            "cuda" => CudaBackend.Enumerate().Count,
            "opencl" => OpenClBackend.Enumerate().Count,
            _ => 0,
        };
        return count > 0 ? $"{s}:{_world.LocalRank % count}" : spec;
    }

    /// <summary>Runs the verb; any exception is reported with the rank and ends every rank of the job with its exit code.</summary>
    public int Guard(Func<int> body)
    {
        try { return body(); }
        catch (Exception e)
        {
            int code = Fail.Report(e, $"rank {_world.Rank} of {_world.Size}: ");
            Reducer.Dispose();
            _world.Abort(code);
            return code;
        }
    }

    public void Dispose()
    {
        Reducer.Dispose();
        _world.Dispose();
    }
}
