using System.Globalization;
using Ctmsr.Train.Degradation;
using Ctmsr.Imaging;

namespace Ctmsr.Bench;

/// <summary>
/// `degrade [--batches N]`: the Real-ESRGAN pipeline (spec section 7, real libjpeg-turbo JPEG) on synthetic 256x256
/// crops. Prints process CPU milliseconds per crop (load-independent on a shared machine), the wall-clock rate of
/// batches of 32 on this machine's cores, and the cores that a given training rate needs.
/// </summary>
static class DegradationBench
{
    public static int Run(string[] args)
    {
        int batches = 3;
        for (int i = 0; i < args.Length; i++)
            if (args[i] == "--batches" && i + 1 < args.Length) batches = int.Parse(args[++i], CultureInfo.InvariantCulture);
        var deg = new RealEsrganDegradation(ImageCodec.JpegRoundTrip);
        double cpuMs = DegradationThroughput.CpuMillisecondsPerImage(deg, 32);
        var rates = new List<double>();
        for (int b = 0; b < batches; b++)
        {
            double ips = DegradationThroughput.ImagesPerSecond(deg, 32);
            rates.Add(ips / 32);
        }
        rates.Sort();
        double median = rates[rates.Count / 2];
        Console.WriteLine("| measure | value |");
        Console.WriteLine("|---|---|");
        Console.WriteLine($"| CPU ms per 256x256 crop (sequential, process CPU time) | {cpuMs:F1} |");
        Console.WriteLine($"| batches of 32 per second, wall clock, {Environment.ProcessorCount} cores (median of {batches}) | {median:F2} |");
        Console.WriteLine($"| cores for 1 batch of 32 per second | {32 * cpuMs / 1000:F2} |");
        return 0;
    }
}
