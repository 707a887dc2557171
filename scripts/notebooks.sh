#!/usr/bin/env bash
# Runs the analysis notebooks: a small sweep of the simulator (each run appends one row to a CSV
# with --csv), then every notebook in notebooks/ executed by jupyter nbconvert into HTML, with its
# plots as PNG files, all under artifacts/notebooks/. Needs Debian's python3-pandas,
# python3-matplotlib, python3-ipykernel and jupyter-nbconvert: installed when missing and this
# runs as root with apt-get; otherwise it stops and says what to install.
# Usage: scripts/notebooks.sh [--sizes 50,100,200,400]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
sizes="50,100,200,400"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sizes)
      if [[ $# -lt 2 ]]; then echo "error: --sizes needs a comma-separated list of node counts" >&2; exit 2; fi
      sizes="$2"; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [[ ! "$sizes" =~ ^[0-9]+(,[0-9]+)*$ ]]; then echo "error: --sizes: '$sizes' is not a comma-separated list of node counts" >&2; exit 2; fi
# Each size runs with --signaling xmpp too, whose bound is 2,500 nodes (SimParameters.XmppNodesMax).
IFS=',' read -ra ns <<< "$sizes"
for n in "${ns[@]}"; do
  if (( 10#$n < 1 || 10#$n > 2500 )); then echo "error: --sizes: $n is not a node count in 1..2500 (the sweep also runs --signaling xmpp, bounded at 2,500)" >&2; exit 2; fi
done

py=/usr/bin/python3
needs() { ! "$py" -c 'import pandas, matplotlib, ipykernel' >/dev/null 2>&1 || ! command -v jupyter-nbconvert >/dev/null 2>&1; }
if needs && [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing python3-pandas, python3-matplotlib, python3-ipykernel and jupyter-nbconvert (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends python3-pandas python3-matplotlib python3-ipykernel jupyter-nbconvert >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends python3-pandas python3-matplotlib python3-ipykernel jupyter-nbconvert >/dev/null 2>&1; } || true
fi
if needs; then
  echo "error: the notebooks need Debian's python3-pandas, python3-matplotlib, python3-ipykernel and jupyter-nbconvert (apt-get install them, or run this as root)" >&2
  exit 3
fi

out=artifacts/notebooks
mkdir -p "$out"
# This run's sweep and outputs go to a staging directory first: a run that fails leaves the
# previous results as they were, and the results listed at the end are this run's own.
stage="$(mktemp -d "$out/.run-XXXXXX")"
trap 'rm -rf "$stage"' EXIT
sweep="$stage/sweep.csv"
for n in "${ns[@]}"; do
  for signaling in modeled xmpp; do
    echo "==> converge --nodes $n --signaling $signaling"
    scripts/sim.sh converge --nodes "$n" --signaling "$signaling" --csv "$sweep" --json >/dev/null
  done
done
for nb in notebooks/*.ipynb; do
  echo "==> $nb"
  EDGEVPN_SWEEP_CSV="$PWD/$sweep" EDGEVPN_PLOTS_DIR="$PWD/$stage" \
    jupyter-nbconvert --to html --execute --ExecutePreprocessor.timeout=600 --output-dir "$stage" "$nb" >/dev/null 2>"$stage/nbconvert.log" \
    || { cat "$stage/nbconvert.log" >&2; echo "error: $nb failed; the previous results in $out are left as they were" >&2; exit 1; }
done
rm -f "$stage/nbconvert.log"
made=()
for f in "$stage"/*; do
  mv -f "$f" "$out/"
  made+=("$out/$(basename "$f")")
done
echo "made: ${made[*]}"
