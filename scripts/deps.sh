#!/usr/bin/env bash
# Installs the Debian packages Ctmsr uses at run time and in tests (idempotent; quiet when all are present).
set -euo pipefail
# No image library: images are read and written by ImageSharp (managed code).
pkgs=(ocl-icd-libopencl1 pocl-opencl-icd clang libopenblas0-pthread)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
