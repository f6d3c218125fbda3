//! Rules of a Bundle that its definition cannot say: absolute `fullUrl`s, search results with ids, references
//! the Bundle must resolve unambiguously.

use super::{issue, Validator};
use crate::outcome::{Issue, Rule, Severity};
use serde_json::Value;

impl Validator<'_> {
    /// Rules of a Bundle that its definition cannot say: every `fullUrl` is absolute, and search results
    /// have ids.
    pub(super) fn check_bundle(&self, v: &Value, path: &str, out: &mut Vec<Issue>) {
        let searchset = v["type"] == "searchset";
        for (i, e) in v["entry"].as_array().into_iter().flatten().enumerate() {
            let at = format!("{path}.entry[{i}]");
            if let Some(full) = e["fullUrl"].as_str() {
                let scheme = full.split_once(':').is_some_and(|(s, _)| {
                    !s.is_empty()
                        && s.starts_with(|c: char| c.is_ascii_alphabetic())
                        && s.chars().all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
                });
                if !scheme {
                    out.push(issue(
                        &at,
                        Severity::Error,
                        Rule::Resource,
                        format!("the fullUrl must be an absolute URL (not '{full}')"),
                    ));
                }
            }
            if searchset && e["resource"].is_object() {
                let mode = e["search"]["mode"].as_str();
                let rt = e["resource"]["resourceType"].as_str().unwrap_or_default();
                if mode == Some("outcome") && rt != "OperationOutcome" {
                    out.push(issue(
                        &format!("{at}.resource"),
                        Severity::Error,
                        Rule::Resource,
                        format!("search.mode is outcome, but this is not an OperationOutcome ({rt})"),
                    ));
                }
                // An OperationOutcome without a search mode is the search's own outcome; anything else is a
                // result, and results have ids.
                let result = matches!(mode, Some("match" | "include")) || (mode.is_none() && rt != "OperationOutcome");
                if result && e["resource"]["id"].is_null() {
                    out.push(issue(
                        &format!("{at}.resource"),
                        Severity::Error,
                        Rule::Resource,
                        "search results must have ids".into(),
                    ));
                }
            }
        }
        check_bundle_references(v, path, out);
    }
}

/// References inside a Bundle's entries that the Bundle itself must resolve unambiguously: a relative
/// `Type/id` that more than one entry matches, or a `Type/id/_history/v` whose entries all have other versions.
/// (References to resources outside the Bundle are allowed and not reported.)
fn check_bundle_references(bundle: &Value, path: &str, out: &mut Vec<Issue>) {
    let entries: Vec<&Value> = bundle["entry"].as_array().map(|a| a.iter().collect()).unwrap_or_default();
    let key = |e: &Value| {
        (e["resource"]["resourceType"].as_str().map(str::to_owned), e["resource"]["id"].as_str().map(str::to_owned))
    };
    let mut refs = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        collect_references(&e["resource"], &format!("{path}.entry[{i}].resource"), &mut refs);
    }
    for (at, reference) in refs {
        let parts: Vec<&str> = reference.split('/').collect();
        let (rt, id, version) = match parts.as_slice() {
            [rt, id] => (*rt, *id, None),
            [rt, id, "_history", v] => (*rt, *id, Some(*v)),
            _ => continue,
        };
        if !rt.starts_with(|c: char| c.is_ascii_uppercase()) {
            continue;
        }
        let same: Vec<&&Value> =
            entries.iter().filter(|e| key(e) == (Some(rt.to_owned()), Some(id.to_owned()))).collect();
        match version {
            None if same.len() > 1 => out.push(issue(
                &at,
                Severity::Error,
                Rule::Resource,
                format!("{} entries of the Bundle match the reference {reference}", same.len()),
            )),
            Some(v) if !same.is_empty() && !same.iter().any(|e| e["resource"]["meta"]["versionId"] == v) => {
                out.push(issue(
                    &at,
                    Severity::Error,
                    Rule::Resource,
                    format!("the Bundle holds {rt}/{id}, but not version {v} that {reference} names"),
                ))
            }
            _ => {}
        }
    }
}

/// Every `reference` string under `v` (not inside nested Bundles), with a path to the Reference.
fn collect_references(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(o) => {
            if o.get("resourceType").and_then(Value::as_str) == Some("Bundle") {
                return;
            }
            if let Some(r) = o.get("reference").and_then(Value::as_str) {
                out.push((path.to_owned(), r.to_owned()));
            }
            for (k, x) in o {
                if k != "reference" {
                    collect_references(x, &format!("{path}.{k}"), out);
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                collect_references(x, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}
