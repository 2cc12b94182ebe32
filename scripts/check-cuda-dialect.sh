#!/usr/bin/env bash
# Compiles every GPU kernel source (src/Ctmsr.Kernels/Gpu/*.k) in the CUDA dialect (prelude_cuda.h) with
# clang's CUDA device-only mode, as NVRTC would see it, and lints for float literals without an `f` suffix
# (OpenCL would silently make them double). Exits non-zero on any error. Needs clang (apt-get install clang).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
gpu="$root/src/Ctmsr.Kernels/Gpu"
clang="${CLANG:-clang}"
command -v "$clang" >/dev/null || { echo "clang not found: apt-get install clang (or set CLANG=...)" >&2; exit 2; }
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT

# Stand-in for what NVRTC predeclares (we compile with -nocudainc -nocudalib): attributes, thread indices, math.
cat > "$tmp/nvrtc_shim.h" <<'SHIM'
#define __device__ __attribute__((device))
#define __global__ __attribute__((global))
#define __shared__ __attribute__((shared))
#define __forceinline__ __inline__ __attribute__((always_inline))
struct __cuda_dim3_reader { unsigned int x, y, z; };
#define __CUDA_SREG(name) __attribute__((device)) static inline __cuda_dim3_reader name##_read() { \
    __cuda_dim3_reader r; r.x = __nvvm_read_ptx_sreg_##name##_x(); r.y = __nvvm_read_ptx_sreg_##name##_y(); \
    r.z = __nvvm_read_ptx_sreg_##name##_z(); return r; }
__CUDA_SREG(tid)
__CUDA_SREG(ctaid)
__CUDA_SREG(ntid)
__CUDA_SREG(nctaid)
#define threadIdx tid_read()
#define blockIdx ctaid_read()
#define blockDim ntid_read()
#define gridDim nctaid_read()
extern "C" {
__attribute__((device)) float expf(float);
__attribute__((device)) float logf(float);
__attribute__((device)) float sqrtf(float);
__attribute__((device)) float rsqrtf(float);
__attribute__((device)) float cosf(float);
__attribute__((device)) float erff(float);
__attribute__((device)) float fmaxf(float, float);
__attribute__((device)) float fabsf(float);
__attribute__((device)) float powf(float, float);
}
__attribute__((device)) static inline unsigned int __umulhi(unsigned int a, unsigned int b) { return __nvvm_mulhi_ui(a, b); }
__attribute__((device)) static inline float __int_as_float(int i) { return __builtin_bit_cast(float, i); }
SHIM

# Representative launch-shape defines (the backends pass the same names).
defs=(-DTM=64 -DTN=64 -DTK=16 -DRM=4 -DRN=4 -DRED=256 -DTRANS_A=0 -DTRANS_B=1 -DKS=3 -DSTRIDE=1 -DPAD=1
      -DWS=8 -DWT=64 -DHD=32 -DUSE_LOCAL=1)
fail=0
for k in "$gpu"/*.k; do
    for extra in "" "-DUSE_LOCAL=0 -DTRANS_A=1 -DTRANS_B=0 -DSTRIDE=2 -DKS=1 -DPAD=0"; do
        # later -D wins over earlier ones for clang only with -U first; build a fresh list
        args=("${defs[@]}")
        if [ -n "$extra" ]; then
            args=(-DTM=64 -DTN=64 -DTK=16 -DRM=4 -DRN=4 -DRED=256 -DWS=8 -DWT=64 -DHD=32 $extra)
        fi
        { cat "$gpu/prelude_cuda.h"; echo '#line 1 "'"$(basename "$k")"'"'; cat "$k"; } > "$tmp/k.cu"
        if ! "$clang" -x cuda --cuda-device-only -nocudainc -nocudalib --cuda-gpu-arch=sm_80 -S -Werror -Wno-unknown-cuda-version \
            -include "$tmp/nvrtc_shim.h" -I "$gpu" "${args[@]}" -o "$tmp/k.s" "$tmp/k.cu" 2> "$tmp/err"; then
            echo "FAIL $(basename "$k") ${extra}"; cat "$tmp/err"; fail=1
        else
            echo "ok   $(basename "$k") ${extra:+(variant)}"
        fi
    done
done
# float literals: digits '.' digits [exponent] not followed by f/F (comments stripped first)
for k in "$gpu"/*.k "$gpu"/*.h; do
    bad="$(sed -e 's://.*$::' "$k" | perl -0pe 's:/\*.*?\*/::gs' | grep -nP '(?<![\w.])\d+\.\d*([eE][-+]?\d+)?(?![\w.])' || true)"
    if [ -n "$bad" ]; then echo "FAIL $(basename "$k"): float literal without f suffix:"; echo "$bad"; fail=1; fi
done
exit $fail
