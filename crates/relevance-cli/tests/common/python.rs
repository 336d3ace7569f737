//! The Python interpreter for the tests that drive `relevance mcp` with the official MCP
//! Python SDK (`mcp` from PyPI), and their skip rule — the same rule as the emulator's
//! tests with the platform's Python client.
//!
//! The interpreter is `$RELEVANCE_TEST_MCP_PYTHON`, else the venv
//! `scripts/install-test-tools.sh` makes for it (`target/mcp-venv`: `mcp` needs a newer
//! pydantic than the platform's client pins, so it has a venv of its own), else
//! `$RELEVANCE_TEST_PYTHON`, else `python3`. Without it, or without `mcp` in it, a test
//! says so on stderr and passes, unless `CI=true`, where that is a failure (`.ci/run`
//! installs it).

use std::io::Write;
use std::path::Path;
use std::process::Command;

/// The interpreter to use, if it can import `mcp`; `Err` says why not.
pub fn judge() -> Result<String, String> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/mcp-venv/bin/python");
    let python = std::env::var("RELEVANCE_TEST_MCP_PYTHON").unwrap_or_else(|_| {
        if venv.is_file() {
            venv.display().to_string()
        } else {
            std::env::var("RELEVANCE_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
        }
    });
    let output = Command::new(&python)
        .args(["-c", "import mcp, mcp.client.stdio"])
        .output()
        .map_err(|error| format!("cannot run {python}: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "{python} cannot import mcp: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(python)
}

/// The interpreter, or `None` after saying on stderr that `test` is skipped; with
/// `CI=true` a missing interpreter panics instead.
pub fn python_with_mcp_or_skip(test: &str) -> Option<String> {
    match judge() {
        Ok(python) => Some(python),
        Err(why) => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!(
                    "{test} needs the MCP Python SDK (`mcp`; set RELEVANCE_TEST_MCP_PYTHON): \
                     {why}; with CI=true it may not be skipped"
                );
            }
            // Past the test harness's capture (which takes `eprintln!`), so it is seen.
            let _ = writeln!(
                std::io::stderr(),
                "skipped: {test} needs the MCP Python SDK `mcp` \
                 (bash scripts/install-test-tools.sh, or set RELEVANCE_TEST_MCP_PYTHON): {why}"
            );
            None
        }
    }
}
