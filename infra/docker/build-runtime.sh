#!/usr/bin/env bash
# The build steps of the churn-scoring image, in one script that the Dockerfile runs and that CI
# runs in a scratch copy of the repository (CI has no Docker engine: check-runtime-image.sh).
#
#   build-runtime.sh deps          in the source tree, with only package.json, the lock file and
#                                  .npmrc present: install every dependency, dev ones included
#                                  (scripts skipped: `prepare` bundles sources not copied yet)
#   build-runtime.sh build         in the full source tree: bundle the apps into dist/ (esbuild)
#   build-runtime.sh runtime DEST  assemble the runtime tree in DEST: bin/, the dist/ bundles the
#                                  `churn` command loads, models/churn-mlp, the healthcheck, and
#                                  production dependencies only, installed afresh from the lock
#                                  file and pruned of other platforms' native binaries
#
# ONNXRUNTIME_NODE_INSTALL=cuda12 (the CUDA image) makes `runtime` run onnxruntime-node's own
# install step, which downloads its CUDA execution provider libraries; the default, skip, keeps
# the CPU build that ships inside the npm package (.npmrc says the same for plain `npm ci`).
set -euo pipefail

npm_quiet=(--no-audit --no-fund --loglevel=error)

deps() {
  npm ci --ignore-scripts "${npm_quiet[@]}"
}

build() {
  npm run --silent build
  for f in dist/cli/main.js dist/cli/shard-worker.js dist/worker/main.js dist/producer/main.js; do
    [[ -s $f ]] || { echo "build-runtime: $f was not built" >&2; exit 1; }
  done
}

runtime() {
  local dest=${1:?usage: build-runtime.sh runtime DEST}
  local src
  src=$(pwd)
  rm -rf "$dest"
  mkdir -p "$dest/dist" "$dest/models"
  cp -R "$src/bin" "$dest/bin"
  # The CLI and the shard worker thread (dist/cli), and the queue apps it loads (dist/worker,
  # dist/producer); the benchmarks stay out.
  cp -R "$src/dist/cli" "$src/dist/worker" "$src/dist/producer" "$dest/dist/"
  cp -R "$src/models/churn-mlp" "$dest/models/churn-mlp"
  cp "$src/package.json" "$src/package-lock.json" "$src/.npmrc" "$dest/"
  cp "$src/infra/docker/healthcheck.js" "$dest/healthcheck.js"
  # Production dependencies only. Scripts are skipped: `prepare` would bundle again and needs
  # esbuild, a dev dependency; the native packages used here ship prebuilt binaries.
  (cd "$dest" && npm ci --omit=dev --ignore-scripts "${npm_quiet[@]}")
  local ort="$dest/node_modules/onnxruntime-node"
  if [[ ${ONNXRUNTIME_NODE_INSTALL:-skip} != skip ]]; then
    # onnxruntime-node's install script, as its docs prescribe for the CUDA provider.
    (cd "$dest" && ONNXRUNTIME_NODE_INSTALL=$ONNXRUNTIME_NODE_INSTALL npm rebuild onnxruntime-node --foreground-scripts "${npm_quiet[@]}")
    local so="$ort/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so"
    [[ -s $so ]] || { echo "build-runtime: $so missing after the CUDA install" >&2; exit 1; }
  fi
  # onnxruntime-node ships every platform's binaries (~290 MB); keep this platform's only.
  local platform arch
  platform=$(node -p process.platform)
  arch=$(node -p process.arch)
  for dir in "$ort"/bin/napi-v6/*/*; do
    [[ -d $dir && $dir != "$ort/bin/napi-v6/$platform/$arch" ]] && rm -rf "$dir"
  done
  find "$ort/bin/napi-v6" -mindepth 1 -maxdepth 1 -type d -empty -delete
  echo "build-runtime: runtime tree in $dest ($(du -sh "$dest" | cut -f1))" >&2
}

case ${1:-} in
  deps) deps ;;
  build) build ;;
  runtime) runtime "${2:-}" ;;
  *) echo "usage: build-runtime.sh deps | build | runtime DEST" >&2; exit 2 ;;
esac
