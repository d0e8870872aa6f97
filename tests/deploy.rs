//! The files in deploy/: the systemd units pass `systemd-analyze verify`
//! (no warnings) and keep a low `systemd-analyze security` exposure. Needs
//! systemd-analyze, so #[ignore]d under plain `cargo test`; scripts/test.sh
//! installs it and runs these with --include-ignored, where a missing tool
//! fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;

const UNITS: [&str; 3] = [
    "timesync.service",
    "timesync-backup.service",
    "timesync-backup.timer",
];

/// The units with their `/usr/local/bin/timesync` pointing at the binary
/// under test (verify checks that ExecStart= exists and is executable).
fn units_in(dir: &Path) -> Vec<PathBuf> {
    let binary = env!("CARGO_BIN_EXE_timesync");
    UNITS
        .iter()
        .map(|name| {
            let source = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("deploy")
                .join(name);
            let text = std::fs::read_to_string(&source).unwrap();
            assert!(text.contains("/usr/local/bin/timesync") || name.ends_with(".timer"));
            let path = dir.join(name);
            std::fs::write(&path, text.replace("/usr/local/bin/timesync", binary)).unwrap();
            path
        })
        .collect()
}

fn systemd_analyze(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new("systemd-analyze")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("systemd-analyze (Debian package systemd) must be installed")
}

#[test]
#[ignore = "needs systemd-analyze; scripts/test.sh runs it"]
fn systemd_units_verify_without_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let units = units_in(dir.path());
    let mut args = vec!["verify"];
    args.extend(units.iter().map(|p| p.to_str().unwrap()));
    let out = systemd_analyze(&args, dir.path());
    let report =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{report}");
    // Unknown or misspelt keys are only warnings: none allowed.
    assert!(report.trim().is_empty(), "{report}");
}

#[test]
#[ignore = "needs systemd-analyze; scripts/test.sh runs it"]
fn systemd_services_are_hardened() {
    let dir = tempfile::tempdir().unwrap();
    let units = units_in(dir.path());
    for unit in units.iter().filter(|p| p.extension().unwrap() == "service") {
        let out = systemd_analyze(
            // Exposure 0 (best) … 10; fail above 2.0.
            &[
                "security",
                "--offline=true",
                "--threshold=20",
                unit.to_str().unwrap(),
            ],
            dir.path(),
        );
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{}: {report}", unit.display());
    }
    let main = std::fs::read_to_string(&units[0]).unwrap();
    for line in [
        "DynamicUser=yes",
        "ProtectSystem=strict",
        "StateDirectory=timesync",
    ] {
        assert!(main.lines().any(|l| l == line), "{line} missing");
    }
}
