using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// Copies and clears of one row (tens to a few hundred floats) as inline 16-float moves. Span.CopyTo and Span.Clear
/// call into CoreLib's memmove and memset, whose call and size dispatch cost as much as moving a 32-float row; the
/// Winograd input transforms and the padding copies make one or two such calls a row per channel (perf: 2.8% of an
/// x4 train step and 10% of a tiny forward at LR 256 inside CoreLib, issue 14).
/// </summary>
static unsafe class RowMoves
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(float* s, float* t, int n)
    {
        int i = 0;
        for (; i + 16 <= n; i += 16) Vector512.Load(s + i).Store(t + i);
        for (; i < n; i++) t[i] = s[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Clear(float* t, int n)
    {
        int i = 0;
        for (; i + 16 <= n; i += 16) Vector512<float>.Zero.Store(t + i);
        for (; i < n; i++) t[i] = 0f;
    }
}
