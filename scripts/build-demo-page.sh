#!/usr/bin/env bash
# Builds the demo chat page (crates/relevance-demo-page, Rust → wasm) into OUT_DIR
# (default: target/demo-page): the wasm module, its wasm-bindgen JS glue, index.html and
# style.css. `relevance emulator --demo-page` serves that directory at /demo/.
#
# Needs the wasm32-unknown-unknown target and wasm-bindgen-cli of the version locked in
# Cargo.lock. CARGO_TARGET_DIR is honoured.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out_dir="${1:-target/demo-page}"

locked="$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')"
if ! command -v wasm-bindgen >/dev/null 2>&1; then
  echo "build-demo-page: wasm-bindgen is missing; install it with: cargo install wasm-bindgen-cli --version ${locked} --locked" >&2
  exit 1
fi
found="$(wasm-bindgen --version | awk '{print $2}')"
if [ -n "$locked" ] && [ "$found" != "$locked" ]; then
  echo "build-demo-page: wasm-bindgen ${found} does not match ${locked} in Cargo.lock; install it with: cargo install wasm-bindgen-cli --version ${locked} --locked" >&2
  exit 1
fi

cargo build -p relevance-demo-page --target wasm32-unknown-unknown --release

target_dir="${CARGO_TARGET_DIR:-$root/target}"
wasm="$target_dir/wasm32-unknown-unknown/release/relevance_demo_page.wasm"
if [ ! -f "$wasm" ]; then
  echo "build-demo-page: the build left no $wasm" >&2
  exit 1
fi
mkdir -p "$out_dir"
wasm-bindgen --target web --no-typescript --out-dir "$out_dir" "$wasm"
cp crates/relevance-demo-page/static/index.html crates/relevance-demo-page/static/style.css "$out_dir/"
echo "demo page built in $out_dir"
