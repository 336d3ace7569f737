#!/usr/bin/env bash
# Installs what the browser and platform-model tests need, so `cargo test --workspace` runs
# them instead of skipping them: Debian's chromium and chromium-driver, the wasm32 target,
# wasm-bindgen-cli at exactly the version in Cargo.lock, the demo page build, and a Python
# venv (target/test-venv) with the platform's own client, relevanceai==10.2.2, and the MCP
# Python SDK (mcp).
# Safe to run again: each step is skipped when its tool is already there. Needs root for apt.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver
fi
# The README's webhook example is a curl line; a test runs it as written.
if ! command -v curl >/dev/null 2>&1; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y curl
fi
chromium --version 2>/dev/null
chromedriver --version

# The test runner must be exactly the wasm-bindgen version in Cargo.lock.
wasm_bindgen_version="$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')"
if [ "$(wasm-bindgen-test-runner --version 2>/dev/null || true)" != "wasm-bindgen-test-runner $wasm_bindgen_version" ]; then
  # If a dependency pinned by the CLI's own lock file is missing from the registry, build the
  # same CLI version against what the registry has.
  cargo install wasm-bindgen-cli --version "$wasm_bindgen_version" --locked \
    || cargo install wasm-bindgen-cli --version "$wasm_bindgen_version"
fi
wasm-bindgen-test-runner --version

bash scripts/build-demo-page.sh

if ! target/test-venv/bin/python -c 'import relevanceai' 2>/dev/null; then
  if ! python3 -m venv target/test-venv; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv
    python3 -m venv --clear target/test-venv
  fi
  target/test-venv/bin/pip install --quiet relevanceai==10.2.2 requests
fi
# The official MCP Python SDK, the host that drives `relevance mcp` in the CLI's tests, in a
# venv of its own (target/mcp-venv): it needs a newer pydantic than relevanceai==10.2.2 pins.
# Pinned to the version the tests were written against, so a new release cannot change CI.
if ! target/mcp-venv/bin/python -c 'import mcp' 2>/dev/null; then
  python3 -m venv --clear target/mcp-venv
  target/mcp-venv/bin/pip install --quiet mcp==2.3.0
fi
echo "test tools: ready (python: target/test-venv/bin/python, MCP host: target/mcp-venv/bin/python)"
