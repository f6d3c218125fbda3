//! The golden-test package fixtures, shared by the `golden` and `registry` tests.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The package fixtures of every case, written once per test run by `tests/golden/make_fixtures.py` into a
/// temporary folder (`<folder>/<case>/packages/`): they are made-up packages, so they are generated, not committed.
pub fn fixtures() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("fhir-codegen-golden-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/make_fixtures.py");
        let status = std::process::Command::new("python3")
            .arg(&script)
            .arg(&dir)
            .status()
            .unwrap_or_else(|e| panic!("python3 {}: {e}", script.display()));
        assert!(status.success(), "{} failed: {status}", script.display());
        dir
    })
}

