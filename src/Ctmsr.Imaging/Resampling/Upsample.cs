using Ctmsr.Imaging;

namespace Ctmsr.Imaging.Resampling;

/// <summary>Whole-image integer upsampling: the baselines beside a super-resolved image.</summary>
public static class Upsample
{
    /// <summary>Bicubic x<paramref name="scale"/> of every plane (PyTorch semantics, a = -0.75), clamped to [0, 1]; channels and bit depth kept.</summary>
    public static Image Bicubic(Image src, int scale)
    {
        var d = Resize.Apply(src.Data, src.Channels, src.Height, src.Width, src.Height * scale, src.Width * scale, ResizeMode.Bicubic, scale, scale);
        for (int i = 0; i < d.Length; i++) d[i] = Math.Clamp(d[i], 0f, 1f);
        return new Image(src.Width * scale, src.Height * scale, src.Channels, src.BitDepth, d);
    }

    /// <summary>Each pixel repeated as a scale x scale block: shows the LR pixels as they are.</summary>
    public static Image Nearest(Image src, int scale)
    {
        int w = src.Width * scale, h = src.Height * scale;
        var d = new float[src.Channels * w * h];
        for (int c = 0; c < src.Channels; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) d[(c * h + y) * w + x] = src.Data[(c * src.Height + y / scale) * src.Width + x / scale];
        return new Image(w, h, src.Channels, src.BitDepth, d);
    }
}
