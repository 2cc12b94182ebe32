namespace Ctmsr.Train.Training;

/// <summary>Stage 1, Consistency Training; stage 2, Distribution Trajectory Matching (L = L_CT + L_DTM); and the
/// trajectory optimisation of spec/TRAJECTORY.md: Stage A, alignment (Align), and Stage B, few-step distillation (Distill).</summary>
public enum TrainStage { Ct, Dtm, Align, Distill }

public static class TrainStageExtensions
{
    /// <summary>Align and Distill: stages of spec/TRAJECTORY.md that start from a trained model and run it without dropout.</summary>
    public static bool IsTrajectory(this TrainStage s) => s is TrainStage.Align or TrainStage.Distill;
}

/// <summary>The DTM gradient: the teacher's trajectory difference (the method) or score distillation against gt (the paper's SDS ablation).</summary>
public enum DtmLossKind { Dtm, Sds }
