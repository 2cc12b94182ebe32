using Ctmsr.Autograd;

namespace Ctmsr.Inference;

/// <summary>What happens to an alpha plane: upscaled by the model (as a grey image), bicubically, or dropped.
/// A uniform alpha plane is carried as that constant in every mode but Discard.</summary>
public enum AlphaMode { Model, Bicubic, Discard }

/// <summary>Options of CTMSR inference (spec section 6 and spec/TRAJECTORY.md samplers).</summary>
public sealed record UpscaleOptions
{
    /// <summary>LR tile size (a multiple of the model's size unit), or null for automatic: the largest tile that fits
    /// the device's free memory, at most <see cref="MaxAutoTile"/>, halved and retried on an out-of-memory error.
    /// An explicit size is used as given.</summary>
    public int? Tile { get; init; }

    /// <summary>LR pixels shared by neighbouring tiles; null: 64 (the spec's tile 512 at stride 448). Tiles smaller than
    /// twice the overlap use half the tile, except that an overlap given with an explicit tile is used as given.</summary>
    public int? TileOverlap { get; init; }

    public const int DefaultOverlap = 64;

    /// <summary>The overlap used with tiles of <paramref name="tile"/> LR pixels.</summary>
    public int OverlapFor(int tile) =>
        Tile is not null && TileOverlap is int given ? given : Math.Min(TileOverlap ?? DefaultOverlap, tile / 2);

    /// <summary>The largest automatic tile: the spec's 512, so a device with room for it reproduces the paper's layout.</summary>
    public int MaxAutoTile { get; init; } = 512;

    /// <summary>Cosine by default: the paper's uniform average leaves a visible step where a tile's coverage ends (each
    /// tile has its own noise), the cross-fade does not (TileSeamTests).</summary>
    public TileBlendMode Blend { get; init; } = TileBlendMode.Cosine;
    public ColorFixMode ColorFix { get; init; } = ColorFixMode.None;
    public AlphaMode Alpha { get; init; } = AlphaMode.Model;

    /// <summary>Evaluations of D per tile; 1 is the paper's one-step inference.</summary>
    public int Steps { get; init; } = 1;
    public SamplerKind Sampler { get; init; } = SamplerKind.Ode;
    /// <summary>Modulation of the msde step (0 = the ODE step); negative guidance weight; start time T (1 = y + eps).</summary>
    public double Gamma { get; init; }
    public double Guidance { get; init; }
    public double Start { get; init; } = 1;

    /// <summary>The sampler these options describe (spec/TRAJECTORY.md).</summary>
    public SamplerSettings Sampling => new() { Steps = Steps, Kind = Sampler, Gamma = Gamma, Guidance = Guidance, Start = Start };

    public ulong Seed { get; init; }

    /// <summary>Noise scale of the start point x = lq_up + NoiseScale * eps (1 in the paper).</summary>
    public float NoiseScale { get; init; } = 1f;

    /// <summary>Free-memory probe for automatic tiles (bytes an allocation can still take); null uses
    /// <see cref="DeviceMemory.Available"/>. For embedders with their own budget, and for tests.</summary>
    public Func<Context, long>? FreeMemory { get; init; }

    public const int MaxSteps = SamplerSettings.MaxSteps;

    /// <summary>Largest input (width x height) accepted, checked from the file's header before decoding; null: the
    /// largest whose x4 result fits one image in memory (<see cref="Upscaler.LargestInput"/>, about 44.7 MP for RGB).
    /// A value above that hard limit does not raise it.</summary>
    public long? MaxInputPixels { get; init; }

    /// <summary>Bytes of device memory automatic tiles may plan for; null: 80% of the free memory, at most
    /// <see cref="TileMemoryBudget.DefaultCap"/> (4 GiB).</summary>
    public long? MaxMemory { get; init; }

    /// <summary>Test-time augmentation: the colour planes are upscaled in all 8 flips/rotations (<see cref="Dihedral"/>)
    /// and the results, turned back, averaged (8 times the work).</summary>
    public bool Tta { get; init; }

    /// <summary>Output scale 2, 3 or 4 (the x4 result resampled down with area averaging); null: the model's x4.</summary>
    public int? OutScale { get; init; }

    /// <summary>Output width in pixels (height in proportion, rounded); the x4 result is resampled (area averaging when
    /// smaller, bicubic when larger). Exclusive with <see cref="OutScale"/>.</summary>
    public int? OutWidth { get; init; }
}

/// <summary>A progress report of one image: Kind is "tile" (a tile finished), "notice" (e.g. a tile halved after an
/// out-of-memory error) or "calibrate" (the automatic tiler measured the model's memory per pixel).</summary>
public sealed record UpscaleProgress(string Kind, string Pass, int Tile, int Tiles, int TileSize, string? Message = null);
