#!/usr/bin/env bash
# make demo: the main job end to end on embedded defaults (run it through `make demo`).
# State (MLflow's SQLite store and artifacts, the service store) lives in $RISKWARN_HOME.
set -euo pipefail
out=${1:?dataset folder}; persons=${2:-100000}; years=${3:-3}; seed=${4:-7}
port=${PORT:-3000}
start_date=2022-01-01
as_of=$(python -c "import datetime as d; s=d.date.fromisoformat('$start_date'); print(s.replace(year=s.year+int($years))-d.timedelta(days=1))")
started=$(date +%s)
step() { printf '\n== %s  (%ss)\n' "$1" "$(( $(date +%s) - started ))"; }

step "1. simulate a county of ${persons} persons over ${years} years (seed ${seed}), with a warning loop rolled out across its townships"
riskwarn simulate "$out/county" --persons "$persons" --years "$years" --seed "$seed" --start "$start_date" --interventions

step "2. validate it against the data contract (docs/contract.md)"
riskwarn validate "$out/county" | tail -n 1

step "3. load it through the validating loader and summarise"
riskwarn summary "$out/county" | sed -n 1p

step "4. point-in-time snapshots, labels and features"
riskwarn features "$out/county" --out "$out/features.parquet"

step "5. train LightGBM beside its baselines on those features, choose, calibrate, evaluate, refit, log to MLflow, register"
riskwarn train "$out/county" --config experiments/full.toml --features "$out/features.parquet"

step "6. promote the challenger when it beats the champion"
riskwarn promote

step "7. monitor the champion: drift since its training data, what its risks expect, alarms"
riskwarn monitor "$out/county" --as-of "$as_of" --report "$out/monitor.html"
echo "report: $out/monitor.html (also in MLflow, experiment riskwarn-monitoring)"

step "8. the nightly list: every dispute open on ${as_of}, scored from what was known then"
riskwarn score "$out/county" --as-of "$as_of" --out "$out/scores.csv"
head -n 4 "$out/scores.csv"

step "9. fill the service's store and its roster, snapshot three months of scores for the queue (each snapshot issues, re-scores and escalates warnings), make keys"
riskwarn history load "$out/county" --replace
# the roster warnings are routed to: three county leads and officers, an officer and a mediator
# per township, a mediator per grid (pseudonymous staff ids)
python - "$out/county/grids.csv" "$out/roster.csv" <<'PY'
import csv, sys
grids = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
towns = sorted({g["township"] for g in grids if g["township"]})
rows = [(f"{role}-{i:02d}", role, "county", "", "", "") for role in ("lead", "officer") for i in (1, 2, 3)]
for i, t in enumerate(towns, 1):
    rows += [(f"officer-t{i:02d}", "officer", "township", "", t, ""),
             (f"mediator-t{i:02d}", "mediator", "township", "", t, "")]
rows += [(f"mediator-{g['grid_id']}", "mediator", "grid", "", g["township"], g["grid_id"])
         for g in grids if g["township"]]
with open(sys.argv[2], "w", encoding="utf-8", newline="") as f:
    csv.writer(f).writerows([("name", "role", "level", "county", "township", "grid"), *rows])
PY
riskwarn roster load "$out/roster.csv"
for back in 60 30 0; do
  riskwarn history snapshot --as-of "$(python -c "import datetime as d; print(d.date.fromisoformat('$as_of')-d.timedelta(days=$back))")"
done

step "9b. retention: what \`riskwarn records expire\` would delete from the store today under the default policy (a dry run; --apply deletes, the admin's /ui/records lists it by kind)"
riskwarn records expire

step "10. the warnings: red and orange, each routed to an owner with a deadline; overdue ones escalate"
riskwarn warnings summary --tier red --tier orange
riskwarn warnings escalate | tail -n 1

step "11. evaluate the county's warning loop: outcomes by tier and handling, process, and the effect of handling"
riskwarn evaluate-warnings "$out/county" --as-of "$as_of" --bootstrap 200 --out "$out/loop_evaluation.json" | tail -n 6
stamp=$(date +%Y%m%d-%H%M%S)
scorer=$(riskwarn keys create --role scorer --name "demo-platform-$stamp" | tail -n 1)
supervisor=$(riskwarn keys create --role supervisor --name "demo-supervisor-$stamp" | tail -n 1)
echo "$scorer" > "$RISKWARN_HOME/demo-scorer.key"
echo "$supervisor" > "$RISKWARN_HOME/demo-supervisor.key"
dispute=$(sed -n 2p "$out/scores.csv" | cut -d, -f1)

step "batch stages done; starting the service"
riskwarn serve --port "$port" &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null' INT TERM EXIT
for _ in $(seq 1 120); do
  python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:${port}/readyz', timeout=2)" \
    2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { echo "the service did not start; see above" >&2; exit 1; }
  sleep 1
done
cat <<INFO

The scoring service is running (Ctrl-C stops it).
  API:        http://127.0.0.1:${port}/v1/score
  scorer key: ${scorer}
  try:        curl -s -X POST http://127.0.0.1:${port}/v1/score \\
                -H "Authorization: Bearer ${scorer}" -H 'Content-Type: application/json' \\
                -d '{"dispute_id": "${dispute}", "as_of": "${as_of}"}'
  MLflow UI:  .venv/bin/mlflow ui --backend-store-uri sqlite:///${RISKWARN_HOME}/mlflow.db --port 5000

The county overview: http://127.0.0.1:${port}/ui/overview
  the queue:         http://127.0.0.1:${port}/ui/queue
  monthly briefing:  http://127.0.0.1:${port}/ui/briefing (PDF: /ui/briefing.pdf)
  supervisor key: ${supervisor}
The warnings:  curl -s 'http://127.0.0.1:${port}/v1/warnings?tier=red&state=open' \\
                -H "Authorization: Bearer ${scorer}"
INFO
wait "$server"
