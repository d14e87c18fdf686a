#!/usr/bin/env bash
# GPU check of bnn_toolkit's training-step benchmark (bnn_toolkit.bench), a few minutes on one GPU.
#
#   bench/gpu_check.sh [OUT_DIR] [--device cpu]
#
# Writes to OUT_DIR (default: $OUT if set, else bench/out):
#   env.txt             torch / CUDA / GPU description
#   bench.md, bench.csv steps/s and peak memory (CUDA max allocated) of every rule x {continuous, binary} x model,
#                       ratios to BP; FullyConnected, SmallVGG at 32 px, MobileNetV2 and VGG19-BN at 224 px;
#                       plus one Fashion-MNIST epoch, device tensors vs DataLoader (when the dataset is installed)
#   bench_bf16_cl.md/.csv  the same with --amp bf16 --channels-last --fused (what the options would buy in training)
#   log.txt             stderr of every step
# `--device cpu` runs the same steps at quick sizes on the CPU (to check this script where there is no GPU).
# Every step has its own time limit and a failing step does not stop the others; the exit status is that of the
# first failing step.
set -uo pipefail
cd "$(dirname "$0")/.."

OUT_DIR="${OUT:-bench/out}"
DEVICE=cuda
while [ $# -gt 0 ]; do
  case "$1" in
    --device) DEVICE="$2"; shift 2 ;;
    --device=*) DEVICE="${1#--device=}"; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) OUT_DIR="$1"; shift ;;
  esac
done
mkdir -p "$OUT_DIR"
PY="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}"
LOG="$OUT_DIR/log.txt"; : > "$LOG"
STATUS=0

run() {  # run NAME LIMIT_S CMD...: stdout to $OUT_DIR/NAME.md, stderr to the log
  local name="$1" limit="$2"; shift 2
  echo "== $name: $*" | tee -a "$LOG"
  local t0=$SECONDS
  timeout "$limit" "$@" > "$OUT_DIR/$name.md" 2>> "$LOG"
  local rc=$?
  echo "== $name: exit $rc after $((SECONDS - t0)) s" | tee -a "$LOG"
  [ $rc -ne 0 ] && [ $STATUS -eq 0 ] && STATUS=$rc
  return 0
}

"$PY" - > "$OUT_DIR/env.txt" 2>> "$LOG" <<'PYEOF'
import platform, torch
print('python', platform.python_version(), '| torch', torch.__version__, '| cuda', torch.version.cuda,
      '| cudnn', torch.backends.cudnn.version())
print('cuda available:', torch.cuda.is_available(), '| threads:', torch.get_num_threads())
for i in range(torch.cuda.device_count()):
    p = torch.cuda.get_device_properties(i)
    print(f'GPU {i}: {p.name}, {p.total_memory / 2**30:.0f} GiB, capability {p.major}.{p.minor}')
PYEOF
command -v nvidia-smi >/dev/null && nvidia-smi >> "$OUT_DIR/env.txt" 2>&1

if [ "$DEVICE" = cpu ]; then
  SIZE=(--quick --reps 1 --steps 1 --no-epoch); AMP=(--quick --reps 1 --steps 1 --no-epoch --amp bf16)
else
  if ! "$PY" -c 'import torch, sys; sys.exit(not torch.cuda.is_available())'; then
    echo "no CUDA device here: use --device cpu to check the script" | tee -a "$LOG"; exit 2
  fi
  SIZE=(--reps 5 --steps 5 --epoch --workers 4); AMP=(--reps 5 --steps 5 --no-epoch --amp bf16 --channels-last --fused)
fi

run bench 420 "$PY" -m bnn_toolkit.bench --device "$DEVICE" --csv "$OUT_DIR/bench.csv" "${SIZE[@]}"
run bench_bf16_cl 300 "$PY" -m bnn_toolkit.bench --device "$DEVICE" --csv "$OUT_DIR/bench_bf16_cl.csv" "${AMP[@]}"

echo "results in $OUT_DIR:"; ls -l "$OUT_DIR"
cat "$OUT_DIR/bench.md"
exit $STATUS
