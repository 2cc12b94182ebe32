using System.Text.Json;
using System.Text.Json.Serialization;
using Ctmsr.Model.Network;

namespace Ctmsr.Train.Training;

/// <summary>
/// Everything that defines a training run; saved as the run directory's config.json and read back on resume.
/// Defaults are the released CTMSR settings (spec sections 4 and 5).
/// </summary>
public sealed record TrainOptions
{
    public TrainStage Stage { get; init; } = TrainStage.Ct;
    /// <summary>Folder of HR training images (recursive).</summary>
    public string Data { get; init; } = "";
    public CtmsrConfig Model { get; init; } = CtmsrConfig.X4;
    public int Iterations { get; init; } = 500_000;
    public int Batch { get; init; } = 32;
    public int Crop { get; init; } = 256;
    public ulong Seed { get; init; }
    /// <summary>Micro-batches per optimiser step (gradients summed, each micro-batch's loss divided by this).</summary>
    public int Accumulate { get; init; } = 1;

    public float Lr { get; init; } = 5e-5f;
    public float Beta1 { get; init; } = 0.9f;
    public float Beta2 { get; init; } = 0.9f;
    public float AdamEps { get; init; } = 1e-8f;
    public float WeightDecay { get; init; }
    public int[] LrMilestones { get; init; } = [50_000];
    public float LrGamma { get; init; } = 0.5f;
    public float EmaDecay { get; init; } = 0.999f;

    /// <summary>Curriculum N(k) = max(s0 - floor(k/K'), s1) + 1; DTM uses the final N = s1 + 1.</summary>
    public int S0 { get; init; } = 4;
    public int S1 { get; init; } = 3;
    public float LpipsWeight { get; init; } = 0.5f;
    /// <summary>The perceptual distance standing in for LPIPS-VGG ("resnet18"), recorded so that a resume uses it again; null: LPIPS-VGG or none.</summary>
    public string? Perceptual { get; init; }
    public float CharbonnierWeight { get; init; } = 0.5f;
    /// <summary>Weight of the texture term added to the ResNet18 perceptual distance (PerceptualLoss.PerSample); 0: none.</summary>
    public float TextureWeight { get; init; }

    /// <summary>DTM: where the CT weights came from (informational), teacher refresh period, loss weight (0.5 * 1.6) and kind.</summary>
    public string? From { get; init; }
    public int TeacherRefresh { get; init; } = 1000;
    public float DtmWeight { get; init; } = 0.8f;
    public DtmLossKind DtmLoss { get; init; } = DtmLossKind.Dtm;

    /// <summary>Align and distill (spec/TRAJECTORY.md): teacher steps, candidates, gamma, reward, student settings.</summary>
    public TrajectoryTrainOptions Trajectory { get; init; } = new();

    /// <summary>Validation folder with gt/ and lq/ (names matched); the EMA model is scored at every checkpoint. Null: none.</summary>
    public string? Val { get; init; }
    /// <summary>Validation images used (0 = all).</summary>
    public int ValLimit { get; init; }

    /// <summary>Fraction of training pairs that are clean MATLAB-bicubic downscales instead of Real-ESRGAN degradations
    /// (DegradationSettings.CleanProbability); 0, the paper's setting, leaves the data exactly as before.</summary>
    public double CleanFraction { get; init; }

    public int CheckpointEvery { get; init; } = 5000;
    public int KeepCheckpoints { get; init; } = 3;
    public int LoaderWorkers { get; init; } = 2;
    public int BatchesInFlight { get; init; } = 2;

    static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static TrainOptions FromJson(string json, string nameForErrors)
    {
        try
        {
            return JsonSerializer.Deserialize<TrainOptions>(json, Json)
                   ?? throw new InvalidDataException($"{nameForErrors} is empty; it should hold the run's options");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{nameForErrors} is not a valid run configuration ({e.Message}); restore it or start a new run");
        }
    }

    /// <summary>Checks ranges; throws with the option to fix.</summary>
    public void Validate()
    {
        static void Need(bool ok, string msg) { if (!ok) throw new ArgumentException(msg); }
        Need(Iterations > 0, $"--iters {Iterations} must be positive");
        Need(Batch > 0, $"--batch {Batch} must be positive");
        Need(Accumulate > 0, $"--accumulate {Accumulate} must be positive");
        Need(Crop > 0 && Crop % Model.Scale == 0, $"--crop {Crop} must be a positive multiple of the scale {Model.Scale}");
        int lr = Crop / Model.Scale;
        Need(lr % Model.SizeMultiple == 0,
            $"--crop {Crop} gives {lr}x{lr} LR crops, which is not a multiple of {Model.SizeMultiple} (window {Model.WindowSize} at {Model.ChannelMult.Length} levels): use a crop that is a multiple of {Model.SizeMultiple * Model.Scale}");
        Need(CleanFraction is >= 0 and <= 1, $"--clean-fraction {CleanFraction} must be in [0, 1]");
        Need(TextureWeight >= 0 && float.IsFinite(TextureWeight), $"--texture-weight {TextureWeight} must be finite and >= 0");
        Need(TextureWeight == 0 || Perceptual == "resnet18", "--texture-weight needs --perceptual resnet18 (the term is on its features)");
        Need(S0 >= S1 && S1 >= 1, $"curriculum s0 = {S0}, s1 = {S1}: need s0 >= s1 >= 1");
        Need(Lr > 0 && float.IsFinite(Lr), $"--lr {Lr} must be a positive number");
        Need(EmaDecay is >= 0 and < 1, $"EMA decay {EmaDecay} must be in [0, 1)");
        Need(CheckpointEvery > 0, $"--checkpoint-every {CheckpointEvery} must be positive");
        Need(KeepCheckpoints > 0, $"--keep {KeepCheckpoints} must be positive");
        Need(TeacherRefresh > 0, $"--teacher-refresh {TeacherRefresh} must be positive");
        Need(LoaderWorkers > 0 && BatchesInFlight > 0, "loader workers and batches in flight must be positive");
        if (Stage.IsTrajectory()) Trajectory.Validate(Stage);
        // NIQE fits a Gaussian to 96x96 blocks at two scales: one block gives no covariance
        Need(Stage != TrainStage.Align || Trajectory.Reward is not (AlignRewardKind.Niqe or AlignRewardKind.Mix) || Crop >= 192,
            $"--reward {Trajectory.Reward.ToString().ToLowerInvariant()} needs --crop 192 or more (NIQE needs at least 2x2 blocks of 96 pixels); got --crop {Crop}");
    }
}
