#!/usr/bin/env bash
# The trajectory-optimisation ablation of bench/RESULTS.md ("Trajectory optimisation"), on the CPU with the tiny
# config: align the shipped model (Stage A, gamma 0.05 and 0.1), distil the gamma 0.05 run into one step (Stage B)
# plain, with an interpolated start, and with start + negative guidance; then score every row.
# Usage: bench/trajectory-ablation.sh [train|eval|all|time] (default all). Runs go to runs/traj/ (git-ignored).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shared=${CTMSR_SHARED:-$here/../shared}
out=$here/runs/traj
# CTMSR_DLL: a copy of the built CLI, so that rebuilding the checkout does not touch the running one
dll=${CTMSR_DLL:-$here/src/Ctmsr.Cli/bin/Release/net10.0/ctmsr.dll}
ctmsr() { nice -n 10 dotnet "$dll" "$@"; }
mkdir -p "$out"

# training images: ValSR/gt without the 6 images that Bicubicx4 also holds (26 images), as links
train=$out/data-train
if [ ! -d "$train" ]; then
  mkdir -p "$train"
  comm -23 <(ls "$shared/data/ValSR/gt") <(ls "$shared/data/Bicubicx4/gt") | while read -r f; do ln -s "$shared/data/ValSR/gt/$f" "$train/$f"; done
fi
# RealSet65's 16 smallest images (NIQE only; the whole set is ~40x the compute of these on this CPU)
real=$out/data-realset16
if [ ! -d "$real" ]; then
  mkdir -p "$real"
  for f in "$shared/data/RealSet65"/*; do
    s=$(file -L "$f" | grep -oE '[0-9]+ ?x ?[0-9]+' | tail -1 | tr -d ' ')
    echo "$(( ${s%x*} * ${s#*x} )) $(basename "$f")"
  done | sort -n | head -16 | while read -r _ f; do ln -s "$shared/data/RealSet65/$f" "$real/$f"; done
fi

pre=$here/models/ctmsr-tiny.safetensors
common=(--data "$train" --crop 64 --batch 2 --lr 1e-4 --ema-decay 0.95 --seed 1)
what=${1:-all}
if [ "$what" = train ] || [ "$what" = all ]; then
  for g in 0.05 0.1; do
    [ -f "$out/align-g$g/model_ema.safetensors" ] || ctmsr train align --init "$pre" --run "$out/align-g$g" "${common[@]}" \
      --iters 80 --checkpoint-every 40 --teacher-steps 4 --candidates 4 --gamma "$g"
  done
  aligned=$out/align-g0.05/model_ema.safetensors
  d() { local name=$1; shift; [ -f "$out/$name/model_ema.safetensors" ] || ctmsr train distill --init "$aligned" --run "$out/$name" "${common[@]}" \
      --iters 120 --checkpoint-every 60 --teacher-steps 4 --target-mix 0.5 "$@"; }
  d distill-1 --student-steps 1
  d distill-1-start --student-steps 1 --start 0.8
  d distill-1-start-guid --student-steps 1 --start 0.8 --guidance 0.2
fi
if [ "$what" = eval ] || [ "$what" = all ]; then
  row() {  # name model sampler flags...
    local name=$1 model=$2; shift 2
    [ -f "$out/eval-$name.csv" ] || ctmsr eval --model "$model" --lq "$shared/data/Bicubicx4/lq" --gt "$shared/data/Bicubicx4/gt" --csv "$out/eval-$name.csv" "$@" 2> "$out/eval-$name.err"
    [ -f "$out/niqe-$name.csv" ] || ctmsr eval --model "$model" --lq "$real" --csv "$out/niqe-$name.csv" "$@" 2> "$out/niqe-$name.err"
  }
  row pre-1 "$pre"
  row pre-4 "$pre" --steps 4
  row align-g0.05-4 "$out/align-g0.05/model_ema.safetensors" --steps 4
  row align-g0.1-4 "$out/align-g0.1/model_ema.safetensors" --steps 4
  row distill-1 "$out/distill-1/model_ema.safetensors"
  row distill-1-start "$out/distill-1-start/model_ema.safetensors" --start 0.8
  row distill-1-start-guid "$out/distill-1-start-guid/model_ema.safetensors" --start 0.8 --guidance 0.2
  # controls: the plain distilled model with the start / guidance at inference only (Bicubicx4 only)
  for c in "infstart --start 0.8" "infguid --start 0.8 --guidance 0.2"; do
    set -- $c; n=$1; shift
    [ -f "$out/eval-distill-1-$n.csv" ] || ctmsr eval --model "$out/distill-1/model_ema.safetensors" --lq "$shared/data/Bicubicx4/lq" \
      --gt "$shared/data/Bicubicx4/gt" --csv "$out/eval-distill-1-$n.csv" "$@" 2> "$out/eval-distill-1-$n.err"
  done
  # the distillation-cost diagnostic before and after alignment
  for m in "pre $pre" "align $out/align-g0.05/model_ema.safetensors"; do
    set -- $m
    [ -f "$out/cost-$1.csv" ] || ctmsr trajectory cost --weights "$2" --lq "$shared/data/Bicubicx4/lq" --limit 4 --dense 40 --steps 1,2,3,4 \
      -o "$out/cost-$1.png" > "$out/cost-$1.csv" 2> "$out/cost-$1.err"
  done
fi
if [ "$what" = time ]; then  # CPU seconds per image of each sampler setting (user + sys over the 16 Bicubicx4 images)
  for f in "" "--steps 4" "--start 0.8 --guidance 0.2"; do
    /usr/bin/time -f "[$f] user %U s, sys %S s for 16 images" nice -n 10 dotnet "$dll" upscale "$shared/data/Bicubicx4/lq" -o "$out/time" --overwrite --weights "$pre" $f
  done
fi
