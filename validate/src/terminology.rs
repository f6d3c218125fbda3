//! Listing value sets from the loaded packages: a ValueSet's `expansion` when it has one (the
//! `hl7.fhir.r4.expansions` package ships them), else its `compose` worked out from the CodeSystems at hand
//! (listed concepts, whole complete code systems, included value sets, excluded concepts). Value sets that need
//! a terminology server (filters, code systems not loaded or not `complete`, such as SNOMED CT, LOINC, VSAC
//! or CPT) cannot be listed; the validator then reports the binding as not checked instead of guessing.

use crate::definitions::Definitions;
use serde_json::Value;
use std::collections::HashSet;

/// The codes of a value set, as `(system, code)` pairs.
#[derive(Debug, Default)]
pub struct Expansion {
    /// Every code.
    pub codes: HashSet<(String, String)>,
}

impl Expansion {
    /// Whether the value set holds `code` in `system` (`None`: any system, for `code` elements).
    pub fn contains(&self, system: Option<&str>, code: &str) -> bool {
        match system {
            Some(s) => self.codes.contains(&(s.to_owned(), code.to_owned())),
            None => self.codes.iter().any(|(_, c)| c == code),
        }
    }
}

/// Why a value set cannot be listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotListable(pub String);

fn add_contains(out: &mut HashSet<(String, String)>, list: &Value) {
    for c in list.as_array().into_iter().flatten() {
        if let (Some(s), Some(code)) = (c["system"].as_str(), c["code"].as_str()) {
            out.insert((s.to_owned(), code.to_owned()));
        }
        add_contains(out, &c["contains"]);
    }
}

fn add_concepts(out: &mut HashSet<(String, String)>, system: &str, concepts: &Value) {
    for c in concepts.as_array().into_iter().flatten() {
        if let Some(code) = c["code"].as_str() {
            out.insert((system.to_owned(), code.to_owned()));
        }
        add_concepts(out, system, &c["concept"]);
    }
}

/// Lists the value set `canonical`.
pub fn expand(defs: &Definitions, canonical: &str, depth: usize) -> Result<Expansion, NotListable> {
    if depth > 8 {
        return Err(NotListable(format!("{canonical}: value sets include each other too deeply")));
    }
    let Some(vs) = defs.value_set(canonical) else {
        return Err(NotListable(format!("{canonical} is not loaded")));
    };
    let mut codes = HashSet::new();
    if let Some(exp) = vs.get("expansion").filter(|e| e["contains"].is_array()) {
        let total = exp["total"].as_u64();
        add_contains(&mut codes, &exp["contains"]);
        if total.is_none_or(|t| t as usize <= codes.len()) {
            return Ok(Expansion { codes });
        }
        codes.clear();
    }
    // DSTU2 value sets may define their own code system inline.
    if let Some(system) = vs["codeSystem"]["system"].as_str() {
        add_concepts(&mut codes, system, &vs["codeSystem"]["concept"]);
    }
    let compose = &vs["compose"];
    for inc in compose["include"].as_array().into_iter().flatten() {
        include(defs, inc, &mut codes, depth, canonical)?;
    }
    for imp in compose["import"].as_array().into_iter().flatten() {
        let Some(url) = imp.as_str() else { continue };
        codes.extend(expand(defs, url, depth + 1)?.codes);
    }
    for exc in compose["exclude"].as_array().into_iter().flatten() {
        if exc.get("filter").is_some() || exc.get("valueSet").is_some() {
            return Err(NotListable(format!("{canonical} excludes by filter or value set")));
        }
        let mut out = HashSet::new();
        let system = exc["system"].as_str().unwrap_or_default();
        add_concepts(&mut out, system, &exc["concept"]);
        codes.retain(|c| !out.contains(c));
    }
    if codes.is_empty() && compose.is_null() && vs["codeSystem"].is_null() {
        return Err(NotListable(format!("{canonical} has neither an expansion nor a compose")));
    }
    Ok(Expansion { codes })
}

fn include(
    defs: &Definitions,
    inc: &Value,
    codes: &mut HashSet<(String, String)>,
    depth: usize,
    canonical: &str,
) -> Result<(), NotListable> {
    let mut part: Option<HashSet<(String, String)>> = None;
    if let Some(system) = inc["system"].as_str() {
        let mut own = HashSet::new();
        if inc["filter"].as_array().is_some_and(|f| !f.is_empty()) {
            return Err(NotListable(format!("{canonical} includes {system} by filter (needs a terminology server)")));
        }
        if inc["concept"].is_array() {
            add_concepts(&mut own, system, &inc["concept"]);
        } else {
            let cs = defs
                .code_system(system)
                .ok_or_else(|| NotListable(format!("{canonical}: code system {system} is not loaded")))?;
            if cs["content"].as_str().is_some_and(|c| c != "complete") {
                return Err(NotListable(format!("{canonical}: code system {system} is not complete in the packages")));
            }
            add_concepts(&mut own, system, &cs["concept"]);
        }
        part = Some(own);
    }
    for vs in inc["valueSet"].as_array().into_iter().flatten() {
        let Some(url) = vs.as_str() else { continue };
        let e = expand(defs, url, depth + 1)?.codes;
        part = Some(match part {
            // `system` and `valueSet` together intersect.
            Some(p) => p.intersection(&e).cloned().collect(),
            None => e,
        });
    }
    codes.extend(part.unwrap_or_default());
    Ok(())
}
