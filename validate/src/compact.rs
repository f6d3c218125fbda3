//! Compact definitions sets: the definitions a validation against some profiles reads, and nothing else, as one
//! Bundle that [`Definitions::add_resource`] loads back. `fhir-models` embeds such sets (feature `validate`) so
//! that its profile views validate with no package cache on the machine.
//!
//! A set holds, for the StructureDefinitions it is asked for:
//!
//! - the StructureDefinitions themselves and every one they reach (element types, `type.profile` such as the
//!   extensions a profile slices in, `baseDefinition`), trimmed to what the validator reads: `url`, `version`,
//!   `name`, `type`, `kind`, `abstract`, `baseDefinition`, `derivation` and the snapshot's elements with `id`,
//!   `path`, `sliceName`, `min`, `max`, `base.max`, `type`, `fixed[x]`, `pattern[x]`, `binding` (strength and
//!   value set), `constraint` (key, severity, human, expression), `slicing`, `contentReference`,
//!   `minValue[x]`, `maxValue[x]`, `maxLength` (no narrative texts, mappings or examples);
//! - the ValueSets of their required and extensible bindings (and of any binding on a slice, which `$this`
//!   discriminators read), each written already expanded (`expansion.contains` of `system`/`code` only), so no
//!   CodeSystem is needed; a value set that cannot be listed from the packages (SNOMED CT filters, VSAC, ...)
//!   is written with its `compose` only, so the validator reports it as not checked, as it does with the
//!   packages.
//!
//! Validating with a set gives the answer validating with the packages gives, for resources of the types the
//! set covers (a test of this crate proves it on every official example of the six generated IGs).

use crate::definitions::Definitions;
use crate::terminology;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

const ELEMENT_KEYS: [&str; 12] = [
    "id",
    "path",
    "sliceName",
    "min",
    "max",
    "type",
    "slicing",
    "contentReference",
    "maxLength",
    // DSTU2 slices and name references.
    "name",
    "nameReference",
    "constrainedType",
];
const ELEMENT_PREFIXES: [&str; 4] = ["fixed", "pattern", "minValue", "maxValue"];
const SD_KEYS: [&str; 9] = ["url", "version", "name", "type", "kind", "abstract", "baseDefinition", "derivation", "constrainedType"];

fn trim_element(e: &Value) -> Value {
    let Some(obj) = e.as_object() else { return e.clone() };
    let mut out = Map::new();
    for (k, v) in obj {
        if ELEMENT_KEYS.contains(&k.as_str()) || ELEMENT_PREFIXES.iter().any(|p| k.starts_with(p)) {
            out.insert(k.clone(), v.clone());
        }
    }
    if let Some(max) = e["base"].get("max") {
        out.insert("base".into(), json!({ "max": max }));
    }
    if let Some(b) = e["binding"].as_object() {
        let mut nb = Map::new();
        for k in ["strength", "valueSet", "valueSetReference", "valueSetUri"] {
            if let Some(v) = b.get(k) {
                nb.insert(k.into(), v.clone());
            }
        }
        out.insert("binding".into(), Value::Object(nb));
    }
    if let Some(cs) = e["constraint"].as_array() {
        let cs: Vec<Value> = cs
            .iter()
            .map(|c| {
                let mut nc = Map::new();
                for k in ["key", "severity", "human", "expression"] {
                    if let Some(v) = c.get(k) {
                        nc.insert(k.into(), v.clone());
                    }
                }
                Value::Object(nc)
            })
            .collect();
        out.insert("constraint".into(), Value::Array(cs));
    }
    Value::Object(out)
}

/// A StructureDefinition trimmed to what the validator reads (see the module docs). A definition without a
/// snapshot keeps its differential (trimmed the same way), from which the validator builds one.
pub fn trim_structure_definition(sd: &Value) -> Value {
    let mut out = Map::new();
    out.insert("resourceType".into(), json!("StructureDefinition"));
    for k in SD_KEYS {
        if let Some(v) = sd.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    for part in ["snapshot", "differential"] {
        if let Some(els) = sd[part]["element"].as_array() {
            out.insert(part.into(), json!({ "element": els.iter().map(trim_element).collect::<Vec<_>>() }));
            break;
        }
    }
    Value::Object(out)
}

/// The canonicals a StructureDefinition leads the validator to: its element types, type profiles and base.
fn references(sd: &Value) -> (Vec<String>, Vec<String>) {
    let mut sds = Vec::new();
    let mut value_sets = Vec::new();
    if let Some(b) = sd["baseDefinition"].as_str() {
        sds.push(b.to_owned());
    }
    let elements = sd["snapshot"]["element"].as_array().or(sd["differential"]["element"].as_array());
    for e in elements.into_iter().flatten() {
        for t in e["type"].as_array().into_iter().flatten() {
            if let Some(code) = t["code"].as_str().filter(|c| !c.starts_with("http://hl7.org/fhirpath/")) {
                sds.push(if code.contains("://") {
                    code.to_owned()
                } else {
                    format!("http://hl7.org/fhir/StructureDefinition/{code}")
                });
            }
            match &t["profile"] {
                Value::Array(a) => sds.extend(a.iter().filter_map(Value::as_str).map(str::to_owned)),
                Value::String(s) => sds.push(s.clone()),
                _ => {}
            }
        }
        let b = &e["binding"];
        let strength = b["strength"].as_str().unwrap_or_default();
        let in_slice = e["id"].as_str().is_some_and(|id| id.contains(':'));
        if strength == "required" || strength == "extensible" || in_slice {
            let vs = b["valueSet"]
                .as_str()
                .or(b["valueSetReference"]["reference"].as_str())
                .or(b["valueSetUri"].as_str());
            if let Some(vs) = vs {
                value_sets.push(vs.to_owned());
            }
        }
    }
    (sds, value_sets)
}

fn canonical_of(v: &Value) -> String {
    let url = v["url"].as_str().unwrap_or_default();
    match v["version"].as_str() {
        Some(ver) => format!("{url}|{ver}"),
        None => url.to_owned(),
    }
}

/// A compact definitions set (a `collection` Bundle) for the StructureDefinitions `roots` (canonical `url` or
/// `url|version`), resolved in `defs`: the roots and everything they reach, trimmed, with their bound value
/// sets expanded (see the module docs). Definitions whose canonical `url|version` is in `exclude` are left out
/// (they are in another set loaded beside this one). Roots that are not loaded are skipped. The entries are
/// sorted by canonical, so the output is deterministic.
///
/// ```no_run
/// use fhir_validate::{compact, Definitions, FhirVersion};
/// let mut defs = Definitions::core(FhirVersion::R4, None)?;
/// defs.load_package_named(None, "hl7.fhir.us.core#3.1.1")?;
/// let set = compact::definitions_set(&defs, &["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient".into()], &Default::default());
/// let mut small = Definitions::new(FhirVersion::R4);
/// small.add_resource(set)?;
/// assert!(small.structure_definition("http://hl7.org/fhir/StructureDefinition/HumanName").is_some());
/// # Ok::<(), fhir_validate::DefinitionsError>(())
/// ```
pub fn definitions_set(defs: &Definitions, roots: &[String], exclude: &BTreeSet<String>) -> Value {
    let mut sds: BTreeMap<String, Value> = BTreeMap::new();
    let mut value_sets: BTreeSet<String> = BTreeSet::new();
    let mut todo: Vec<String> = roots.to_vec();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    while let Some(c) = todo.pop() {
        if !seen.insert(c.clone()) {
            continue;
        }
        let Some(sd) = defs.structure_definition(&c) else { continue };
        let key = canonical_of(&sd);
        if sds.contains_key(&key) {
            continue;
        }
        let (more, vs) = references(&sd);
        todo.extend(more);
        value_sets.extend(vs);
        if !exclude.contains(&key) {
            sds.insert(key, trim_structure_definition(&sd));
        }
    }
    let mut vss: BTreeMap<String, Value> = BTreeMap::new();
    for c in &value_sets {
        let Some(vs) = defs.value_set(c) else { continue };
        let key = canonical_of(&vs);
        if exclude.contains(&key) || vss.contains_key(&key) {
            continue;
        }
        let mut out = Map::new();
        out.insert("resourceType".into(), json!("ValueSet"));
        for k in ["url", "version"] {
            if let Some(v) = vs.get(k) {
                out.insert(k.into(), v.clone());
            }
        }
        match terminology::expand(defs, c, 0) {
            Ok(e) => {
                let codes: BTreeSet<&(String, String)> = e.codes.iter().collect();
                let contains: Vec<Value> = codes.iter().map(|(s, code)| json!({"system": s, "code": code})).collect();
                out.insert("expansion".into(), json!({"total": contains.len(), "contains": contains}));
            }
            Err(_) => {
                out.insert("compose".into(), vs["compose"].clone());
            }
        }
        vss.insert(key, Value::Object(out));
    }
    let entries: Vec<Value> = sds.into_values().chain(vss.into_values()).map(|r| json!({ "resource": r })).collect();
    json!({"resourceType": "Bundle", "type": "collection", "entry": entries})
}

/// The canonicals (`url|version`, or `url`) of the StructureDefinitions in a definitions set, as written by
/// [`definitions_set`].
pub fn canonicals(set: &Value) -> BTreeSet<String> {
    set["entry"].as_array().into_iter().flatten().map(|e| canonical_of(&e["resource"])).collect()
}

/// Writes a definitions set as JSON text, one entry per line (so that a change shows as a change of lines).
pub fn to_text(set: &Value) -> String {
    let mut out = String::from("{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[\n");
    let entries = set["entry"].as_array().map(Vec::as_slice).unwrap_or_default();
    for (i, e) in entries.iter().enumerate() {
        out.push_str(&e.to_string());
        out.push_str(if i + 1 < entries.len() { ",\n" } else { "\n" });
    }
    out.push_str("]}\n");
    out
}

/// The definitions sets `fhir-models` embeds behind its `validate` feature, from the packages named in the
/// workspace's `spec/manifest.json` (`manifest`), as `(file name, text)`: `r4-core.json` (every R4 core
/// resource and data type) and one `r4-<module>.json` per generated profile module (its IG's profiles and
/// extensions, the definitions they reach in the core and in the IG's dependencies found in the packages
/// directory (US Core 3.1.1 under the payer IGs), and the value sets of their bindings that the core
/// file does not hold). `fhir-models/definitions/` holds the committed files; a test of this crate proves they
/// equal a fresh run (`cargo run -p fhir-validate --release --example model-definitions`).
#[doc(hidden)]
pub fn model_sets(
    manifest: &Value,
    packages: &std::path::Path,
) -> Result<Vec<(String, String)>, crate::DefinitionsError> {
    use crate::FhirVersion;
    let mut files = Vec::new();
    for v in manifest["versions"].as_array().into_iter().flatten() {
        let Some(profiles) = v["profiles"].as_array().filter(|p| !p.is_empty()) else { continue };
        let module = v["module"].as_str().unwrap_or_default();
        let version = FhirVersion::parse(v["fhirVersion"].as_str().unwrap_or_default())
            .ok_or_else(|| crate::DefinitionsError::NotADefinition { what: format!("FHIR version of {module}") })?;
        let core_name = v["core"].as_str().unwrap_or_default();
        let mut core_only = Definitions::new(version);
        core_only.load_package_named(Some(packages), core_name)?;
        let core_roots: Vec<String> = core_only
            .canonicals("StructureDefinition")
            .into_iter()
            .filter(|c| {
                core_only.structure_definition(c).is_some_and(|sd| {
                    sd["derivation"] == "specialization" && sd["kind"] != "logical"
                })
            })
            .collect();
        let core = Definitions::core(version, Some(packages))?;
        let core_set = definitions_set(&core, &core_roots, &BTreeSet::new());
        let in_core = canonicals(&core_set);
        files.push((format!("{module}-core.json"), to_text(&core_set)));
        for p in profiles {
            let (Some(package), Some(name)) = (p["package"].as_str(), p["module"].as_str()) else { continue };
            let mut ig_only = Definitions::new(version);
            ig_only.load_package_named(Some(packages), package)?;
            let roots = ig_only.canonicals("StructureDefinition");
            let mut defs = core.clone();
            // The IG's dependencies that are in the packages directory (US Core under the payer IGs), then the IG.
            let manifest_file = packages.join(package).join("package").join("package.json");
            let deps = std::fs::read(&manifest_file).ok().and_then(|b| serde_json::from_slice::<Value>(&b).ok());
            for (id, ver) in deps.iter().flat_map(|d| d["dependencies"].as_object()).flatten() {
                let dep = format!("{id}#{}", ver.as_str().unwrap_or_default());
                if dep != core_name && packages.join(&dep).join("package").is_dir() {
                    defs.load_package_named(Some(packages), &dep)?;
                }
            }
            defs.load_package_named(Some(packages), package)?;
            let set = definitions_set(&defs, &roots, &in_core);
            files.push((format!("{module}-{name}.json"), to_text(&set)));
        }
    }
    Ok(files)
}
