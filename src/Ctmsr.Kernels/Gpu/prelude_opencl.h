/* OpenCL C dialect for the shared kernel sources (prepended by KernelSources; see prelude_cuda.h). */
#define KERNEL __kernel void
#define FN static inline
#define GLOBAL __global
#define LOCAL __local
#define LPTR __local
#define CONST_ARG const
#define RESTRICT restrict
#define BARRIER() barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE)
#define GID(d) ((int)get_global_id(d))
#define LID(d) ((int)get_local_id(d))
#define GRPID(d) ((int)get_group_id(d))
#define LSIZE(d) ((int)get_local_size(d))
#define NGRP(d) ((int)get_num_groups(d))
#define GSIZE(d) ((int)get_global_size(d))
typedef long i64;
typedef ulong u64;
typedef uint u32;
#define MULHI32(a, b) mul_hi((u32)(a), (u32)(b))
/* C99 float names used by the kernels; OpenCL overloads the plain names. */
#define expf exp
#define logf log
#define sqrtf sqrt
#define rsqrtf rsqrt
#define cosf cos
#define erff erf
#define fmaxf fmax
#define fabsf fabs
#define powf pow
#define INFINITY_F INFINITY
