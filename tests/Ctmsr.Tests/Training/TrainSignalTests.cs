using Ctmsr.Imaging;
using Ctmsr.Tests.Inference;

namespace Ctmsr.Tests.Training;

/// <summary>
/// `kill PID` (SIGTERM: a batch scheduler's or a container's stop, and the only polite stop for a background job,
/// which ignores SIGINT) ends `train ct` like Ctrl+C: the step in progress finishes, a checkpoint of that iteration is
/// written, exit 143; the run resumes from it.
/// </summary>
public class TrainSignalTests
{
    [Test]
    public void SigtermWritesACheckpointAndExits143()
    {
        var dir = TrainingKit.TempDir("sigterm");
        try
        {
            Directory.CreateDirectory(Path.Combine(dir, "data"));
            for (int i = 0; i < 2; i++)
                File.WriteAllBytes(Path.Combine(dir, "data", $"{i}.png"), ImageCodec.EncodePng(InferenceKit.Card(64, 64, 3)));
            var exe = Path.Combine(TestContext.CurrentContext.TestDirectory, "ctmsr.dll");
            var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in new[] { exe, "train", "ct", "--data", Path.Combine(dir, "data"), "--run", Path.Combine(dir, "run"), "--config", "tiny",
                         "--crop", "64", "--batch", "1", "--iters", "100000", "--checkpoint-every", "100000", "--workers", "1", "--threads", "1" })
                psi.ArgumentList.Add(a);
            using var p = System.Diagnostics.Process.Start(psi)!;
            var output = new System.Text.StringBuilder();
            var stepping = new ManualResetEventSlim();
            p.OutputDataReceived += (_, e) => { if (e.Data is null) return; lock (output) output.AppendLine(e.Data); if (System.Text.RegularExpressions.Regex.IsMatch(e.Data, @"^CT \d+/")) stepping.Set(); };
            p.BeginOutputReadLine();
            var err = p.StandardError.ReadToEndAsync();
            Assert.That(stepping.Wait(TimeSpan.FromSeconds(120)), Is.True, "training is under way");
            using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", p.Id.ToString()])!) kill.WaitForExit();
            bool exited = p.WaitForExit(120_000);
            if (!exited) p.Kill();
            Assert.That(exited, Is.True, "the process stopped (it had 100000 iterations left)");
            p.WaitForExit();
            string text;
            lock (output) text = output.ToString();
            TestContext.Out.WriteLine(text[Math.Max(0, text.Length - 600)..]);
            Assert.That(p.ExitCode, Is.EqualTo(143), err.Result);
            var stopped = System.Text.RegularExpressions.Regex.Match(text, @"stopped at iteration (\d+)");
            Assert.That(stopped.Success, Is.True, "it says where it stopped");
            var ckpts = Directory.GetFiles(Path.Combine(dir, "run", "checkpoints"), "ckpt_*.safetensors");
            Assert.That(ckpts.Select(Path.GetFileName), Is.EqualTo(new[] { $"ckpt_{int.Parse(stopped.Groups[1].Value):D8}.safetensors" }),
                "one checkpoint, of the iteration it stopped at");
        }
        finally { TrainingKit.Delete(dir); }
    }
}
