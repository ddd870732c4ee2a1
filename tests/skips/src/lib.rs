//! Tests that cannot run on this machine (no PostgreSQL, a tool not installed) say so here
//! instead of passing quietly: [`skipped`] records the test and the reason, and the last test
//! binary of `cargo test --workspace` (`tests/summary.rs`, last because this package's name
//! sorts last) prints every skip of the run in one line. When `CI` is set a skip is a failure:
//! [`skipped`] panics.
//!
//! The records of one run are kept apart from other runs' by the identity of the `cargo`
//! process that runs the test binaries (their parent: its pid and start time), so a record
//! left by an earlier, interrupted run never shows up in a later summary.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::PathBuf;

/// Says that the calling test (or the part of it that follows) cannot run here, and why: a
/// note on stderr and a record for the run's summary. The caller then returns (or leaves that
/// part out). Under `CI` it panics instead, so CI can never go green with a part not run.
#[track_caller]
pub fn skipped(why: &str) {
    let test = current_test();
    if ci() {
        panic!(
            "{test} cannot run: {why}. CI is set, so a skipped test is a failure \
             (scripts/test installs and starts what the tests need)"
        );
    }
    eprintln!("note: {test} skipped: {why}");
    // A skip that cannot be recorded would vanish from the summary: fail rather than hide it.
    let dir = records_dir();
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot record a skip in {dir:?}: {e}"));
    let path = dir.join(run_id(std::os::unix::process::parent_id()));
    let line = format!("{}\t{}\n", one_line(&test), one_line(why));
    // One write of one short line with O_APPEND: records of parallel tests do not interleave.
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(line.as_bytes()))
        .unwrap_or_else(|e| panic!("cannot record a skip in {path:?}: {e}"));
}

/// Whether skips are failures: `CI` set to anything but the empty string.
pub fn ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// This run's records (`test\treason` lines), removed from disk once read, along with the
/// records of runs whose `cargo` is no longer running (interrupted before their summary).
pub fn take_records() -> String {
    let dir = records_dir();
    let own = run_id(std::os::unix::process::parent_id());
    let records = fs::read_to_string(dir.join(&own)).unwrap_or_default();
    for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let still_running = name
            .split('-')
            .next()
            .and_then(|pid| pid.parse::<u32>().ok())
            .is_some_and(|pid| name != own && run_id(pid) == name);
        if !still_running {
            let _ = fs::remove_file(entry.path());
        }
    }
    records
}

/// The run's skips in one line: how many, then each reason with the tests it stopped.
pub fn summary_line(records: &str) -> String {
    let mut by_reason: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut count = 0;
    for (test, why) in records.lines().filter_map(|l| l.split_once('\t')) {
        by_reason.entry(why).or_default().push(test);
        count += 1;
    }
    if count == 0 {
        return "skipped tests: none, every test of this run ran".to_owned();
    }
    let reasons: Vec<String> = by_reason
        .into_iter()
        .map(|(why, tests)| format!("{why}: {}", tests.join(", ")))
        .collect();
    format!(
        "SKIPPED {count} test{} (this run is NOT complete; scripts/test installs what they need) — {}",
        if count == 1 { "" } else { "s" },
        reasons.join("; ")
    )
}

fn records_dir() -> PathBuf {
    std::env::temp_dir().join("huren-skipped-tests")
}

/// A process's identity across pid reuse: pid and start time (field 22 of `/proc/PID/stat`).
fn run_id(pid: u32) -> String {
    let start = fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let (_, after_name) = stat.rsplit_once(')')?;
            after_name.split_whitespace().nth(19).map(str::to_owned)
        });
    match start {
        Some(start) => format!("{pid}-{start}"),
        None => format!("{pid}-gone"),
    }
}

/// `binary::module::test`: the test binary (its file name without cargo's hash) and libtest's
/// name for the test, which is the name of the thread running it.
fn current_test() -> String {
    let binary = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .map(|stem| match stem.rsplit_once('-') {
            Some((name, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => name.to_owned(),
            _ => stem,
        })
        .unwrap_or_else(|| "?".to_owned());
    let thread = std::thread::current();
    format!("{binary}::{}", thread.name().unwrap_or("?"))
}

fn one_line(text: &str) -> String {
    text.replace(['\t', '\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_groups_tests_by_reason_and_counts_them() {
        let records =
            "a::x::postgres\tno database\nb::qr\tno zbarimg\na::y::postgres\tno database\n";
        assert_eq!(
            summary_line(records),
            "SKIPPED 3 tests (this run is NOT complete; scripts/test installs what they need) — \
             no database: a::x::postgres, a::y::postgres; no zbarimg: b::qr"
        );
        assert_eq!(
            summary_line(""),
            "skipped tests: none, every test of this run ran"
        );
    }

    #[test]
    fn a_run_is_told_apart_from_a_later_process_with_the_same_pid() {
        let me = std::process::id();
        let id = run_id(me);
        assert!(
            id.starts_with(&format!("{me}-")) && !id.ends_with("-gone"),
            "{id}"
        );
        assert_eq!(
            run_id(me),
            id,
            "the identity of a running process is stable"
        );
    }
}
