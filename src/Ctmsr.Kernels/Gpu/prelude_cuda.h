/* CUDA dialect for the shared kernel sources (NVRTC; prepended by KernelSources). */
#define KERNEL extern "C" __global__ void
#define FN static __device__ __forceinline__
#define GLOBAL
#define LOCAL __shared__
#define LPTR
#define CONST_ARG const
#define RESTRICT __restrict__
#define BARRIER() __syncthreads()
#define CUDA_DIM_(v, d) ((d) == 0 ? (int)v.x : (d) == 1 ? (int)v.y : (int)v.z)
#define GID(d) (CUDA_DIM_(blockIdx, d) * CUDA_DIM_(blockDim, d) + CUDA_DIM_(threadIdx, d))
#define LID(d) CUDA_DIM_(threadIdx, d)
#define GRPID(d) CUDA_DIM_(blockIdx, d)
#define LSIZE(d) CUDA_DIM_(blockDim, d)
#define NGRP(d) CUDA_DIM_(gridDim, d)
#define GSIZE(d) (CUDA_DIM_(gridDim, d) * CUDA_DIM_(blockDim, d))
typedef long long i64;
typedef unsigned long long u64;
typedef unsigned int u32;
#define MULHI32(a, b) __umulhi((u32)(a), (u32)(b))
#define INFINITY_F __int_as_float(0x7f800000)
