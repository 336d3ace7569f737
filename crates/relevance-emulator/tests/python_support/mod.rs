//! Finding the interpreter that has the platform's Python client, for the tests that
//! use it as a judge or a driver.
//!
//! The interpreter is `$RELEVANCE_TEST_PYTHON`, else the venv
//! `scripts/install-test-tools.sh` makes (`target/test-venv`), else `python3`. Without
//! it, or without `relevanceai==10.2.2` in it, a test says so on stderr and passes,
//! unless `CI=true`, where it fails (`.ci/run` installs the client).

use std::io::Write;
use std::path::Path;
use std::process::Command;

/// The client version whose models are the platform's schema (PROTOCOL A7c).
pub const RELEVANCEAI_VERSION: &str = "10.2.2";

/// The interpreter to use, if it has the client; `Err` says why not.
pub fn python_with_client() -> Result<String, String> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-venv/bin/python");
    let python = std::env::var("RELEVANCE_TEST_PYTHON").unwrap_or_else(|_| {
        if venv.is_file() {
            venv.display().to_string()
        } else {
            "python3".into()
        }
    });
    let output = Command::new(&python)
        .args([
            "-c",
            "import importlib.metadata as m, relevanceai.types.task, relevanceai.types.agent; \
             print(m.version('relevanceai'))",
        ])
        .output()
        .map_err(|error| format!("cannot run {python}: {error}"))?;
    let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if !output.status.success() {
        return Err(format!(
            "{python} cannot import relevanceai: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    if version != RELEVANCEAI_VERSION {
        return Err(format!("{python} has relevanceai {version}"));
    }
    Ok(python)
}

/// The interpreter, or `None` after saying on stderr that `test` is skipped; under
/// `CI=true` a missing client is a failure instead.
pub fn python_or_skip(test: &str) -> Option<String> {
    match python_with_client() {
        Ok(python) => Some(python),
        Err(why) => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!(
                    "{test} needs relevanceai=={RELEVANCEAI_VERSION} (set \
                     RELEVANCE_TEST_PYTHON): {why}; with CI=true it may not be skipped"
                );
            }
            // Past the test harness's capture (which takes `eprintln!`), so it is seen.
            let _ = writeln!(
                std::io::stderr(),
                "skipped: {test} needs relevanceai=={RELEVANCEAI_VERSION} \
                 (bash scripts/install-test-tools.sh, or set RELEVANCE_TEST_PYTHON): {why}"
            );
            None
        }
    }
}
