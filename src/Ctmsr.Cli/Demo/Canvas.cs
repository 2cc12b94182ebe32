using Ctmsr.Imaging;
using Ctmsr.Imaging.Plotting;

namespace Ctmsr.Cli.Demo;

/// <summary>
/// A planar RGB drawing surface ([3, height, width], [0, 1], the layout of <see cref="Image"/>) with the few
/// primitives the demo card and its contact sheet need: rectangles, 1-pixel lines (Bresenham, no anti-aliasing, so a
/// test can find exactly which pixels a line set), text in <see cref="BitmapFont"/>, and pasted images.
/// Everything clips at the border.
/// </summary>
public sealed class Canvas
{
    public int Width { get; }
    public int Height { get; }
    public float[] Data { get; }

    public Canvas(int width, int height, Rgb background)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"canvas size {width}x{height} must be positive");
        Width = width; Height = height;
        Data = new float[3 * width * height];
        FillRect(0, 0, width, height, background);
    }

    /// <summary>When set, <see cref="Set"/> and <see cref="Line"/> draw only inside this rectangle (x, y, w, h).</summary>
    public (int X, int Y, int W, int H)? Clip { get; set; }

    public void Set(int x, int y, Rgb c)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height) return;
        if (Clip is { } k && (x < k.X || y < k.Y || x >= k.X + k.W || y >= k.Y + k.H)) return;
        int i = y * Width + x, n = Width * Height;
        Data[i] = c.R; Data[n + i] = c.G; Data[2 * n + i] = c.B;
    }

    public Rgb Get(int x, int y)
    {
        int i = y * Width + x, n = Width * Height;
        return new Rgb(Data[i], Data[n + i], Data[2 * n + i]);
    }

    public void FillRect(int x, int y, int w, int h, Rgb c)
    {
        int x0 = Math.Max(0, x), y0 = Math.Max(0, y), x1 = Math.Min(Width, x + w), y1 = Math.Min(Height, y + h);
        int n = Width * Height;
        for (int yy = y0; yy < y1; yy++)
        {
            int row = yy * Width;
            Data.AsSpan(row + x0, Math.Max(0, x1 - x0)).Fill(c.R);
            Data.AsSpan(n + row + x0, Math.Max(0, x1 - x0)).Fill(c.G);
            Data.AsSpan(2 * n + row + x0, Math.Max(0, x1 - x0)).Fill(c.B);
        }
    }

    /// <summary>The outline of a rectangle, 1 pixel wide, inside (x, y, w, h).</summary>
    public void StrokeRect(int x, int y, int w, int h, Rgb c)
    {
        FillRect(x, y, w, 1, c); FillRect(x, y + h - 1, w, 1, c);
        FillRect(x, y, 1, h, c); FillRect(x + w - 1, y, 1, h, c);
    }

    /// <summary>A line from (x0, y0) to (x1, y1) inclusive (Bresenham); thickness t draws a t x t square per point.</summary>
    public void Line(int x0, int y0, int x1, int y1, Rgb c, int thickness = 1)
    {
        int dx = Math.Abs(x1 - x0), dy = -Math.Abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;
        int off = (thickness - 1) / 2;
        while (true)
        {
            for (int ty = 0; ty < thickness; ty++)
                for (int tx = 0; tx < thickness; tx++) Set(x0 - off + tx, y0 - off + ty, c);
            if (x0 == x1 && y0 == y1) break;
            int e2 = 2 * err;
            if (e2 >= dy) { err += dy; x0 += sx; }
            if (e2 <= dx) { err += dx; y0 += sy; }
        }
    }

    /// <summary>Text with its top-left corner at (x, y); returns its width in pixels.</summary>
    public int Text(int x, int y, string text, Rgb c, int scale = 1)
    {
        BitmapFont.Rasterise(text, x, y, scale, (px, py) => Set(px, py, c));
        return BitmapFont.Measure(text, scale).Width;
    }

    /// <summary>Text centred horizontally on <paramref name="cx"/>.</summary>
    public void TextCentred(int cx, int y, string text, Rgb c, int scale = 1) =>
        Text(cx - BitmapFont.Measure(text, scale).Width / 2, y, text, c, scale);

    /// <summary>Pastes an image (grey is replicated, alpha dropped) with its top-left corner at (x, y).</summary>
    public void Paste(Image image, int x, int y)
    {
        var rgb = image.WithoutAlpha().ToRgb();
        int n = Width * Height, m = rgb.PlaneSize;
        for (int yy = 0; yy < rgb.Height; yy++)
        {
            int ty = y + yy;
            if ((uint)ty >= (uint)Height) continue;
            for (int xx = 0; xx < rgb.Width; xx++)
            {
                int tx = x + xx;
                if ((uint)tx >= (uint)Width) continue;
                int s = yy * rgb.Width + xx, d = ty * Width + tx;
                Data[d] = rgb.Data[s]; Data[n + d] = rgb.Data[m + s]; Data[2 * n + d] = rgb.Data[2 * m + s];
            }
        }
    }

    /// <summary>An 8-bit RGB image of the canvas (the samples are shared, not copied).</summary>
    public Image ToImage() => new(Width, Height, 3, 8, Data);
}
