namespace Ctmsr.Train.Training;

/// <summary>What the alignment stage rewards in a candidate's final state (higher is better).</summary>
public enum AlignRewardKind { Psnr, Niqe, LpipsAlex, Mix }

/// <summary>
/// The settings of the trajectory-optimisation stages (spec/TRAJECTORY.md): Stage A (align) and Stage B (distill).
/// Saved inside the run's config.json with the other options. Defaults: K = 4 teacher ODE steps, N = 4 candidates
/// (candidate 0 is the ODE itself), fixed gamma 0.05, PSNR reward; a one-step student from t = 1 without guidance and
/// a target half teacher output, half ground truth.
/// </summary>
public sealed record TrajectoryTrainOptions
{
    /// <summary>K: ODE steps of the teacher trajectory (align: the trajectory being aligned; distill: the target's).</summary>
    public int TeacherSteps { get; init; } = 4;
    /// <summary>N: rollouts from x_tau compared by the reward; candidate 0 is the ODE, 1..N-1 the modulated step.</summary>
    public int Candidates { get; init; } = 4;
    /// <summary>Fixed gamma of the candidates' modulated step.</summary>
    public double Gamma { get; init; } = 0.05;
    public AlignRewardKind Reward { get; init; } = AlignRewardKind.Psnr;
    /// <summary>Weight of the final-state term ||x_0 - gt||^2 (as a mean square) beside the per-step MSEs.</summary>
    public float GtWeight { get; init; } = 1f;

    /// <summary>Distill: the student's ODE steps (1 or 2), its start time T and its guidance weight w (as at inference).</summary>
    public int StudentSteps { get; init; } = 1;
    public double Start { get; init; } = 1;
    public double Guidance { get; init; }
    /// <summary>Distill target = m * teacher's K-step output + (1 - m) * gt.</summary>
    public float TargetMix { get; init; } = 0.5f;

    public void Validate(TrainStage stage)
    {
        static void Need(bool ok, string msg) { if (!ok) throw new ArgumentException(msg); }
        Need(TeacherSteps is >= 1 and <= 100, $"--teacher-steps {TeacherSteps} must be 1..100 (the paper uses 4..10)");
        if (stage == TrainStage.Align)
        {
            Need(TeacherSteps >= 2, $"--teacher-steps {TeacherSteps}: alignment needs a trajectory of at least 2 steps");
            Need(Candidates is >= 2 and <= 64, $"--candidates {Candidates} must be 2..64 (candidate 0 is the ODE; the paper uses 4..8)");
            Need(Gamma is > 0 and <= 1, $"--gamma {Gamma} must be in (0, 1] (the candidates' modulated step; the paper's fixed values are 0.05 and 0.1)");
            Need(float.IsFinite(GtWeight) && GtWeight >= 0, $"gt weight {GtWeight} must be >= 0");
        }
        if (stage == TrainStage.Distill)
        {
            Need(StudentSteps is 1 or 2, $"--student-steps {StudentSteps} must be 1 or 2");
            Need(Start is > 0 and <= 1, $"--start {Start} must be in (0, 1]");
            Need(Guidance is >= 0 and <= 10, $"--guidance {Guidance} must be in [0, 10]");
            Need(TargetMix is >= 0 and <= 1, $"--target-mix {TargetMix} must be in [0, 1] (1: the teacher's output alone, 0: gt alone)");
        }
    }
}
