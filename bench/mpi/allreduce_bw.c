/* The raw cost of the x4 model's gradient reduction without training around it: 686,074,116 bytes
 * (171,518,529 float32) summed over the ranks in ~25 MB in-place MPI_Allreduce calls, as the trainer's buckets,
 * and in one call; best and median of REPS rounds, after a barrier so rank skew is not counted.
 *   mpicc -O2 bench/mpi/allreduce_bw.c -o /tmp/allreduce_bw
 *   mpirun --allow-run-as-root --oversubscribe -np 2 /tmp/allreduce_bw            */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#define PARAMS 171518529L
#define BUCKET (25L << 20) / 4
#define REPS 5

static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

static void run(float *g, long bucket, int rank, int size, const char *what) {
    double t[REPS];
    for (int r = 0; r < REPS; r++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        for (long o = 0; o < PARAMS; o += bucket) {
            long n = PARAMS - o < bucket ? PARAMS - o : bucket;
            MPI_Allreduce(MPI_IN_PLACE, g + o, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        }
        t[r] = MPI_Wtime() - t0;
    }
    qsort(t, REPS, sizeof t[0], cmp);
    if (rank == 0)
        printf("%d ranks, %s: best %.3f s, median %.3f s, %.2f GB/s algorithm bandwidth (bytes / best time), bus %.2f GB/s (x 2(R-1)/R)\n",
               size, what, t[0], t[REPS / 2], PARAMS * 4.0 / t[0] / 1e9, PARAMS * 4.0 * 2 * (size - 1) / size / t[0] / 1e9);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    float *g = malloc(PARAMS * sizeof(float));
    for (long i = 0; i < PARAMS; i++) g[i] = 1e-6f * (float)(i % 1000);
    run(g, BUCKET, rank, size, "25 MB buckets");
    run(g, PARAMS, rank, size, "one 686 MB call");
    free(g);
    MPI_Finalize();
    return 0;
}
