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
    --sizes) sizes="${2:?--sizes needs a comma-separated list of node counts}"; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [[ ! "$sizes" =~ ^[0-9]+(,[0-9]+)*$ ]]; then echo "error: --sizes: '$sizes' is not a comma-separated list of node counts" >&2; exit 2; fi

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
sweep="$out/sweep.csv"
rm -f "$sweep"
IFS=',' read -ra ns <<< "$sizes"
for n in "${ns[@]}"; do
  for signaling in modeled xmpp; do
    echo "==> converge --nodes $n --signaling $signaling"
    scripts/sim.sh converge --nodes "$n" --signaling "$signaling" --csv "$sweep" --json >/dev/null
  done
done
for nb in notebooks/*.ipynb; do
  echo "==> $nb"
  EDGEVPN_SWEEP_CSV="$PWD/$sweep" EDGEVPN_PLOTS_DIR="$PWD/$out" \
    jupyter-nbconvert --to html --execute --ExecutePreprocessor.timeout=600 --output-dir "$out" "$nb" >/dev/null 2>"$out/nbconvert.log" \
    || { cat "$out/nbconvert.log" >&2; echo "error: $nb failed" >&2; exit 1; }
done
echo "notebooks: $(ls "$out"/*.html | tr '\n' ' ')"
echo "plots: $(ls "$out"/*.png | tr '\n' ' ')"
