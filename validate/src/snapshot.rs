//! Snapshots for profiles that ship only a `differential` (common in profiles users write by hand and in the
//! HL7 validator's test profiles): the base definition's snapshot with the differential applied.
//!
//! Each differential element is matched to the snapshot element of the same id; a new slice is made by copying
//! the sliced element with its descendants; an element inside a datatype (`Observation.value[x].code`,
//! `Patient.name.family`) first expands that datatype's elements under its parent. The differential's
//! properties then replace the base's (constraints are added to the base's). This covers what validation
//! reads; it is not a full implementation of the specification's snapshot algorithm (no re-slicing of
//! inherited slices by type profile, no `contentReference` unrolling).

use crate::definitions::Definitions;
use serde_json::Value;

/// The id of a differential element: its `id`, else its path (with `:sliceName` when it has one).
fn diff_id(d: &Value) -> Option<String> {
    let path = d["path"].as_str()?;
    if let Some(id) = d["id"].as_str() {
        // An id whose last part names a different element than the path does (`X.effective[x]:dar` for the
        // path `X.effective[x].extension`, no sliceName) is a mistake: the path says what is meant.
        let id_last = id.rsplit('.').next().unwrap_or(id);
        let path_last = path.rsplit('.').next().unwrap_or(path);
        let id_name = id_last.split(':').next().unwrap_or(id_last);
        if id_name == path_last || d["sliceName"].is_string() {
            return Some(id.to_owned());
        }
        let path_parent = path.rsplit_once('.').map_or("", |(p, _)| p);
        // The id without its bad last part, when that is the path's parent; else the path's parent itself.
        let id_base = id.split(':').next().unwrap_or(id);
        let base = if id_base == path_parent { id_base } else { path_parent };
        return Some(format!("{base}.{path_last}"));
    }
    Some(match d["sliceName"].as_str() {
        Some(s) => format!("{path}:{s}"),
        None => path.to_owned(),
    })
}

fn id_of(e: &Value) -> &str {
    e["id"].as_str().or(e["path"].as_str()).unwrap_or_default()
}

/// Whether `id` is `parent` or below it (`parent.x`, `parent.x:y`), not a sibling sharing its prefix.
fn is_within(id: &str, parent: &str) -> bool {
    id == parent || id.strip_prefix(parent).is_some_and(|r| r.starts_with('.'))
}

/// Renames an element copied from `from` (id and path prefix) to `to` (id) and `to_path`.
fn renamed(e: &Value, from_id: &str, to_id: &str, from_path: &str, to_path: &str) -> Value {
    let mut e = e.clone();
    if let Some(o) = e.as_object_mut() {
        let id = o.get("id").and_then(Value::as_str).unwrap_or_default();
        if let Some(rest) = id.strip_prefix(from_id) {
            o.insert("id".into(), Value::String(format!("{to_id}{rest}")));
        }
        let path = o.get("path").and_then(Value::as_str).unwrap_or_default();
        if let Some(rest) = path.strip_prefix(from_path) {
            o.insert("path".into(), Value::String(format!("{to_path}{rest}")));
        }
    }
    e
}

/// The last `.` of an id that is not inside a slice name.
fn parent_of(id: &str) -> Option<&str> {
    id.rfind('.').map(|i| &id[..i])
}

/// The snapshot elements of `sd`: its own snapshot, or one generated from its base and differential.
pub fn snapshot_elements(defs: &Definitions, sd: &Value, depth: usize) -> Option<Vec<Value>> {
    if let Some(s) = sd["snapshot"]["element"].as_array() {
        return Some(s.clone());
    }
    if depth > 16 {
        return None;
    }
    let base_url = sd["baseDefinition"].as_str()?;
    let base = defs.structure_definition(base_url)?;
    let mut elements = snapshot_elements(defs, &base, depth + 1)?;
    for d in sd["differential"]["element"].as_array().into_iter().flatten() {
        let Some(id) = diff_id(d) else { continue };
        let idx = match find_or_make(defs, &mut elements, &id, d, depth) {
            Some(i) => i,
            None => continue,
        };
        merge(&mut elements[idx], d);
    }
    Some(elements)
}

fn find(elements: &[Value], id: &str) -> Option<usize> {
    elements.iter().position(|e| id_of(e) == id)
}

/// The index of the element `id`, making it (a slice copy, or a datatype expansion) when it is not there.
fn find_or_make(defs: &Definitions, elements: &mut Vec<Value>, id: &str, d: &Value, depth: usize) -> Option<usize> {
    if let Some(i) = find(elements, id) {
        return Some(i);
    }
    let parent = parent_of(id);
    let last = parent.map_or(id, |p| &id[p.len() + 1..]);
    // The old form of a choice's type (`Observation.valueQuantity` for `Observation.value[x]` as Quantity):
    // constrain the choice element itself.
    if let Some(p) = parent {
        let choice = elements.iter().position(|e| {
            id_of(e).strip_prefix(p).and_then(|r| r.strip_prefix('.')).and_then(|r| r.strip_suffix("[x]")).is_some_and(
                |stem| {
                    last.strip_prefix(stem).is_some_and(|suffix| suffix.starts_with(|c: char| c.is_ascii_uppercase()))
                },
            )
        });
        if choice.is_some() {
            return choice;
        }
    }
    if let Some((name, _slice)) = last.split_once(':') {
        // A new slice: copy the sliced element (with its descendants) after its last slice.
        let base_id = match last.rfind('/') {
            Some(i) => format!("{}{}", parent.map(|p| format!("{p}.")).unwrap_or_default(), &last[..i]),
            None => match parent {
                Some(p) => format!("{p}.{name}"),
                None => name.to_owned(),
            },
        };
        let b = find_or_make(defs, elements, &base_id, &Value::Null, depth)?;
        let end = elements[b + 1..]
            .iter()
            .position(|e| {
                !(is_within(id_of(e), &base_id)
                    || id_of(e).starts_with(&format!("{base_id}:"))
                    || id_of(e).starts_with(&format!("{base_id}/")))
            })
            .map_or(elements.len(), |p| b + 1 + p);
        let path = elements[b]["path"].as_str().unwrap_or_default().to_owned();
        let block: Vec<Value> = elements[b..]
            .iter()
            .take_while(|e| is_within(id_of(e), &base_id))
            .map(|e| renamed(e, &base_id, id, &path, &path))
            .collect();
        let at = end;
        for (k, mut e) in block.into_iter().enumerate() {
            if k == 0 {
                if let Some(o) = e.as_object_mut() {
                    o.remove("slicing");
                    if let Some(s) = d["sliceName"].as_str() {
                        o.insert("sliceName".into(), Value::String(s.to_owned()));
                    }
                }
            }
            elements.insert(at + k, e);
        }
        return Some(at);
    }
    // An element inside a datatype: expand the parent's type under it.
    let parent = parent?;
    let p = find_or_make(defs, elements, parent, &Value::Null, depth)?;
    let types: Vec<String> = elements[p]["type"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["code"].as_str().map(str::to_owned))
        .collect();
    let ty = match types.as_slice() {
        [one] => one.clone(),
        _ => {
            // a choice slice names its type: value[x]:valueQuantity
            let slice = parent.rsplit_once(':').map(|(_, s)| s)?;
            types.iter().find(|t| slice.to_ascii_lowercase().ends_with(&t.to_ascii_lowercase()))?.clone()
        }
    };
    let type_sd = defs.type_definition(&ty)?;
    let type_elements = snapshot_elements(defs, &type_sd, depth + 1)?;
    let root_id = type_elements.first().map(|e| id_of(e).to_owned())?;
    let parent_path = elements[p]["path"].as_str().unwrap_or_default().to_owned();
    let root_path = type_elements[0]["path"].as_str().unwrap_or_default().to_owned();
    let children: Vec<Value> =
        type_elements[1..].iter().map(|e| renamed(e, &root_id, parent, &root_path, &parent_path)).collect();
    if children.is_empty() {
        return None;
    }
    let at = elements[p + 1..].iter().position(|e| !is_within(id_of(e), parent)).map_or(elements.len(), |x| p + 1 + x);
    for (k, e) in children.into_iter().enumerate() {
        elements.insert(at + k, e);
    }
    find(elements, id)
}

/// Applies a differential element's properties to a snapshot element.
fn merge(target: &mut Value, d: &Value) {
    let (Some(t), Some(d)) = (target.as_object_mut(), d.as_object()) else { return };
    // A new fixed/pattern/type replaces every old one of the same family.
    let families = ["fixed", "pattern", "minValue", "maxValue", "defaultValue"];
    for (k, v) in d {
        match k.as_str() {
            "id" | "path" => {}
            "constraint" => {
                let mut list = t.get("constraint").and_then(Value::as_array).cloned().unwrap_or_default();
                list.extend(v.as_array().cloned().unwrap_or_default());
                t.insert(k.clone(), Value::Array(list));
            }
            _ => {
                if let Some(f) = families.iter().find(|f| k.starts_with(**f)) {
                    let old: Vec<String> = t.keys().filter(|x| x.starts_with(*f)).cloned().collect();
                    for o in old {
                        t.remove(&o);
                    }
                }
                t.insert(k.clone(), v.clone());
            }
        }
    }
}
