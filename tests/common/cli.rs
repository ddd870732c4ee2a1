//! Running the `huren` binary as a user would, for the command-line tests.

use std::path::Path;
use std::process::{Command, Output};

/// The key passphrase every CLI test uses.
pub const PASSPHRASE: &str = "correct horse battery staple";

/// What one run printed and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `huren ARGS` in `dir` with the test passphrase and no trust settings from the
/// environment, feeding `stdin` if given.
pub fn huren(dir: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_huren"))
        .args(args)
        .current_dir(dir)
        .env("HUREN_KEY_PASSPHRASE", PASSPHRASE)
        .env_remove("HUREN_TRUST_LIST")
        .env_remove("HUREN_OPERATOR_CERT")
        .env_remove("HUREN_CATALOGUE")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("huren binary runs");
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// The run, which must have succeeded.
#[track_caller]
pub fn ok(run: Run) -> Run {
    assert_eq!(
        run.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    run
}

/// The run's stdout as JSON.
pub fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", run.stdout))
}
