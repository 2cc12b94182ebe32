namespace Ctmsr.Train.Data;

/// <summary>
/// Derives independent 64-bit seeds from (seed, a, b, ...) with SplitMix64 finalisers, so every random draw of
/// a run is a pure function of the run seed and where it happens (iteration, sample index, purpose). That is
/// what makes the loader independent of thread count and a resume exact: there is no stream state to save.
/// </summary>
public static class SeedMix
{
    public static ulong Mix(ulong seed, params ReadOnlySpan<ulong> parts)
    {
        ulong h = Finalise(seed ^ 0x6A09E667F3BCC909UL);
        foreach (var p in parts) h = Finalise(h ^ Finalise(p + 0x9E3779B97F4A7C15UL));
        return h;
    }

    static ulong Finalise(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
