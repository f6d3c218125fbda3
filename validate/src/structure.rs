//! A StructureDefinition snapshot compiled into a tree the validator walks: each element knows its children and
//! its slices, by index into one arena (no lookups by path string during validation).

use serde_json::{Map, Value};
use std::collections::HashMap;

/// The FHIR type of an element, with the profiles it must conform to.
#[derive(Clone, Debug)]
pub struct TypeRef {
    /// The type code (`HumanName`, `string`, `Reference`, ...), with FHIRPath system types mapped to FHIR ones.
    pub code: String,
    /// `type.profile`.
    pub profiles: Vec<String>,
    /// `type.targetProfile` (of a Reference or canonical).
    pub target_profiles: Vec<String>,
}

/// One `binding`.
#[derive(Clone, Debug)]
pub struct Binding {
    /// `required`, `extensible`, `preferred` or `example`.
    pub strength: String,
    /// The value set's canonical.
    pub value_set: String,
}

/// One `constraint` (an invariant).
#[derive(Clone, Debug)]
pub struct Constraint {
    /// `key`, e.g. `ele-1`.
    pub key: String,
    /// `error` or `warning`.
    pub severity: String,
    /// `human`.
    pub human: String,
    /// The FHIRPath `expression`.
    pub expression: Option<String>,
}

/// One `slicing.discriminator`.
#[derive(Clone, Debug)]
pub struct Discriminator {
    /// `value`, `pattern`, `type`, `profile` or `exists`.
    pub kind: String,
    /// The FHIRPath (restricted) path from the sliced element.
    pub path: String,
}

/// An element's `slicing`.
#[derive(Clone, Debug)]
pub struct Slicing {
    /// The discriminators.
    pub discriminators: Vec<Discriminator>,
    /// `closed`, `open` or `openAtEnd`.
    pub rules: String,
}

/// One compiled ElementDefinition.
#[derive(Clone, Debug)]
pub struct Element {
    /// `id` (or `path` when a DSTU2 snapshot has no ids).
    pub id: String,
    /// `path`.
    pub path: String,
    /// The last part of the path (`given`, `value[x]`).
    pub name: String,
    /// `sliceName`.
    pub slice_name: Option<String>,
    /// `min`.
    pub min: u64,
    /// `max` (`None` is `*`).
    pub max: Option<u64>,
    /// `base.max` (`None` is `*`): whether the JSON is an array.
    pub base_max: Option<u64>,
    /// `type`.
    pub types: Vec<TypeRef>,
    /// `fixed[x]`.
    pub fixed: Option<Value>,
    /// `pattern[x]`.
    pub pattern: Option<Value>,
    /// `binding`.
    pub binding: Option<Binding>,
    /// `constraint`.
    pub constraints: Vec<Constraint>,
    /// `slicing`.
    pub slicing: Option<Slicing>,
    /// `contentReference` (`#Questionnaire.item`), resolved to the element it names.
    pub content_reference: Option<usize>,
    /// `minValue[x]` / `maxValue[x]`.
    pub min_value: Option<Value>,
    /// `maxValue[x]`.
    pub max_value: Option<Value>,
    /// `maxLength`.
    pub max_length: Option<u64>,
    /// Child elements (not slices), in snapshot order.
    pub children: Vec<usize>,
    /// Slices of this element, in snapshot order.
    pub slices: Vec<usize>,
}

impl Element {
    /// Whether this is a choice element (`value[x]`).
    pub fn is_choice(&self) -> bool {
        self.name.ends_with("[x]")
    }

    /// Whether the JSON form is an array.
    pub fn repeats(&self) -> bool {
        self.base_max != Some(1) && self.base_max != Some(0)
    }
}

/// A compiled StructureDefinition.
#[derive(Debug)]
pub struct Structure {
    /// `url`.
    pub url: String,
    /// `type`.
    pub type_name: String,
    /// `kind` (`resource`, `complex-type`, `primitive-type`, `logical`).
    pub kind: String,
    /// The elements; index 0 is the root.
    pub elements: Vec<Element>,
}

const FHIR_TYPE_EXT: &str = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type";

fn type_code(t: &Value) -> Option<String> {
    let code = t["code"].as_str()?;
    if let Some(exts) = t["extension"].as_array() {
        for e in exts {
            if e["url"] == FHIR_TYPE_EXT {
                if let Some(c) = e["valueUrl"].as_str().or(e["valueUri"].as_str()).or(e["valueString"].as_str()) {
                    return Some(c.to_owned());
                }
            }
        }
    }
    if let Some(sys) = code.strip_prefix("http://hl7.org/fhirpath/System.") {
        return Some(
            match sys {
                "String" => "string",
                "Boolean" => "boolean",
                "Integer" => "integer",
                "Decimal" => "decimal",
                "Date" => "date",
                "DateTime" => "dateTime",
                "Time" => "time",
                other => return Some(other.to_owned()),
            }
            .to_owned(),
        );
    }
    Some(code.to_owned())
}

fn first_with_prefix(obj: &Map<String, Value>, prefix: &str) -> Option<Value> {
    obj.iter().find(|(k, _)| k.starts_with(prefix) && k.len() > prefix.len()).map(|(_, v)| v.clone())
}

fn parse_max(v: &Value) -> Option<u64> {
    v.as_str().and_then(|s| s.parse().ok())
}

/// The last path part of an id (`Observation.component:systolic.code` -> `code`), ignoring dots inside slice
/// names.
fn split_last(id: &str) -> (&str, &str) {
    // Split on the last '.' that is not inside a slice name: slice names follow ':' up to the next '.'.
    match id.rfind('.') {
        Some(i) => (&id[..i], &id[i + 1..]),
        None => ("", id),
    }
}

impl Structure {
    /// Compiles a StructureDefinition's snapshot (`snapshot`: its elements, from the definition or generated).
    /// `None` when there are no elements.
    pub fn compile(sd: &Value, snapshot: &[Value]) -> Option<Structure> {
        let is_resource = sd["kind"] == "resource";
        let mut elements: Vec<Element> = Vec::with_capacity(snapshot.len());
        let mut by_id: HashMap<String, usize> = HashMap::new();
        let mut by_path: HashMap<String, usize> = HashMap::new();
        let mut refs: Vec<(usize, String)> = Vec::new();
        let mut last_by_path: HashMap<String, usize> = HashMap::new();
        for e in snapshot {
            let Some(obj) = e.as_object() else { continue };
            let path = e["path"].as_str().unwrap_or_default().to_owned();
            let slice_name = e["sliceName"]
                .as_str()
                .or(e["name"].as_str().filter(|_| e["slicing"].is_null() && last_by_path.contains_key(&path)))
                .map(str::to_owned);
            let id = match e["id"].as_str() {
                Some(id) => id.to_owned(),
                None => {
                    // DSTU2: no ids; make one from the path and the slice name of this or an enclosing slice.
                    let (parent, last) = split_last(&path);
                    let parent_id =
                        last_by_path.get(parent).map(|&i| elements[i].id.clone()).unwrap_or_else(|| parent.to_owned());
                    let base = if parent.is_empty() { last.to_owned() } else { format!("{parent_id}.{last}") };
                    match &slice_name {
                        Some(s) => format!("{base}:{s}"),
                        None => base,
                    }
                }
            };
            let name = split_last(&path).1.to_owned();
            // The R4 snapshots type `Resource.id` as a FHIRPath string; the specification (and the HL7 validator)
            // hold it to the `id` format.
            let resource_id = is_resource && path.matches('.').count() == 1 && path.ends_with(".id");
            let types = e["type"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| {
                    let code = if resource_id { "id".to_owned() } else { type_code(t)? };
                    let mut profiles: Vec<String> = match &t["profile"] {
                        Value::Array(a) => a.iter().filter_map(|p| p.as_str().map(str::to_owned)).collect(),
                        Value::String(s) => vec![s.clone()],
                        _ => Vec::new(),
                    };
                    profiles.retain(|p| !p.is_empty());
                    let target_profiles = match &t["targetProfile"] {
                        Value::Array(a) => a.iter().filter_map(|p| p.as_str().map(str::to_owned)).collect(),
                        Value::String(s) => vec![s.clone()],
                        _ => Vec::new(),
                    };
                    // DSTU2 names a Reference's targets in `profile` (R4 moved them to `targetProfile`).
                    let (profiles, target_profiles) =
                        if code == "Reference" && target_profiles.is_empty() && !profiles.is_empty() {
                            (Vec::new(), profiles)
                        } else {
                            (profiles, target_profiles)
                        };
                    Some(TypeRef { code, profiles, target_profiles })
                })
                .collect();
            let binding = e["binding"].as_object().and_then(|b| {
                let vs = b
                    .get("valueSet")
                    .and_then(Value::as_str)
                    .or_else(|| b.get("valueSetReference").and_then(|r| r["reference"].as_str()))
                    .or_else(|| b.get("valueSetUri").and_then(Value::as_str))?;
                Some(Binding { strength: b.get("strength")?.as_str()?.to_owned(), value_set: vs.to_owned() })
            });
            let constraints = e["constraint"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| Constraint {
                    key: c["key"].as_str().unwrap_or_default().to_owned(),
                    severity: c["severity"].as_str().unwrap_or("error").to_owned(),
                    human: c["human"].as_str().unwrap_or_default().to_owned(),
                    expression: c["expression"].as_str().map(str::to_owned),
                })
                .collect();
            let slicing = e["slicing"].as_object().map(|s| Slicing {
                discriminators: s
                    .get("discriminator")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|d| match d {
                        Value::Object(_) => Some(Discriminator {
                            kind: d["type"].as_str()?.to_owned(),
                            path: d["path"].as_str()?.to_owned(),
                        }),
                        // DSTU2 discriminators are bare paths, matched by value.
                        Value::String(p) => Some(Discriminator { kind: "value".into(), path: p.clone() }),
                        _ => None,
                    })
                    .collect(),
                rules: s.get("rules").and_then(Value::as_str).unwrap_or("open").to_owned(),
            });
            let idx = elements.len();
            if let Some(r) = e["contentReference"].as_str() {
                refs.push((idx, r.split_once('#').map_or(r, |(_, p)| p).to_owned()));
            }
            // DSTU2: `nameReference` names the element whose `name` it repeats.
            if let Some(r) = e["nameReference"].as_str() {
                refs.push((idx, format!("name:{r}")));
            }
            if let Some(n) = e["name"].as_str() {
                by_path.entry(format!("name:{n}")).or_insert(idx);
            }
            elements.push(Element {
                id: id.clone(),
                path: path.clone(),
                name,
                slice_name,
                min: e["min"].as_u64().unwrap_or(0),
                max: parse_max(&e["max"]),
                base_max: if e["base"]["max"].is_string() {
                    parse_max(&e["base"]["max"])
                } else {
                    parse_max(&e["max"])
                },
                types,
                fixed: first_with_prefix(obj, "fixed"),
                pattern: first_with_prefix(obj, "pattern"),
                binding,
                constraints,
                slicing,
                content_reference: None,
                min_value: first_with_prefix(obj, "minValue"),
                max_value: first_with_prefix(obj, "maxValue"),
                max_length: e["maxLength"].as_u64(),
                children: Vec::new(),
                slices: Vec::new(),
            });
            by_id.insert(id, idx);
            by_path.entry(path.clone()).or_insert(idx);
            last_by_path.insert(path, idx);
        }
        // Link children and slices by id.
        for idx in 1..elements.len() {
            let id = elements[idx].id.clone();
            let (parent_id, last) = split_last(&id);
            if let Some((name, _slice)) = last.split_once(':') {
                // A slice (or reslice `name:a/b`): attach it to the element it slices.
                let base = match last.rfind('/') {
                    Some(i) => format!("{parent_id}.{}", &last[..i]),
                    None => {
                        if parent_id.is_empty() {
                            name.to_owned()
                        } else {
                            format!("{parent_id}.{name}")
                        }
                    }
                };
                if let Some(&b) = by_id.get(&base) {
                    elements[b].slices.push(idx);
                    continue;
                }
            }
            if let Some(&p) = by_id.get(parent_id) {
                elements[p].children.push(idx);
            }
        }
        for (idx, target) in refs {
            elements[idx].content_reference = by_id.get(&target).or_else(|| by_path.get(&target)).copied();
        }
        if elements.is_empty() {
            return None;
        }
        Some(Structure {
            url: sd["url"].as_str().unwrap_or_default().to_owned(),
            type_name: sd["type"]
                .as_str()
                .or(sd["constrainedType"].as_str())
                .or(sd["name"].as_str())
                .unwrap_or_default()
                .to_owned(),
            kind: sd["kind"].as_str().unwrap_or_default().to_owned(),
            elements,
        })
    }

    /// The element at `idx`.
    pub fn element(&self, idx: usize) -> &Element {
        &self.elements[idx]
    }

    /// The element whose children describe the content of `idx` (itself, or its `contentReference` target).
    pub fn content_of(&self, idx: usize) -> usize {
        let mut i = idx;
        for _ in 0..8 {
            match self.elements[i].content_reference {
                Some(t) if self.elements[i].children.is_empty() => i = t,
                _ => break,
            }
        }
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn links_children_and_slices() {
        let sd = json!({"url":"u","type":"Observation","snapshot":{"element":[
            {"id":"Observation","path":"Observation","min":0,"max":"*"},
            {"id":"Observation.component","path":"Observation.component","min":0,"max":"*","slicing":{"discriminator":[{"type":"pattern","path":"code"}],"rules":"open"}},
            {"id":"Observation.component.code","path":"Observation.component.code","min":1,"max":"1"},
            {"id":"Observation.component:systolic","path":"Observation.component","sliceName":"systolic","min":1,"max":"1","base":{"max":"*"}},
            {"id":"Observation.component:systolic.code","path":"Observation.component.code","min":1,"max":"1","patternCodeableConcept":{"text":"x"}}
        ]}});
        let s = Structure::compile(&sd, sd["snapshot"]["element"].as_array().unwrap()).unwrap();
        assert_eq!(s.elements[0].children, vec![1]);
        assert_eq!(s.elements[1].slices, vec![3]);
        assert_eq!(s.elements[1].children, vec![2]);
        assert_eq!(s.elements[3].children, vec![4]);
        assert!(s.elements[3].repeats());
        assert_eq!(s.elements[4].pattern, Some(json!({"text":"x"})));
    }
}
