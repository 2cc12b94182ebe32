using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Ctmsr.Kernels.Cpu;

/// <summary>
/// Blocked SGEMM driver: C[m, n] = op(A) op(B) + beta C (alpha is folded into the A packing by the caller).
/// C is split into independent tiles (a row range x a column range) run in parallel; each tile loops
/// jc (NC columns: the packed B block, kc x NC, stays in L2), pc (KC reduction slice), ir (one packed A micro-panel,
/// MR x kc, stays in L1), jr (B micro-panels streamed from L2) and calls the micro-kernel. Packing buffers are
/// thread-static and pinned, so a call allocates nothing but the Parallel.For closure.
/// </summary>
static unsafe class GemmDriver
{
    public static readonly bool Use512 = Vector512.IsHardwareAccelerated;
    public static readonly int MR = Use512 ? 12 : 6;
    public static readonly int NR = Use512 ? 32 : 16;
    public const int KC = 256;
    public const int NC = 512;
    /// <summary>Whether full 12-row blocks of an unscaled A are read in place (<see cref="IPanelSource.InPlace"/>) instead
    /// of transposed into packed panels; settable for the kernel lab and tests (same bits either way), and CTMSR_GEMM_PACK_A=1
    /// packs every A for a whole process (before/after timings of a model).</summary>
    public static bool UnpackedA { get; set; } = Environment.GetEnvironmentVariable("CTMSR_GEMM_PACK_A") != "1";
    /// <summary>Column panels up to which an A block is read in place. With many, the packed panel (contiguous, in L1) is
    /// reused across them and pays for its packing, and rows of a power-of-two stride read in place share L1 sets
    /// (quick gemm 1024: 0.92-0.95x with every A in place). Lab conv-wino 1 6 (384 -> 384 at 8x8, two column panels):
    /// 1.16-1.20 -> 0.90-0.98 ms.</summary>
    public const int UnpackedAPanels = 4;
    /// <summary>Below this many multiply-adds a call runs on the calling thread.</summary>
    const long SerialWork = 1L << 21;

    [ThreadStatic] static float[]? t_b, t_a, t_tmp;

    static float* Scratch(ref float[]? arr, int count)
    {
        if (arr is null || arr.Length < count + 16) arr = GC.AllocateUninitializedArray<float>(count + 16, pinned: true);
        nint p = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(arr));
        return (float*)((p + 63) & ~(nint)63);
    }

    public static void Run<TA, TB>(int m, int n, int k, TA a, TB b, float beta, float* c, int ldc, bool parallel)
        where TA : struct, IPanelSource where TB : struct, IPanelSource => Run(m, n, k, a, b, beta, c, ldc, parallel, default);

    /// <summary>C = op(A) op(B) + beta C, then <paramref name="epi"/> (a bias per row of C and an activation) on each block
    /// of C right after its last reduction slice, while the block is in L1: no pass over C of its own.</summary>
    public static void Run<TA, TB>(int m, int n, int k, TA a, TB b, float beta, float* c, int ldc, bool parallel, GemmEpilogue epi)
        where TA : struct, IPanelSource where TB : struct, IPanelSource
    {
        if (m <= 0 || n <= 0) return;
        if (k <= 0)
        {
            ScaleC(m, n, beta, c, ldc);
            if (epi.Active) for (int i = 0; i < m; i++) epi.Apply(c + (nint)i * ldc, i, n);
            return;
        }
        int mr = MR, nr = NR;
        long work = (long)m * n * k;
        int threads = parallel && work >= SerialWork ? CpuThreads.Limit : 1;
        // Tile grid in micro-panel units: column chunks of at most NC, then split until the tile count is a
        // multiple of the thread count (two tiles a thread on big problems); tiles get equal panel counts.
        int pm = (m + mr - 1) / mr, pn = (n + nr - 1) / nr;
        int nb = (pn + NC / nr - 1) / (NC / nr), mb = 1;
        int want = threads == 1 ? 1 : threads * (work >= 1L << 27 ? 2 : 1);
        while (mb * nb < want || mb * nb % threads != 0)
        {
            bool canM = pm >= (mb + 1) * 4, canN = pn >= nb + 1;
            if (canM && (!canN || (double)m / mb >= (double)n / nb)) mb++;
            else if (canN) nb++;
            else break;
        }
        if (mb * nb == 1) { Tile(ref a, ref b, 0, m, 0, n, k, beta, c, ldc, epi); return; }
        nint cp = (nint)c;
        Parallel.For(0, mb * nb, CpuThreads.Cap(threads), t =>
        {
            int ti = t / nb, tj = t % nb;
            TA la = a; TB lb = b;
            int i0 = (int)((long)ti * pm / mb) * mr, i1 = Math.Min(m, (int)((long)(ti + 1) * pm / mb) * mr);
            int j0 = (int)((long)tj * pn / nb) * nr, j1 = Math.Min(n, (int)((long)(tj + 1) * pn / nb) * nr);
            Tile(ref la, ref lb, i0, i1, j0, j1, k, beta, (float*)cp, ldc, epi);
        });
    }

    static void Tile<TA, TB>(ref TA a, ref TB b, int i0, int i1, int j0, int j1, int k, float beta, float* c, int ldc, GemmEpilogue epi)
        where TA : struct, IPanelSource where TB : struct, IPanelSource
    {
        int mr = MR, nr = NR;
        float* bp = Scratch(ref t_b, KC * NC);
        float* ap = Scratch(ref t_a, KC * mr);
        float* tmp = Scratch(ref t_tmp, mr * nr);
        float** bps = stackalloc float*[NC / 16];
        for (int jc = j0; jc < j1; jc += NC)
        {
            int nc = Math.Min(NC, j1 - jc), panels = (nc + nr - 1) / nr;
            for (int pc = 0; pc < k; pc += KC)
            {
                int kc = Math.Min(KC, k - pc);
                for (int q = 0; q < panels; q++)
                    bps[q] = b.Panel(jc + q * nr, Math.Min(nr, nc - q * nr), pc, kc, bp + (nint)q * kc * nr, nr);
                float be = pc == 0 ? beta : 1f;
                bool last = epi.Active && pc + kc >= k;
                for (int ir = i0; ir < i1; ir += mr)
                {
                    int mm = Math.Min(mr, i1 - ir);
                    // a full 12-row block of an unscaled A that serves at most UnpackedAPanels column panels is read in
                    // place (packing it would cost about as much as its few products); otherwise (or for a partial
                    // column panel) it is packed once
                    long rs = 0, ks = 0;
                    float* ar = Use512 && UnpackedA && mm == mr && panels <= UnpackedAPanels ? a.InPlace(ir, pc, out rs, out ks) : null;
                    float* aq = ar == null ? a.Panel(ir, mm, pc, kc, ap, mr) : null;
                    float* crow = c + (nint)ir * ldc + jc;
                    for (int q = 0; q < panels; q++)
                    {
                        int nn = Math.Min(nr, nc - q * nr);
                        float* bq = bps[q], cc = crow + q * nr;
                        if (ar != null && nn == nr) GemmRowKernels.Kernel12InPlaceA(kc, ar, (nint)rs, (nint)ks, bq, cc, ldc, be);
                        else
                        {
                            if (aq == null) aq = a.Panel(ir, mm, pc, kc, ap, mr);
                            if (mm == mr && nn == nr) Kernel(kc, aq, bq, cc, ldc, be);
                            else if (Use512 && nn == nr) GemmRowKernels.KernelRowsx32(mm, kc, aq, bq, cc, ldc, be);
                            else
                            {
                                Kernel(kc, aq, bq, tmp, nr, 0f);
                                Merge(tmp, nr, mm, nn, cc, ldc, be);
                            }
                        }
                        if (last)
                            for (int i = 0; i < mm; i++) epi.Apply(cc + (nint)i * ldc, ir + i, nn);
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Kernel(int kc, float* a, float* b, float* c, int ldc, float beta)
    {
        if (Use512) GemmRowKernels.Kernel<Rows12>(kc, a, b, c, ldc, beta);
        else GemmKernels.Kernel6x16(kc, a, b, c, ldc, beta);
    }

    static void Merge(float* tmp, int ldt, int mm, int nn, float* c, int ldc, float beta)
    {
        for (int i = 0; i < mm; i++)
        {
            float* t = tmp + (nint)i * ldt, d = c + (nint)i * ldc;
            if (beta == 0) for (int j = 0; j < nn; j++) d[j] = t[j];
            else for (int j = 0; j < nn; j++) d[j] = t[j] + beta * d[j];
        }
    }

    /// <summary>C = beta * C (zero when beta == 0, whatever C held).</summary>
    public static void ScaleC(int m, int n, float beta, float* c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + (nint)i * ldc, n);
            if (beta == 0) row.Clear();
            else if (beta != 1) for (int j = 0; j < n; j++) row[j] *= beta;
        }
    }
}
