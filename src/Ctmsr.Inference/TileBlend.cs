namespace Ctmsr.Inference;

/// <summary>How overlapping SR tiles are combined.</summary>
public enum TileBlendMode
{
    /// <summary>The paper's uniform average: every covering tile has weight 1 (CTMSR.md section 6).</summary>
    Average,
    /// <summary>A raised-cosine ramp across each overlap: one tile fades out as its neighbour fades in.</summary>
    Cosine,
}

/// <summary>
/// Tile layout and blending weights. Weights are separable, w(y, x) = wy(y) * wx(x), per SR pixel of a tile. Average:
/// 1 everywhere. Cosine: on a side where the tile overlaps a neighbour over L pixels, the tile's weight at offset
/// u in the overlap is (1 - cos(pi (u + 1/2) / L)) / 2 entering and (1 + cos(pi (u + 1/2) / L)) / 2 leaving, so two
/// tiles sharing an overlap have weights summing to 1 there; sides on the image border keep weight 1. The output is
/// sum(w * tile) / sum(w) in both modes, which also covers layouts where three tiles overlap.
/// </summary>
public static class TileBlend
{
    /// <summary>Tile start positions along one axis (spec section 6): 0, stride, 2 stride, ...; a tile that would cross
    /// the border is moved back to end exactly at it; duplicates dropped.</summary>
    public static List<int> Starts(int size, int tile, int stride)
    {
        if (tile <= 0 || stride <= 0) throw new ArgumentOutOfRangeException(nameof(tile), $"tile {tile} and stride {stride} must be positive");
        var r = new List<int>();
        if (size <= tile) { r.Add(0); return r; }
        for (int p = 0; ; p += stride)
        {
            int q = Math.Min(p, size - tile);
            if (r.Count == 0 || r[^1] != q) r.Add(q);
            if (p + tile >= size) break;
        }
        return r;
    }

    /// <summary>Weights along one axis for tile <paramref name="index"/> of a layout whose tiles start at
    /// <paramref name="starts"/> and are <paramref name="length"/> long (all in the same pixel units).</summary>
    public static float[] AxisWeights(TileBlendMode mode, IReadOnlyList<int> starts, int index, int length)
    {
        var w = new float[length];
        Array.Fill(w, 1f);
        if (mode == TileBlendMode.Average) return w;
        int p = starts[index];
        if (index > 0)
        {
            int overlap = starts[index - 1] + length - p;       // the previous tile's end minus this start
            for (int u = 0; u < Math.Min(overlap, length); u++)
                w[u] *= (float)(0.5 * (1 - Math.Cos(Math.PI * (u + 0.5) / overlap)));
        }
        if (index + 1 < starts.Count)
        {
            int next = starts[index + 1] - p, overlap = length - next;
            for (int u = Math.Max(0, next); u < length; u++)
                w[u] *= (float)(0.5 * (1 + Math.Cos(Math.PI * (u - next + 0.5) / overlap)));
        }
        return w;
    }
}
