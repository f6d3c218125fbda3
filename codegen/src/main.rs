//! `fhir-codegen`: the command line over [`fhir_codegen::Config`].
//!
//! ```text
//! fhir-codegen [--packages DIR]... [--workspace DIR] [--check]
//!     Regenerates `fhir-models` from the packages named in `spec/manifest.json`. Packages come from the
//!     `--packages` directories, else `$FHIR_PACKAGES`, else `~/.fhir/packages`. With `--check`, writes nothing
//!     and fails when the committed code differs from a fresh generation.
//! fhir-codegen --out-dir DIR --ig ID#VERSION=MODULE... [--packages DIR]... [--dependency ID#VERSION]...
//!     [--core ID#VERSION --expansions ID#VERSION|none --module r4] [--resources NAME,NAME...]
//!     Generates one self-contained file per IG module into DIR (as `Config::generate` does from a build.rs);
//!     `--resources` generates only those core resources (`Config::resources`).
//! ```

use fhir_codegen::Config;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: fhir-codegen [--packages DIR]... [--workspace DIR] [--check]\n       \
     fhir-codegen --out-dir DIR --ig ID#VERSION=MODULE... [--packages DIR]... [--dependency ID#VERSION]... \
     [--core ID#VERSION] [--expansions ID#VERSION|none] [--module r4] [--resources NAME,NAME...]";

#[derive(Default)]
struct Args {
    packages: Vec<PathBuf>,
    workspace: Option<PathBuf>,
    check: bool,
    out_dir: Option<PathBuf>,
    igs: Vec<(String, String)>,
    dependencies: Vec<String>,
    core: Option<String>,
    expansions: Option<String>,
    module: Option<String>,
    resources: Option<Vec<String>>,
}

fn parse() -> Result<Option<Args>, String> {
    let mut a = Args::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("`{name}` needs a value"));
        match arg.as_str() {
            "--packages" => a.packages.push(value("--packages")?.into()),
            "--workspace" => a.workspace = Some(value("--workspace")?.into()),
            "--check" => a.check = true,
            "--out-dir" => a.out_dir = Some(value("--out-dir")?.into()),
            "--ig" => {
                let v = value("--ig")?;
                let (pkg, module) = v.split_once('=').ok_or_else(|| format!("`--ig {v}`: expected ID#VERSION=MODULE"))?;
                a.igs.push((pkg.to_owned(), module.to_owned()));
            }
            "--dependency" => a.dependencies.push(value("--dependency")?),
            "--core" => a.core = Some(value("--core")?),
            "--expansions" => a.expansions = Some(value("--expansions")?),
            "--module" => a.module = Some(value("--module")?),
            "--resources" => {
                let names = value("--resources")?.split(',').map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()).collect();
                a.resources = Some(names);
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(None);
            }
            other => return Err(format!("unknown argument `{other}` (see --help)")),
        }
    }
    Ok(Some(a))
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(Some(a)) => a,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fhir-codegen: {e}");
            return ExitCode::from(2);
        }
    };
    let result = if args.out_dir.is_some() { build_mode(&args) } else { models_mode(&args) };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("fhir-codegen: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Generation into a directory through [`Config`].
fn build_mode(args: &Args) -> Result<ExitCode, fhir_codegen::Error> {
    let mut config = Config::new();
    for p in &args.packages {
        config.package_path(p);
    }
    if let Some(core) = &args.core {
        let expansions = args.expansions.as_deref().filter(|e| *e != "none");
        config.core(core, expansions, args.module.as_deref().unwrap_or("r4"));
    }
    for (pkg, module) in &args.igs {
        config.ig(pkg, module);
    }
    for d in &args.dependencies {
        config.dependency(d);
    }
    if let Some(names) = &args.resources {
        config.resources(names);
    }
    if let Some(dir) = &args.out_dir {
        config.out_dir(dir);
    }
    let generated = config.cargo_metadata(false).generate()?;
    for w in &generated.warnings {
        eprintln!("fhir-codegen: warning: {w}");
    }
    for f in &generated.files {
        println!("fhir-codegen: wrote {}", f.display());
    }
    println!("fhir-codegen: needs the fhir-models features {}", generated.features.join(", "));
    Ok(ExitCode::SUCCESS)
}

/// The repository's own generation (the manifest) into `fhir-models`.
fn models_mode(args: &Args) -> Result<ExitCode, fhir_codegen::Error> {
    let workspace = args.workspace.clone().unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."));
    let dir = match args.packages.first() {
        Some(d) => d.clone(),
        None => fhir_codegen::packages::packages_dir(None).map_err(|e| fhir_codegen::Error::Load(e.into()))?,
    };
    let (files, warnings) = fhir_codegen::generate_models(&workspace, &dir)?;
    for w in &warnings {
        eprintln!("fhir-codegen: warning: {w}");
    }
    if args.check {
        let drift = fhir_codegen::drift(&workspace, &files);
        if drift.is_empty() {
            println!("fhir-codegen: generated code is up to date ({} files)", files.len());
            return Ok(ExitCode::SUCCESS);
        }
        for d in drift {
            eprintln!("fhir-codegen: {d}");
        }
        eprintln!("fhir-codegen: run `cargo run -p fhir-codegen --release` and commit the result");
        return Ok(ExitCode::FAILURE);
    }
    fhir_codegen::write(&workspace, &files)?;
    println!("fhir-codegen: wrote {} files from {}", files.len(), dir.display());
    Ok(ExitCode::SUCCESS)
}
