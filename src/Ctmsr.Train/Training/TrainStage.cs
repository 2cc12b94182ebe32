namespace Ctmsr.Train.Training;

/// <summary>Stage 1, Consistency Training; stage 2, Distribution Trajectory Matching (L = L_CT + L_DTM).</summary>
public enum TrainStage { Ct, Dtm }

/// <summary>The DTM gradient: the teacher's trajectory difference (the method) or score distillation against gt (the paper's SDS ablation).</summary>
public enum DtmLossKind { Dtm, Sds }
