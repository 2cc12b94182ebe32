#!/usr/bin/env bash
# Installs the Debian packages Ctmsr uses at run time and in tests (idempotent; quiet when all are present).
set -euo pipefail
# No image library: images are read and written by ImageSharp (managed code).
# openmpi-bin libopenmpi-dev: mpirun and libmpi.so for data-parallel training (src/Ctmsr.Train/Distributed; its tests skip without them).
# fonts-dejavu-core: the font ScottPlot's charts (loss.png, bench --chart) draw their text with, through SkiaSharp.
pkgs=(ocl-icd-libopencl1 pocl-opencl-icd clang libopenblas0-pthread fonts-dejavu-core openmpi-bin libopenmpi-dev)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# PoCL 6 (OpenCL 3.0 with the generic address space) for the ILGPU OpenCL backend, built once per machine into
# ~/.cache/ctmsr (5-15 minutes the first time, then a stamp check). `--no-pocl6` skips it (the ctmsr wrapper: a first
# `./ctmsr demo` should not wait for a compiler build; `--device opencl` then says how to build it).
if [ "${1:-}" != "--no-pocl6" ]; then
  bash "$(dirname "${BASH_SOURCE[0]}")/pocl6.sh" >/dev/null
fi
