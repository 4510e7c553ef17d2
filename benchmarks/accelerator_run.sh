#!/usr/bin/env bash
# The accelerator call (benchmarks/accelerator_run.py): on the GPU machine, with the wheels its
# image lacks carried in benchmarks/wheels/ (`pip download tyro beartype -d benchmarks/wheels`
# here first), writing into $OUT; `--dry-run` runs it here on the CPU in seconds.
#
#   bash benchmarks/accelerator_run.sh             # GPU: about 8 minutes, results in $OUT
#   bash benchmarks/accelerator_run.sh --dry-run   # CPU: tiny sizes, into a temporary folder
set -euo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-$(mktemp -d)}"
if [[ " $* " == *" --dry-run "* ]]; then
  export JAX_PLATFORMS=cpu
elif [[ -d benchmarks/wheels ]]; then
  python3 -m pip install --quiet --no-index --find-links benchmarks/wheels tyro beartype
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
python3 benchmarks/accelerator_run.py --out "$out" "$@" 2>&1 | tee "$out/log.txt"
