#!/usr/bin/env bash
# Runs the GPU kit on this machine (see tools/gpu/README.md in the repository):
#   tar -xJf churn-gpu-kit.tar.xz && churn-gpu-kit/run-kit.sh [--rows N] [--concurrency N] [--work DIR]
# Prints what it found (nvidia-smi, the Vulkan loader and ICD files) on stderr, scores the kit's
# snapshot (or a generated one of --rows rows) with --device cpu and, when an NVIDIA GPU is
# present, --device webgpu and --device auto, and prints the results as ONE JSON line on stdout.
# GPU steps are reported as skipped, with the reason, when there is no GPU. Exit code 0 when
# every step that ran passed.
set -euo pipefail
kit=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
node="$kit/node"
work="${TMPDIR:-/tmp}/churn-gpu-kit-work"
args=()
while (($#)); do
  case $1 in
    --rows | --concurrency)
      [[ $# -ge 2 ]] || { echo "run-kit: $1 needs a value" >&2; exit 2; }
      args+=("$1" "$2")
      shift 2
      ;;
    --work)
      [[ $# -ge 2 ]] || { echo "run-kit: --work needs a folder" >&2; exit 2; }
      work=$2
      shift 2
      ;;
    *)
      echo "usage: run-kit.sh [--rows N] [--concurrency N] [--work DIR] (unknown: $1)" >&2
      exit 2
      ;;
  esac
done
[[ -x $node ]] || { echo "run-kit: the kit's Node binary $node is missing; unpack the whole archive" >&2; exit 2; }

echo "run-kit: kit $(sed -n 's/.*"commit": "\(.*\)".*/\1/p' "$kit/KIT.json" 2>/dev/null || echo '?'), node $("$node" --version), $(uname -srm)" >&2
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi >&2 || echo "run-kit: nvidia-smi failed" >&2
else
  echo "run-kit: nvidia-smi not found" >&2
fi
exec "$node" "$kit/app/dist/gpu/kit-runner.js" --app "$kit/app" --snapshot "$kit/snapshot" --work "$work" ${args[@]+"${args[@]}"}
