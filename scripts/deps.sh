#!/usr/bin/env bash
# Installs the Debian packages Ctmsr uses at run time and in tests (idempotent; quiet when all are present).
set -euo pipefail
# libjpeg-turbo-progs: djpeg/cjpeg, the JPEG reference in tests/Ctmsr.Tests/Imaging (those tests skip without it).
# openmpi-bin libopenmpi-dev: mpirun and libmpi.so for data-parallel training (src/Ctmsr.Train/Distributed; its tests skip without them).
pkgs=(ocl-icd-libopencl1 pocl-opencl-icd libturbojpeg0 libpng16-16 clang libopenblas0-pthread libjpeg-turbo-progs openmpi-bin libopenmpi-dev)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
