//! Value sets and code systems: which codes a required binding allows, when they can be listed.
//!
//! Pre-expanded value sets (the `expansions` packages) are used first; otherwise the compose is followed through
//! local code systems (R4 `CodeSystem` resources, or DSTU2's `ValueSet.codeSystem` inline). A value set that
//! needs a filter, an exclude or an external code system cannot be listed: its elements stay strings.

use super::refs::Canonical;
use serde_json::Value;
use std::collections::HashMap;

/// Most codes a generated enum may have; larger value sets stay strings.
const MAX_CODES: usize = 1000;

/// A code with its display and definition.
#[derive(Debug, Clone)]
pub struct Concept {
    /// The code.
    pub code: String,
    /// Its code system, when known.
    pub system: Option<String>,
    /// Display, if any.
    pub display: Option<String>,
    /// Definition, if any.
    pub definition: Option<String>,
}

/// A value set's identity and codes.
#[derive(Debug, Clone)]
pub struct ListedValueSet {
    /// Computable name (`AdministrativeGender`).
    pub name: String,
    /// Title or description.
    pub doc: String,
    /// The codes in order.
    pub concepts: Vec<Concept>,
}

/// Value sets and code systems by canonical URL.
#[derive(Default)]
pub struct Terminology<'a> {
    /// By URL and by `url|version`.
    value_sets: HashMap<String, &'a Value>,
    expansions: HashMap<String, &'a Value>,
    code_systems: HashMap<String, &'a Value>,
}

/// Inserts a canonical resource under its URL and, when it has a version, under `url|version`.
fn insert_canonical<'a>(map: &mut HashMap<String, &'a Value>, url: &str, resource: &'a Value) {
    if let Some(v) = resource["version"].as_str() {
        map.insert(format!("{url}|{v}"), resource);
    }
    map.insert(url.to_owned(), resource);
}

/// A canonical reference looked up: `url|version` exactly when known, else the URL.
fn lookup<'m, 'a>(map: &'m HashMap<String, &'a Value>, reference: &str) -> Option<&'m &'a Value> {
    map.get(reference).or_else(|| map.get(Canonical::parse(reference).url().as_str()))
}

impl<'a> Terminology<'a> {
    /// Adds definitional value sets (and, for DSTU2, their inline code systems).
    pub fn add_value_sets(&mut self, sets: &'a [Value]) {
        for vs in sets {
            if let Some(url) = vs["url"].as_str() {
                insert_canonical(&mut self.value_sets, url, vs);
            }
            if let Some(system) = vs["codeSystem"]["system"].as_str() {
                insert_canonical(&mut self.code_systems, system, &vs["codeSystem"]);
            }
        }
    }

    /// Adds pre-expanded value sets.
    pub fn add_expansions(&mut self, sets: &'a [Value]) {
        for vs in sets {
            if let Some(url) = vs["url"].as_str() {
                if vs["expansion"]["contains"].is_array() {
                    insert_canonical(&mut self.expansions, url, vs);
                }
            }
        }
    }

    /// Adds code systems.
    pub fn add_code_systems(&mut self, systems: &'a [Value]) {
        for cs in systems {
            if let Some(url) = cs["url"].as_str() {
                insert_canonical(&mut self.code_systems, url, cs);
            }
        }
    }

    /// The codes of a value set, when they can be listed.
    pub fn list(&self, url: &str) -> Option<ListedValueSet> {
        let vs = lookup(&self.value_sets, url).or_else(|| lookup(&self.expansions, url))?;
        let mut concepts = Vec::new();
        // An expansion is used only when it is of the same value set (the core's expansions package expands the
        // core's value sets; an IG's value set of the same URL and another version is composed from its own
        // definition).
        let expansion = lookup(&self.expansions, url).filter(|e| e["version"] == vs["version"] || vs["compose"].is_null());
        if let Some(exp) = expansion {
            self.flatten_contains(&exp["expansion"]["contains"], &mut concepts);
        } else {
            self.compose(vs, &mut concepts, 0)?;
        }
        let mut seen = std::collections::HashSet::new();
        concepts.retain(|c| seen.insert(c.code.clone()));
        if concepts.is_empty() || concepts.len() > MAX_CODES {
            return None;
        }
        let name = vs["name"].as_str().unwrap_or("Code").to_owned();
        let doc = vs["title"]
            .as_str()
            .or_else(|| vs["description"].as_str())
            .unwrap_or(&name)
            .to_owned();
        Some(ListedValueSet { name, doc, concepts })
    }

    /// Expansion entries; expansions carry no definitions, so those come from the code system when it is local.
    fn flatten_contains(&self, contains: &Value, out: &mut Vec<Concept>) {
        for c in contains.as_array().into_iter().flatten() {
            if let Some(code) = c["code"].as_str() {
                if !c["abstract"].as_bool().unwrap_or(false) {
                    let definition = c["system"]
                        .as_str()
                        .and_then(|s| lookup(&self.code_systems, s))
                        .and_then(|cs| find_concept(&cs["concept"], code))
                        .and_then(|f| f.definition);
                    out.push(Concept {
                        code: code.to_owned(),
                        system: c["system"].as_str().map(str::to_owned),
                        display: c["display"].as_str().map(str::to_owned),
                        definition,
                    });
                }
            }
            self.flatten_contains(&c["contains"], out);
        }
    }

    fn compose(&self, vs: &Value, out: &mut Vec<Concept>, depth: usize) -> Option<()> {
        if depth > 8 {
            return None;
        }
        let compose = &vs["compose"];
        if compose["exclude"].as_array().is_some_and(|e| !e.is_empty()) {
            return None;
        }
        // DSTU2: value sets may import others and may define their own code system inline.
        for import in compose["import"].as_array().into_iter().flatten() {
            let inner = lookup(&self.value_sets, import.as_str()?)?;
            self.compose(inner, out, depth + 1)?;
        }
        let includes = compose["include"].as_array();
        if includes.is_none() && compose["import"].is_null() {
            // DSTU2 value set defined only by its inline code system.
            let cs = &vs["codeSystem"];
            if cs.is_object() {
                flatten_concepts(&cs["concept"], cs["system"].as_str(), out);
                return Some(());
            }
            return None;
        }
        for inc in includes.into_iter().flatten() {
            for inner in inc["valueSet"].as_array().into_iter().flatten() {
                let inner = lookup(&self.value_sets, inner.as_str()?)?;
                self.compose(inner, out, depth + 1)?;
            }
            if inc["filter"].as_array().is_some_and(|f| !f.is_empty()) {
                return None;
            }
            let system = inc["system"].as_str();
            if let Some(listed) = inc["concept"].as_array() {
                let cs = system.and_then(|s| lookup(&self.code_systems, s));
                for c in listed {
                    let code = c["code"].as_str()?.to_owned();
                    let from_cs = cs.and_then(|cs| find_concept(&cs["concept"], &code));
                    out.push(Concept {
                        display: c["display"].as_str().map(str::to_owned).or_else(|| from_cs.as_ref().and_then(|f| f.display.clone())),
                        definition: from_cs.and_then(|f| f.definition),
                        system: system.map(str::to_owned),
                        code,
                    });
                }
            } else if let Some(system) = system {
                let cs = lookup(&self.code_systems, system)?;
                if cs["content"].as_str().is_some_and(|c| c != "complete") {
                    return None;
                }
                flatten_concepts(&cs["concept"], Some(system), out);
            }
        }
        Some(())
    }
}


fn flatten_concepts(concepts: &Value, system: Option<&str>, out: &mut Vec<Concept>) {
    for c in concepts.as_array().into_iter().flatten() {
        let is_abstract = c["abstract"].as_bool().unwrap_or(false)
            || c["property"].as_array().into_iter().flatten().any(|p| {
                p["code"].as_str() == Some("notSelectable") && p["valueBoolean"].as_bool() == Some(true)
            });
        if let (Some(code), false) = (c["code"].as_str(), is_abstract) {
            out.push(Concept {
                code: code.to_owned(),
                system: system.map(str::to_owned),
                display: c["display"].as_str().map(str::to_owned),
                definition: c["definition"].as_str().map(str::to_owned),
            });
        }
        flatten_concepts(&c["concept"], system, out);
    }
}

fn find_concept(concepts: &Value, code: &str) -> Option<Concept> {
    for c in concepts.as_array().into_iter().flatten() {
        if c["code"].as_str() == Some(code) {
            return Some(Concept {
                code: code.to_owned(),
                system: None,
                display: c["display"].as_str().map(str::to_owned),
                definition: c["definition"].as_str().map(str::to_owned),
            });
        }
        if let Some(found) = find_concept(&c["concept"], code) {
            return Some(found);
        }
    }
    None
}
