#!/usr/bin/env bash
# Builds every Rust block of README.md as a program of a new crate that depends on the SDK with
# the README's own Cargo.toml lines (the `relevance` line pointed at this checkout), so what a
# user copies from the README compiles as it stands: no hidden lines, nothing missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 - "$root/README.md" "$work" "$root/crates/relevance" <<'PY'
import pathlib, re, sys
readme, work, sdk = pathlib.Path(sys.argv[1]).read_text(), pathlib.Path(sys.argv[2]), sys.argv[3]
blocks = re.findall(r"^```(\w+)[^\n]*\n(.*?)^```", readme, flags=re.S | re.M)
tomls = [body for lang, body in blocks if lang == "toml" and "[dependencies]" in body]
rust = [body for lang, body in blocks if lang == "rust"]
if len(tomls) != 1 or not rust:
    sys.exit(f"README.md: expected one [dependencies] block and Rust blocks, found {len(tomls)} and {len(rust)}")
deps = re.sub(r"^relevance = .*$", f'relevance = {{ path = "{sdk}" }}', tomls[0], flags=re.M)
(work / "Cargo.toml").write_text(
    '[package]\nname = "readme-check"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n'
    + deps + "\n[workspace]\n")
(work / "src").mkdir()
(work / "src/lib.rs").write_text("")
(work / "examples").mkdir()
for number, body in enumerate(rust, 1):
    hidden = [line for line in body.splitlines() if line.startswith("# ") or line == "#"]
    if hidden:
        sys.exit(f"README.md Rust block {number} has rustdoc-hidden lines: {hidden[:2]}")
    (work / "examples" / f"block_{number}.rs").write_text(body)
print(f"README.md: {len(rust)} Rust blocks written as examples")
PY

# README_CHECK_TARGET_DIR: another place for its build (a shared target directory, say).
CARGO_TARGET_DIR="${README_CHECK_TARGET_DIR:-$root/target/readme-check}" cargo build --quiet --manifest-path "$work/Cargo.toml" --examples
echo "README.md: every Rust block builds in a new crate with the README's Cargo.toml lines"
