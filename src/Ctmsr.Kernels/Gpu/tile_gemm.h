/* Tiled GEMM body shared by gemm.k and conv.k: #included inside a kernel after it defines
   TILE_M, TILE_N, TILE_K (extents), LOAD_A(i, p), LOAD_B(p, j) (element of op(A) [TILE_M x TILE_K] and
   op(B) [TILE_K x TILE_N]) and A_I_FAST / B_J_FAST (1 when consecutive i / j are adjacent in memory, so
   loads coalesce). The tile origin in C, TILE_M0 / TILE_N0, is the kernel's m0 / n0 unless defined.
   The parameters are #undef'd at the end, so the next kernel of the file defines its own.
   Launch shape (-D): TM x TN tile per work-group, TK deep, RM x RN results per work-item,
   local size (TN/RN, TM/RM). Leaves acc[r][c] = C[TILE_M0 + LID(1) + r*(TM/RM), TILE_N0 + LID(0) + c*(TN/RN)].
   Accuracy: each TK-deep slice is summed into part[][] from zero, then added to acc[][] with Kahan compensation
   (err[][]), so rounding grows with TK rather than with TILE_K (a few flops per TK multiply-adds). Never build
   with fast/unsafe math (-cl-fast-relaxed-math, --use_fast_math): it may fold the compensation away. */
#ifndef TILE_M0
#define TILE_M0 m0
#endif
#ifndef TILE_N0
#define TILE_N0 n0
#endif
LOCAL float tile_a[TK][TM];
LOCAL float tile_b[TK][TN];
float acc[RM][RN], err[RM][RN];
for (int r = 0; r < RM; r++)
    for (int c = 0; c < RN; c++) { acc[r][c] = 0.0f; err[r][c] = 0.0f; }
const int tile_tid = LID(1) * (TN / RN) + LID(0);
const int tile_nthreads = (TM / RM) * (TN / RN);
for (int k0 = 0; k0 < TILE_K; k0 += TK)
{
    for (int e = tile_tid; e < TM * TK; e += tile_nthreads)
    {
#if A_I_FAST
        const int ii = e % TM, pp = e / TM;
#else
        const int pp = e % TK, ii = e / TK;
#endif
        const int gi = TILE_M0 + ii, gp = k0 + pp;
        tile_a[pp][ii] = (gi < TILE_M && gp < TILE_K) ? LOAD_A(gi, gp) : 0.0f;
    }
    for (int e = tile_tid; e < TN * TK; e += tile_nthreads)
    {
#if B_J_FAST
        const int jj = e % TN, pp = e / TN;
#else
        const int pp = e % TK, jj = e / TK;
#endif
        const int gj = TILE_N0 + jj, gp = k0 + pp;
        tile_b[pp][jj] = (gj < TILE_N && gp < TILE_K) ? LOAD_B(gp, gj) : 0.0f;
    }
    BARRIER();
    float part[RM][RN];
    for (int r = 0; r < RM; r++)
        for (int c = 0; c < RN; c++) part[r][c] = 0.0f;
    for (int pp = 0; pp < TK; pp++)
    {
        float av[RM], bv[RN];
        for (int r = 0; r < RM; r++) av[r] = tile_a[pp][LID(1) + r * (TM / RM)];
        for (int c = 0; c < RN; c++) bv[c] = tile_b[pp][LID(0) + c * (TN / RN)];
        for (int r = 0; r < RM; r++)
            for (int c = 0; c < RN; c++) part[r][c] += av[r] * bv[c];
    }
    for (int r = 0; r < RM; r++)
        for (int c = 0; c < RN; c++)
        {
            const float y = part[r][c] - err[r][c], t = acc[r][c] + y;
            err[r][c] = (t - acc[r][c]) - y;
            acc[r][c] = t;
        }
    BARRIER();
}
#undef TILE_M0
#undef TILE_N0
#undef TILE_M
#undef TILE_N
#undef TILE_K
#undef A_I_FAST
#undef B_J_FAST
#undef LOAD_A
#undef LOAD_B
