using Ctmsr.Autograd;
using Ctmsr.Inference;
using Ctmsr.Model.Network;
using Ctmsr.Train.Data;

namespace Ctmsr.Train.Training;

/// <summary>The outcome of one distillation micro-step: the loss, and the Charbonnier distance of the teacher's
/// K-step output to gt (how far the teacher part of the target is from the ground truth).</summary>
public sealed record DistillStepResult(double Loss, double TeacherToGt);

/// <summary>
/// Stage B of spec/TRAJECTORY.md (the paper's Algorithm 2) on one micro-batch: one eps ~ N(0, I); the frozen teacher
/// samples K ODE steps from x_1 = y + eps without gradients; target = m * teacher + (1 - m) * gt; the student samples
/// its k (1 or 2) ODE steps from x_T = y + sigma_T eps with guidance w exactly as `upscale --steps k --start T
/// --guidance w` does, with gradients through all k steps; loss = Charbonnier(student, target) (0.5 LPIPS-VGG +
/// 0.5 Charbonnier when LPIPS is given, as CT's). Both networks run in eval mode (no dropout).
/// </summary>
public static class DistillStage
{
    public static DistillStepResult Step(Context ctx, CtmsrNet student, CtmsrNet teacher, Tensor gt, Tensor y, Tensor lq,
        TrajectoryTrainOptions o, PerSampleDistance? lpips, float lpipsWeight, float charbonnierWeight, ulong seed, float scale = 1f)
    {
        int bs = gt[0], h = gt[2], w = gt[3];
        var sig = (double t) => Enumerable.Repeat((float)t, bs).ToArray();
        var eps = ForwardProcess.Noise(ctx, SeedMix.Mix(seed, 0x65), bs, 3, h, w);
        Tensor target;
        double teacherToGt;
        using (Tape.NoGrad())
        {
            var xt = Trajectory.Sample((x, t) => Precond.D(teacher, x, sig(t), lq), y, eps, 1f,
                new SamplerSettings { Steps = o.TeacherSteps, Kind = SamplerKind.Ode });
            target = F.AddScaled(xt, o.TargetMix, gt, 1f - o.TargetMix);
            using var c = F.Charbonnier(xt, gt);
            using var cm = F.Mean(c);
            teacherToGt = cm.ToScalar();
        }
        var settings = new SamplerSettings { Steps = o.StudentSteps, Kind = SamplerKind.Ode, Start = o.Start, Guidance = o.Guidance };
        var pred = Trajectory.Sample((x, t) => Precond.D(student, x, sig(t), lq), y, eps, 1f, settings);
        var loss = Losses.Ct(pred, target, lpips, lpipsWeight, charbonnierWeight);
        double value = loss.ToScalar();
        if (double.IsFinite(value)) (scale == 1f ? loss : F.Scale(loss, scale)).Backward();
        else Tape.Clear();
        return new DistillStepResult(value, teacherToGt);
    }
}
