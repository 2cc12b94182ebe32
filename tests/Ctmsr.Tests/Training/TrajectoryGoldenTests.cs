using System.Diagnostics;
using Ctmsr.Autograd;
using Ctmsr.Kernels;
using Ctmsr.Model.Network;
using Ctmsr.Train.Training;
using static Ctmsr.Tests.Training.TrajectoryStageKit;

namespace Ctmsr.Tests.Training;

/// <summary>
/// One alignment iteration and one distillation iteration of the `tiny` config (the shipped model as the pretrained
/// model, one fixed ValSR crop, fixed seeds) on CPU and OpenCL against the float64 reference backend: the same loss, the
/// same winning candidate, the same gradient of every parameter (relative L2 under 1e-4), and AdamW's update of the device's
/// gradient as its float64 closed form.
/// </summary>
[NonParallelizable]
public sealed class TrajectoryGoldenTests
{
    const double Tol = 1e-4;

    sealed record Outcome(double Loss, int[] Best, float[] Grads, float[] Update, double Seconds);

    static readonly TrajectoryTrainOptions AlignOptions = new() { TeacherSteps = 2, Candidates = 3, Gamma = 0.5 };
    static readonly TrajectoryTrainOptions DistillOptions = new() { TeacherSteps = 2, StudentSteps = 2, Start = 0.8, Guidance = 0.2, TargetMix = 0.5f };

    static Backend Open(string device) => device switch
    {
        "cpu" => new Ctmsr.Kernels.Cpu.CpuBackend(),
        "reference" => new Ctmsr.Kernels.Reference.ReferenceBackend(),
        _ => TestDevices.OpenClOrSkip(),
    };

    static Outcome Run(string device, bool align)
    {
        var batch = Batch();
        var sw = Stopwatch.StartNew();
        using var ctx = new Context(Open(device));
        var net = Load(ctx);
        var teacher = align ? null : Load(ctx);
        var before = net.Parameters().Select(p => p.ToArray()).ToList();
        double loss; int[] best = [];
        using (Tape.Scope())
        {
            var gt = Tensor.From(ctx, batch.Gt, 1, 3, 64, 64);
            var y = Tensor.From(ctx, batch.LqUp, 1, 3, 64, 64);
            var lq = Tensor.From(ctx, batch.Lq, 1, 3, 16, 16);
            if (align)
            {
                var r = AlignStage.Step(ctx, net, gt, y, lq, batch.Gt, AlignOptions, new AlignReward(AlignRewardKind.Psnr), seed: 77, forceTau: 2);
                loss = r.Loss; best = r.Best;
            }
            else loss = DistillStage.Step(ctx, net, teacher!, gt, y, lq, DistillOptions, null, 0.5f, 0.5f, seed: 78).Loss;
        }
        var grads = net.Parameters().SelectMany(p => p.Grad?.ToArray() ?? new float[p.Count]).ToArray();
        var opt = new AdamW(net.Parameters(), 5e-5f, (0.9f, 0.9f), 1e-8f, 0f);
        opt.StepOnce();
        var update = net.Parameters().Select((p, i) => p.ToArray().Zip(before[i], (a, b) => a - b)).SelectMany(x => x).ToArray();
        return new Outcome(loss, best, grads, update, sw.Elapsed.TotalSeconds);
    }

    static readonly Lazy<Outcome> RefAlign = new(() => Run("reference", true));
    static readonly Lazy<Outcome> RefDistill = new(() => Run("reference", false));

    [TestCase("cpu", true)]
    [TestCase("opencl", true)]
    [TestCase("cpu", false)]
    [TestCase("opencl", false)]
    public void OneIterationMatchesTheFloat64Reference(string device, bool align)
    {
        var got = Run(device, align);
        var re = align ? RefAlign.Value : RefDistill.Value;
        string what = align ? "align" : "distill";
        // AdamW's first step moves each weight by -lr g / (|g| + eps): about lr in size whatever |g| is, so a weight whose
        // gradient is float32 cancellation noise (|g| near 0, either sign) moves by up to 2 lr differently from the
        // float64 run: with the shipped model a handful of such weights out of 1.3M put the distillation update 1.2e-3
        // from the reference while the gradients agree to 3e-6.
        // So the update is checked against that closed form on the device's own gradient (the gradients are checked
        // against the reference above), and the update against the reference's only reported.
        var want = got.Grads.Select(g => (float)(-5e-5 * g / (Math.Abs((double)g) + 1e-8))).ToArray();
        double eLoss = Math.Abs(got.Loss - re.Loss) / Math.Abs(re.Loss), eGrad = RelL2(got.Grads, re.Grads), eUpd = RelL2(got.Update, want),
               eUpdRef = RelL2(got.Update, re.Update);
        TestContext.Out.WriteLine($"{what} on {device} ({got.Seconds:0.0} s; reference {re.Seconds:0.0} s): loss {got.Loss:G9} vs {re.Loss:G9} (rel {eLoss:E2}), " +
                                  $"best {string.Join(",", got.Best)} vs {string.Join(",", re.Best)}, gradient rel L2 {eGrad:E2}, AdamW update rel L2 {eUpd:E2} (vs the reference's update {eUpdRef:E2})");
        Assert.That(re.Loss, Is.GreaterThan(0));
        Assert.That(re.Grads.Count(g => g != 0), Is.GreaterThan(re.Grads.Length / 2), "most parameters receive a gradient");
        Assert.That(got.Best, Is.EqualTo(re.Best), "the same candidate wins");
        Assert.That(eLoss, Is.LessThan(Tol), "loss");
        Assert.That(eGrad, Is.LessThan(Tol), "gradients");
        Assert.That(eUpd, Is.LessThan(Tol), "parameter update");
    }
}
