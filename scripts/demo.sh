#!/usr/bin/env bash
# make demo: the main job end to end on embedded defaults (run through `make demo`).
set -euo pipefail
out=${1:?dataset folder}; persons=${2:-20000}; years=${3:-3}; seed=${4:-7}
started=$(date +%s)

echo "== 1. simulate a county of ${persons} persons over ${years} years (seed ${seed})"
riskwarn simulate "$out/county" --persons "$persons" --years "$years" --seed "$seed"

echo "== 2. validate it against the data contract"
riskwarn validate "$out/county" | tail -n 3

echo "== 3. load it through the validating loader and summarise"
riskwarn summary "$out/county"

echo "== batch stages done in $(( $(date +%s) - started ))s"
