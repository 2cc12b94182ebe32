namespace Ctmsr.Train.Data;

/// <summary>One training pair, planar RGB in [-1, 1] (x = 2u - 1): gt [3, H, W], lq [3, H/s, W/s], lq_up [3, H, W].</summary>
public sealed record TrainSample(float[] Gt, float[] Lq, float[] LqUp, int Height, int Width, int Scale, string Source)
{
    public int LqHeight => Height / Scale;
    public int LqWidth => Width / Scale;

    /// <summary>Maps [0, 1] samples to [-1, 1] in place and returns the array.</summary>
    public static float[] ToSigned(float[] u)
    {
        for (int i = 0; i < u.Length; i++) u[i] = 2f * u[i] - 1f;
        return u;
    }
}

/// <summary>A batch of equally sized samples, concatenated along the batch axis (NCHW, [-1, 1]).</summary>
public sealed record TrainBatch(long Step, int Count, int Height, int Width, int Scale, float[] Gt, float[] Lq, float[] LqUp)
{
    public int LqHeight => Height / Scale;
    public int LqWidth => Width / Scale;

    public static TrainBatch Stack(long step, IReadOnlyList<TrainSample> samples)
    {
        if (samples.Count == 0) throw new ArgumentException("a batch needs at least one sample");
        var s0 = samples[0];
        foreach (var s in samples)
            if (s.Height != s0.Height || s.Width != s0.Width || s.Scale != s0.Scale)
                throw new ArgumentException($"samples of one batch differ in size ({s0.Source}: {s0.Width}x{s0.Height}, {s.Source}: {s.Width}x{s.Height}); use batch 1 or crops");
        int hr = 3 * s0.Height * s0.Width, lr = 3 * s0.LqHeight * s0.LqWidth;
        var gt = new float[samples.Count * hr]; var up = new float[samples.Count * hr]; var lq = new float[samples.Count * lr];
        for (int i = 0; i < samples.Count; i++)
        {
            samples[i].Gt.CopyTo(gt, i * hr);
            samples[i].LqUp.CopyTo(up, i * hr);
            samples[i].Lq.CopyTo(lq, i * lr);
        }
        return new TrainBatch(step, samples.Count, s0.Height, s0.Width, s0.Scale, gt, lq, up);
    }
}

/// <summary>A source of training samples addressed by a global sample index; Get must be a pure function of the index.</summary>
public interface ISampleSource
{
    TrainSample Get(long index);
}
