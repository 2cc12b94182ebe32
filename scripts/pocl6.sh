#!/usr/bin/env bash
# Builds PoCL 6.0 (an OpenCL 3.0 implementation on the processor, with the generic address space that ILGPU's
# OpenCL accelerator needs; Debian 12's PoCL 3.1 lacks it) from ../shared/vendor once per machine, into a cache
# outside the checkout, and prints the OCL_ICD_VENDORS folder that selects it. Idempotent: a finished build is
# reused (stamp file), a half-finished one is rebuilt. Recipe and measured facts: ../shared/design/ILGPU.md.
# usage: scripts/pocl6.sh            -> builds if needed, prints the vendors folder on stdout
# env:   CTMSR_CACHE (default ~/.cache/ctmsr), CTMSR_SHARED (default ../shared beside the checkout)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shared=${CTMSR_SHARED:-$here/../shared}
cache=${CTMSR_CACHE:-$HOME/.cache/ctmsr}
prefix="$cache/pocl-6.0"
stamp="$prefix/.complete"
if [ -f "$stamp" ]; then echo "$prefix/etc/OpenCL/vendors"; exit 0; fi
# One build at a time per cache: a second caller waits for the first, then finds the stamp.
mkdir -p "$cache"
exec 9>"$cache/pocl-6.0.lock"
flock 9
if [ -f "$stamp" ]; then echo "$prefix/etc/OpenCL/vendors"; exit 0; fi
tarball="$shared/vendor/pocl-6.0-src.tar.gz"
[ -f "$tarball" ] || { echo "pocl6: $tarball not found; set CTMSR_SHARED to the shared folder" >&2; exit 1; }

pkgs=(cmake ninja-build llvm-15-dev clang-15 libclang-15-dev libclang-cpp15-dev ocl-icd-dev ocl-icd-opencl-dev
      opencl-c-headers libhwloc-dev pkg-config)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# LLVM 15 cannot name newer CPUs (it fails on this AMD EPYC), so the kernel library target is chosen from the flags.
if grep -q -m1 avx512f /proc/cpuinfo; then cpu=skylake-avx512
elif grep -q -m1 avx2 /proc/cpuinfo; then cpu=haswell
else cpu=x86-64; fi

work=$(mktemp -d "${TMPDIR:-/tmp}/pocl6.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "pocl6: building PoCL 6.0 for $cpu into $prefix (about 5-15 minutes, once per machine)" >&2
tar -xzf "$tarball" -C "$work"
cd "$work"  # PoCL's configure checks write compile_test_* files into the current folder
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -1)
rm -rf "$prefix"
cmake -S "$src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" \
  -DWITH_LLVM_CONFIG=/usr/lib/llvm-15/bin/llvm-config -DENABLE_TESTS=OFF -DENABLE_EXAMPLES=OFF \
  -DENABLE_HOST_CPU_DEVICES=ON -DKERNELLIB_HOST_CPU_VARIANTS=native -DLLC_HOST_CPU="$cpu" \
  -DENABLE_ICD=ON -DENABLE_SPIRV=OFF >"$work/cmake.log" 2>&1 || { tail -20 "$work/cmake.log" >&2; exit 1; }
ninja -C "$work/build" -j"$(nproc)" >"$work/ninja.log" 2>&1 || { tail -30 "$work/ninja.log" >&2; exit 1; }
ninja -C "$work/build" install >"$work/install.log" 2>&1 || { tail -20 "$work/install.log" >&2; exit 1; }
# The ICD file names libpocl by its installed path so OCL_ICD_VENDORS=<this folder> selects PoCL 6 alone.
mkdir -p "$prefix/etc/OpenCL/vendors"
lib=$(find "$prefix" -name 'libpocl.so*' -type f | head -1)
echo "$lib" > "$prefix/etc/OpenCL/vendors/pocl6.icd"
touch "$stamp"
echo "$prefix/etc/OpenCL/vendors"
