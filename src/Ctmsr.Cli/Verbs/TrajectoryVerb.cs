using System.CommandLine;
using System.Globalization;
using System.Text;
using Ctmsr.Autograd;
using Ctmsr.Imaging;
using Ctmsr.Imaging.Plotting;
using Ctmsr.Imaging.Resampling;
using Ctmsr.Inference;
using Ctmsr.Kernels;
using Ctmsr.Metrics;
using Ctmsr.Model.Checkpoints;
using Ctmsr.Model.Network;

namespace Ctmsr.Cli.Verbs;

/// <summary>
/// `ctmsr trajectory cost --weights W --lq DIR|FILE [--dense 40] [--steps 1,2,3,4] [--limit N] [-o cost.png]`: the
/// distillation-cost diagnostic of spec/TRAJECTORY.md (<see cref="TrajectoryCost"/>) as a table on stdout and a PNG.
/// </summary>
static class TrajectoryVerb
{
    public static Command Create()
    {
        var group = new Command("trajectory", "diagnostics of the sampling trajectory (spec/TRAJECTORY.md)");
        var weights = new Option<string?>("--weights") { Description = "model weights (.safetensors or the official CTMSR.pth)" };
        var lq = new Option<string?>("--lq") { Description = "an LR image or a folder of LR images (whole images, no tiling: keep them at most 512 pixels a side)" };
        var dense = new Option<string?>("--dense") { Description = "J, steps of the dense teacher trajectory (default 40)" };
        var steps = new Option<string?>("--steps") { Description = "comma-separated k: sparse schedules to cost, uniform and cheapest (default 1,2,3,4)" };
        var limit = new Option<string?>("--limit") { Description = "use the first N images of the folder (default all)" };
        var seed = new Option<string?>("--seed") { Description = "noise seed of x_1 = lq_up + eps (default 0)" };
        var output = new Option<string?>("-o", "--output") { Description = "the plot (PNG, default trajectory_cost.png): cost of one step from t to 0, and per step of the uniform and cheapest schedules of the largest k" };
        var device = DeviceOption.Create();
        var cost = new Command("cost", "distillation cost (paper Eq. 16): per-step cost of sparse k-step schedules on a dense J-step ODE trajectory, RMS of (chord - model step direction); which k-step schedule is cheapest")
            { weights, lq, dense, steps, limit, seed, output, device };
        cost.SetGuardedAction(r =>
        {
            string w = r.GetValue(weights) ?? throw new ArgumentException("no model given; add --weights W");
            string input = r.GetValue(lq) ?? throw new ArgumentException("no images given; add --lq DIR (or an LR image)");
            int J = r.GetValue(dense) is { } dj ? Int("--dense", dj, 2, 1000) : 40;
            var ks = (r.GetValue(steps) ?? "1,2,3,4").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(s => Int("--steps", s, 1, J)).Distinct().Order().ToArray();
            if (ks.Length == 0) throw new ArgumentException("--steps: give at least one k, e.g. 1,2,4");
            int max = r.GetValue(limit) is { } l ? Int("--limit", l, 1, int.MaxValue) : int.MaxValue;
            ulong sd = r.GetValue(seed) is { } s0 ? ulong.TryParse(s0, NumberStyles.Integer, CultureInfo.InvariantCulture, out var sv) ? sv : throw new ArgumentException($"--seed {s0}: expected a whole number >= 0") : 0;
            string png = r.GetValue(output) ?? "trajectory_cost.png";
            if (!png.EndsWith(".png", StringComparison.OrdinalIgnoreCase)) throw new ArgumentException($"-o {png}: the plot is a PNG; give a .png name");
            if (!File.Exists(w)) throw new FileNotFoundException($"{w}: no such weights file");
            var files = Directory.Exists(input) ? Evaluation.ImageFiles(input).Take(max).ToArray()
                : File.Exists(input) ? [input] : throw new FileNotFoundException($"{input}: no such image or folder; check --lq");
            if (files.Length == 0) throw new ArgumentException($"{input} holds no images");
            ImageCodec.EnsureNativeLibraries();

            var state = CheckpointFiles.LoadStateDict(w, "params_ema");
            using var ctx = new Context(DeviceOption.Open(r.GetValue(device)));
            var net = new CtmsrNet(ctx, ConfigInference.FromStateDict(state));
            ModelWeights.Load(net, state);
            net.Eval();
            var tc = new TrajectoryCost(J);
            var sw = System.Diagnostics.Stopwatch.StartNew();
            foreach (var f in files)
            {
                var img = ImageCodec.Decode(f).WithoutAlpha().ToRgb();
                using var scope = Tape.Scope();
                var (lqT, y, eps) = Inputs(ctx, img, net.Config, sd);
                tc.Add((x, t) => Precond.D(net, x, [(float)t], lqT), y, eps);
                Console.Error.WriteLine($"[{tc.Images}/{files.Length}] {f} ({img.Width}x{img.Height}), {J} steps, {sw.Elapsed.TotalSeconds:0} s");
            }
            Console.Out.Write(Table(tc, ks));
            Plot(tc, ks[^1], png);
            Console.Error.WriteLine($"wrote {Path.GetFullPath(png)}");
            return 0;
        });
        group.Subcommands.Add(cost);
        return group;
    }

    /// <summary>lq (reflect-padded to the model's size unit, [-1, 1]), y = bicubic x4 of it, eps from the seed's Philox stream.</summary>
    static (Tensor lq, Tensor y, Tensor eps) Inputs(Context ctx, Image rgb, CtmsrConfig cfg, ulong seed)
    {
        int m = cfg.SizeMultiple, s = cfg.Scale, h = rgb.Height, w = rgb.Width;
        int ph = (h + m - 1) / m * m, pw = (w + m - 1) / m * m;
        var lq = new float[3 * ph * pw];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < ph; y++)
                for (int x = 0; x < pw; x++)
                    lq[(c * ph + y) * pw + x] = 2f * rgb.Data[(c * h + Backend.Reflect101(y, h)) * w + Backend.Reflect101(x, w)] - 1f;
        var up = Resize.Apply(lq, 3, ph, pw, ph * s, pw * s, ResizeMode.Bicubic);
        var eps = Tensor.Empty(ctx, 1, 3, ph * s, pw * s);
        ctx.Backend.FillNormal(eps.Count, seed, 0, eps.Buffer);
        return (Tensor.From(ctx, lq, 1, 3, ph, pw), Tensor.From(ctx, up, 1, 3, ph * s, pw * s), eps);
    }

    static string Times(TrajectoryCost tc, int[] sched) => string.Join(" ", sched.Select(j => tc.T(j).ToString("0.###", CultureInfo.InvariantCulture)));

    static string Table(TrajectoryCost tc, int[] ks)
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.AppendLine(inv, $"# distillation cost on a {tc.Dense}-step ODE trajectory, mean over {tc.Images} image(s): RMS(chord - v) per step, v = (x_t - x0_hat) / t");
        sb.AppendLine("k,schedule,times,total,per_step");
        foreach (int k in ks)
        {
            foreach (var (name, sched) in new[] { ("uniform", tc.Uniform(k)), ("cheapest", tc.Cheapest(k)) })
            {
                var c = tc.StepCosts(sched);
                sb.AppendLine(inv, $"{k},{name},{Times(tc, sched)},{c.Sum():F5},{string.Join(" ", c.Select(v => v.ToString("F5", inv)))}");
            }
        }
        return sb.ToString();
    }

    static void Plot(TrajectoryCost tc, int k, string path)
    {
        int J = tc.Dense;
        var toZero = Enumerable.Range(0, J).ToArray();
        var series = new List<ChartSeries>
        {
            new("one step from t to 0", toZero.Select(a => tc.T(a)).ToList(), toZero.Select(a => tc.Cost(a, J)).ToList(), Rgb.Of(20, 20, 20), 2),
        };
        void Schedule(string name, int[] s, Rgb color) =>
            series.Add(new ChartSeries(name, s[..^1].Select(a => tc.T(a)).ToList(), tc.StepCosts(s).ToList(), color, 2));
        if (k > 1)
        {
            Schedule($"uniform {k}-step, per step", tc.Uniform(k), Rgb.Of(31, 119, 180));
            Schedule($"cheapest {k}-step, per step", tc.Cheapest(k), Rgb.Of(214, 39, 40));
        }
        var chart = new LineChart
        {
            Title = $"distillation cost, {J}-step ODE trajectory, {tc.Images} image(s)", XLabel = "t at the start of the step",
            YLabel = "RMS(chord - v)", LogY = false,
        };
        ImageCodec.Save(chart.Render(series), path);
    }

    static int Int(string name, string s, int min, int max) =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= min && v <= max ? v
            : throw new ArgumentException($"{name} {s}: expected a whole number {min}..{max}");
}
