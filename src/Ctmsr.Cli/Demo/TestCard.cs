using Ctmsr.Imaging;
using Ctmsr.Imaging.Plotting;

namespace Ctmsr.Cli.Demo;

/// <summary>
/// A synthetic HR test card, drawn procedurally (no file, no download) and identical on every run: a text band
/// in the project's bitmap font at four sizes, then eight 128 x 128 tiles: zone plate, Siemens star, checkerboards
/// of 16/8/4/2-pixel squares, frequency sweeps, a hue/saturation/value gradient, colour bars over grey ramps, a
/// fractal noise texture, and a slanted edge with hairlines. Geometric shapes are 4 x 4 supersampled, so edges are
/// sharp to the pixel, as in a real photograph of a sharp edge. 512 x 384 (x4 of a 128 x 96 LR image).
/// </summary>
public static class TestCard
{
    public const int Width = 512, Height = 384, Tile = 128;

    /// <summary>The named regions of the card (x, y, w, h), for tests and for cropping.</summary>
    public static readonly IReadOnlyDictionary<string, (int X, int Y, int W, int H)> Regions = new Dictionary<string, (int, int, int, int)>
    {
        ["text"] = (0, 0, 512, 128),
        ["zone plate"] = (0, 128, 128, 128),
        ["siemens star"] = (128, 128, 128, 128),
        ["checkerboards"] = (256, 128, 128, 128),
        ["sweeps"] = (384, 128, 128, 128),
        ["hsv gradient"] = (0, 256, 128, 128),
        ["bars and ramps"] = (128, 256, 128, 128),
        ["noise"] = (256, 256, 128, 128),
        ["edge and hairlines"] = (384, 256, 128, 128),
    };

    public static Image Render()
    {
        var cv = new Canvas(Width, Height, new Rgb(0.08f, 0.10f, 0.16f));
        DrawText(cv);
        Fill(cv, "zone plate", ZonePlate);
        Fill(cv, "siemens star", SiemensStar);
        Fill(cv, "checkerboards", Checkerboards);
        Fill(cv, "sweeps", Sweeps);
        Fill(cv, "hsv gradient", HsvGradient);
        Fill(cv, "bars and ramps", BarsAndRamps);
        Fill(cv, "noise", Noise);
        Fill(cv, "edge and hairlines", EdgeAndHairlines);
        var img = cv.ToImage();
        // the 8-bit grid: what a PNG of the card holds, so the HR panel and the metrics see the same pixels
        for (int i = 0; i < img.Data.Length; i++) img.Data[i] = MathF.Round(Math.Clamp(img.Data[i], 0f, 1f) * 255f) / 255f;
        return img;
    }

    static void DrawText(Canvas cv)
    {
        cv.Text(12, 10, "CTMSR x4 TEST CARD", Rgb.White, 4);
        cv.Text(12, 46, "Sharp text 0123456789 AaBbGgQq", new Rgb(1f, 0.85f, 0.2f), 2);
        cv.Text(12, 68, "The quick brown fox jumps over the lazy dog. 5x7 pixel font, 1x.", Rgb.White, 1);
        cv.Text(12, 80, "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG !?#%&@ 0123456789", new Rgb(0.4f, 0.9f, 1f), 1);
        cv.Text(12, 94, "Red on dark", new Rgb(1f, 0.25f, 0.2f), 2);
        cv.Text(160, 94, "Green", new Rgb(0.3f, 1f, 0.35f), 2);
        cv.Text(236, 94, "Blue", new Rgb(0.35f, 0.5f, 1f), 2);
        cv.FillRect(310, 88, 190, 36, new Rgb(0.93f, 0.93f, 0.90f));
        cv.Text(318, 96, "dark on light", new Rgb(0.1f, 0.1f, 0.1f), 2);
        cv.Text(318, 113, "tiny 1x text: ok?", new Rgb(0.1f, 0.1f, 0.1f), 1);
    }

    static void Fill(Canvas cv, string region, Func<int, int, Rgb> pixel)
    {
        var (x0, y0, w, h) = Regions[region];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) cv.Set(x0 + x, y0 + y, pixel(x, y));
    }

    /// <summary>Fraction of the 4 x 4 sub-samples of pixel (x, y) inside the shape.</summary>
    static float Coverage(int x, int y, Func<double, double, bool> inside)
    {
        int n = 0;
        for (int j = 0; j < 4; j++)
            for (int i = 0; i < 4; i++)
                if (inside(x + (i + 0.5) / 4, y + (j + 0.5) / 4)) n++;
        return n / 16f;
    }

    static Rgb Grey(float v) => new(v, v, v);

    // cos(pi r^2 / 128): the local frequency r / 128 cycles per pixel reaches Nyquist at the rim (r = 64)
    static Rgb ZonePlate(int x, int y)
    {
        double dx = x + 0.5 - 64, dy = y + 0.5 - 64, r2 = dx * dx + dy * dy;
        return r2 > 63.5 * 63.5 ? Grey(0.5f) : Grey((float)(0.5 + 0.45 * Math.Cos(Math.PI * r2 / 128)));
    }

    static Rgb SiemensStar(int x, int y)
    {
        float c = Coverage(x, y, (u, v) =>
        {
            double dx = u - 64, dy = v - 64;
            return dx * dx + dy * dy < 60 * 60 && Math.Sin(18 * Math.Atan2(dy, dx)) > 0;
        });
        return Grey(0.95f - 0.9f * c);
    }

    // quadrants of 16, 8, 4 and 2-pixel squares; the 2-pixel one is beyond what a x4 LR image can hold
    static Rgb Checkerboards(int x, int y)
    {
        int q = (y >= 64 ? 2 : 0) + (x >= 64 ? 1 : 0);
        int size = 16 >> q;
        bool on = ((x / size) + (y / size)) % 2 == 0;
        return on ? Grey(0.92f) : q % 2 == 0 ? Grey(0.06f) : new Rgb(0.75f, 0.1f, 0.1f);
    }

    // linear chirps from 0.01 to 0.30 cycles per pixel: grey along x (top), red/cyan along x (bottom)
    static Rgb Sweeps(int x, int y)
    {
        const double f0 = 0.01, f1 = 0.30;
        double phase = 2 * Math.PI * (f0 * x + (f1 - f0) * x * x / (2.0 * Tile));
        float s = (float)(0.5 + 0.45 * Math.Sin(phase));
        return y < 64 ? Grey(s) : new Rgb(s, 1 - s, 1 - s);
    }

    // hue along x; from white (top) through full saturation to black (bottom)
    static Rgb HsvGradient(int x, int y)
    {
        double h = x / (double)Tile * 6, f = h - Math.Floor(h);
        (double r, double g, double b) = ((int)h % 6) switch
        {
            0 => (1.0, f, 0.0),
            1 => (1 - f, 1.0, 0.0),
            2 => (0.0, 1.0, f),
            3 => (0.0, 1 - f, 1.0),
            4 => (f, 0.0, 1.0),
            _ => (1.0, 0.0, 1 - f),
        };
        double sat = Math.Min(1, y / 48.0), val = Math.Min(1, (Tile - y) / 48.0);
        return new Rgb((float)(val * (1 - sat + sat * r)), (float)(val * (1 - sat + sat * g)), (float)(val * (1 - sat + sat * b)));
    }

    static readonly Rgb[] Bars =
    [
        new(0.9f, 0.9f, 0.9f), new(0.9f, 0.9f, 0.1f), new(0.1f, 0.9f, 0.9f), new(0.1f, 0.9f, 0.1f),
        new(0.9f, 0.1f, 0.9f), new(0.9f, 0.1f, 0.1f), new(0.1f, 0.1f, 0.9f), new(0.05f, 0.05f, 0.05f),
    ];

    // colour bars (top half), a smooth grey ramp, then 16 grey steps
    static Rgb BarsAndRamps(int x, int y) =>
        y < 64 ? Bars[x / 16]
        : y < 96 ? Grey(x / (float)(Tile - 1))
        : Grey((x / 8) / 15f);

    /// <summary>Integer hash to [0, 1): the lattice values of the noise (no random generator state, so no order dependence).</summary>
    static double Hash(int x, int y, int salt)
    {
        uint h = (uint)x * 0x8DA6B343u ^ (uint)y * 0xD8163841u ^ (uint)salt * 0xCB1AB31Fu;
        h ^= h >> 15; h *= 0x2C1B3C6Du; h ^= h >> 12; h *= 0x297A2D39u; h ^= h >> 15;
        return h / 4294967296.0;
    }

    static double ValueNoise(double x, double y, int salt)
    {
        int xi = (int)Math.Floor(x), yi = (int)Math.Floor(y);
        double fx = x - xi, fy = y - yi;
        fx = fx * fx * (3 - 2 * fx); fy = fy * fy * (3 - 2 * fy);
        double a = Hash(xi, yi, salt), b = Hash(xi + 1, yi, salt), c = Hash(xi, yi + 1, salt), d = Hash(xi + 1, yi + 1, salt);
        return a + (b - a) * fx + (c - a) * fy + (a - b - c + d) * fx * fy;
    }

    // fractal value noise (periods 32 .. 2 pixels, amplitude halving) tinted like lichen on stone, plus 1-pixel grain
    static Rgb Noise(int x, int y)
    {
        double n = 0, amp = 0.5, norm = 0, m = 0;
        for (int period = 32, k = 0; period >= 2; period /= 2, k++)
        {
            n += amp * ValueNoise(x / (double)period, y / (double)period, k);
            m += amp * ValueNoise(x / (double)period, y / (double)period, 100 + k);
            norm += amp; amp *= 0.5;
        }
        n /= norm; m /= norm;
        double grain = (Hash(x, y, 999) - 0.5) * 0.12;
        double lum = 0.15 + 0.8 * n + grain;
        return new Rgb((float)(lum * (0.7 + 0.5 * m)), (float)(lum * (0.85 + 0.2 * (1 - m))), (float)(lum * 0.55));
    }

    // a slanted edge (5 degrees) on the left, hairlines of 1 and 2 pixels at several angles on the right
    static Rgb EdgeAndHairlines(int x, int y)
    {
        if (x < 56)
        {
            double t = Math.Tan(5 * Math.PI / 180);
            return Grey(0.85f - 0.7f * Coverage(x, y, (u, v) => u - 28 > (v - 64) * t));
        }
        float c = Coverage(x, y, (u, v) =>
        {
            foreach (var (ang, width, off) in Lines)
            {
                double a = ang * Math.PI / 180, d = (u - 92) * Math.Sin(a) - (v - 64) * Math.Cos(a) - off;
                if (Math.Abs(d) < width / 2) return true;
            }
            return false;
        });
        return Grey(0.95f - 0.9f * c);
    }

    static readonly (double Angle, double Width, double Offset)[] Lines =
    [
        (0, 1, -48), (0, 2, -40), (90, 1, -28), (90, 2, -20), (30, 1, 0), (60, 1, 8), (120, 1, 16), (150, 2, 24), (45, 1, 40), (135, 1, -8),
    ];
}
