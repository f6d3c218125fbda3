//! Slicing: which slice each item of a sliced element belongs to (by its discriminators: value, pattern,
//! type, profile, exists, `$this` with a binding), each slice's cardinality, and closed slicing.

use super::rules::contains_pattern;
use super::upper_first;
use super::{issue, Ctx, Item, Res, Validator};
use crate::outcome::{Issue, Rule, Severity};
use crate::structure::Discriminator;
use crate::terminology::Expansion;
use serde_json::Value;

/// A step of a discriminator path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Name(String),
    Extension(String),
    OfType(String),
    Resolve,
    This,
}

/// Splits a (restricted FHIRPath) discriminator path into steps; `None` when it uses something else.
fn parse_steps(path: &str) -> Option<Vec<Step>> {
    let mut steps = Vec::new();
    let mut rest = path.trim();
    while !rest.is_empty() {
        let (step, tail) = if let Some(r) = rest.strip_prefix("$this") {
            (Step::This, r)
        } else if let Some(r) = rest.strip_prefix("extension(") {
            let q = r.chars().next().filter(|c| *c == '\'' || *c == '"')?;
            let body = &r[1..];
            let end = body.find(q)?;
            (Step::Extension(body[..end].to_owned()), body[end + 1..].strip_prefix(')')?)
        } else if let Some(r) = rest.strip_prefix("ofType(") {
            let end = r.find(')')?;
            (Step::OfType(r[..end].trim().to_owned()), &r[end + 1..])
        } else if let Some(r) = rest.strip_prefix("resolve()") {
            (Step::Resolve, r)
        } else {
            let end = rest.find('.').unwrap_or(rest.len());
            let name = &rest[..end];
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return None;
            }
            (Step::Name(name.to_owned()), &rest[end..])
        };
        steps.push(step);
        rest = tail.strip_prefix('.').unwrap_or(tail);
    }
    Some(steps)
}

impl Validator<'_> {
    /// Assigns each item to the slice its discriminators select, validates it against that slice, and checks
    /// each slice's cardinality and closed slicing.
    pub(super) fn check_slices(
        &self,
        ctx: &Ctx,
        items: &[Item<'_>],
        parent_path: &str,
        res: Res<'_>,
        out: &mut Vec<Issue>,
    ) {
        let el = ctx.el();
        let slices = el.slices.clone();
        if slices.is_empty() {
            return;
        }
        let discriminators = el.slicing.as_ref().map(|s| s.discriminators.clone()).unwrap_or_default();
        let closed = el.slicing.as_ref().is_some_and(|s| s.rules == "closed");
        let mut counts = vec![0u64; slices.len()];
        let mut unknown: Vec<usize> = Vec::new();
        for item in items {
            let mut chosen = None;
            for (si, &s) in slices.iter().enumerate() {
                let sctx = Ctx { st: ctx.st.clone(), idx: s };
                match self.slice_matches(&sctx, &discriminators, item) {
                    Some(true) => {
                        chosen = Some(si);
                        break;
                    }
                    Some(false) => {}
                    None => {
                        if !unknown.contains(&si) {
                            unknown.push(si);
                        }
                    }
                }
            }
            match chosen {
                Some(si) => {
                    counts[si] += 1;
                    let sctx = Ctx { st: ctx.st.clone(), idx: slices[si] };
                    self.validate_item(&sctx, item, res, out);
                }
                None if closed && unknown.is_empty() => out.push(issue(
                    &item.path,
                    Severity::Error,
                    Rule::SliceClosed,
                    format!("{} is sliced closed and this item matches none of its slices", el.path),
                )),
                None => {}
            }
        }
        for (si, &s) in slices.iter().enumerate() {
            let se = ctx.st.element(s);
            let name = se.slice_name.clone().unwrap_or_else(|| se.id.clone());
            if unknown.contains(&si) {
                out.push(issue(
                    parent_path,
                    Severity::Information,
                    Rule::SliceCardinality,
                    format!("slice {name} of {} not checked: its discriminator cannot be evaluated here", el.path),
                ));
                continue;
            }
            if counts[si] < se.min {
                out.push(issue(
                    parent_path,
                    Severity::Error,
                    Rule::SliceCardinality,
                    format!("{}: slice '{name}' requires at least {}, but found {}", el.path, se.min, counts[si]),
                ));
            }
            if let Some(max) = se.max {
                if counts[si] > max {
                    out.push(issue(
                        parent_path,
                        Severity::Error,
                        Rule::SliceCardinality,
                        format!("{}: slice '{name}' allows at most {max}, but found {}", el.path, counts[si]),
                    ));
                }
            }
        }
    }

    /// Whether `item` belongs to slice `sctx`: `None` when a discriminator cannot be evaluated.
    fn slice_matches(&self, sctx: &Ctx, discriminators: &[Discriminator], item: &Item<'_>) -> Option<bool> {
        let sel = sctx.el();
        if discriminators.is_empty() {
            // Type slices of a choice carry no discriminator in some snapshots: the slice's type decides.
            return (!sel.types.is_empty()).then(|| sel.types.iter().any(|t| t.code == item.ty));
        }
        for d in discriminators {
            let steps = parse_steps(&d.path)?;
            if steps.contains(&Step::Resolve) {
                return None;
            }
            let target = self.discriminator_element(sctx, &item.ty, &steps)?;
            let values = item.value.map(|v| navigate(v, &steps)).unwrap_or_default();
            let ok = match d.kind.as_str() {
                "value" | "pattern" => {
                    let tel = target.el();
                    if let Some(f) = tel.fixed.as_ref().or(tel.pattern.as_ref()) {
                        values.iter().any(|v| contains_pattern(v, f))
                    } else if let Some(b) =
                        tel.binding.as_ref().filter(|b| b.strength == "required" || d.path == "$this")
                    {
                        let exp = self.expansion(&b.value_set).ok()?;
                        let ty = tel.types.first().map(|t| t.code.as_str()).unwrap_or(item.ty.as_str());
                        values.iter().any(|v| binding_member(&exp, ty, v))
                    } else {
                        // Nothing to compare with: this slice cannot be told apart by value.
                        return None;
                    }
                }
                "type" => {
                    let tel = target.el();
                    if tel.types.is_empty() {
                        return None;
                    }
                    let actual: Vec<String> = if steps.iter().all(|s| *s == Step::This) {
                        match item.value.and_then(|v| v["resourceType"].as_str()) {
                            Some(rt) if self.is_resource_type(&item.ty) => vec![rt.to_owned()],
                            _ => vec![item.ty.clone()],
                        }
                    } else {
                        values.iter().filter_map(|v| v["resourceType"].as_str().map(str::to_owned)).collect()
                    };
                    if actual.is_empty() {
                        return None;
                    }
                    actual.iter().any(|a| tel.types.iter().any(|t| &t.code == a))
                }
                "profile" => {
                    let tel = target.el();
                    let profiles: Vec<&String> = tel.types.iter().flat_map(|t| t.profiles.iter()).collect();
                    if profiles.is_empty() {
                        return None;
                    }
                    values.iter().any(|v| {
                        profiles.iter().any(|p| {
                            let Some(st) = self.structure(p) else { return false };
                            let mut sub = Vec::new();
                            if v.get("resourceType").is_some() {
                                self.validate_resource(v, &item.path, std::slice::from_ref(&st), None, &mut sub);
                            } else if v.is_object() {
                                let c = Ctx { st, idx: 0 };
                                self.validate_complex(
                                    v,
                                    &c,
                                    &item.ty,
                                    &item.path,
                                    Res { this: v, root: v },
                                    true,
                                    &mut sub,
                                );
                            }
                            !sub.iter().any(|i| i.severity.is_error())
                        })
                    })
                }
                "exists" => {
                    let tel = target.el();
                    if tel.max == Some(0) {
                        values.is_empty()
                    } else if tel.min > 0 {
                        !values.is_empty()
                    } else {
                        return None;
                    }
                }
                _ => return None,
            };
            if !ok {
                return Some(false);
            }
        }
        Some(true)
    }

    /// The element a discriminator path names inside a slice: walking the slice's children, or its type's
    /// profile or base definition where the snapshot does not list them.
    fn discriminator_element(&self, sctx: &Ctx, item_ty: &str, steps: &[Step]) -> Option<Ctx> {
        let mut cur = sctx.clone();
        let mut cur_ty = item_ty.to_owned();
        for step in steps {
            match step {
                Step::This => {}
                Step::Resolve => return None,
                Step::OfType(t) => {
                    // A type slice of the current choice, if there is one; else the current element.
                    if let Some(&s) =
                        cur.el().slices.iter().find(|&&s| cur.st.element(s).types.iter().any(|x| &x.code == t))
                    {
                        cur = Ctx { st: cur.st.clone(), idx: s };
                    }
                    cur_ty = t.clone();
                }
                Step::Name(name) | Step::Extension(name) => {
                    let is_ext = matches!(step, Step::Extension(_));
                    let child_name = if is_ext { "extension" } else { name.as_str() };
                    let mut sink = Vec::new();
                    let content = self.content_ctx(&cur, &cur_ty, "", &mut sink)?;
                    let children = &content.st.element(content.idx).children;
                    let c = children.iter().copied().find(|&c| {
                        let e = content.st.element(c);
                        e.name == child_name || (e.is_choice() && e.name[..e.name.len() - 3] == *child_name)
                    })?;
                    let mut next = Ctx { st: content.st.clone(), idx: c };
                    if is_ext {
                        let s = next.el().slices.iter().copied().find(|&s| {
                            let se = next.st.element(s);
                            se.types.iter().any(|t| t.profiles.iter().any(|p| p == name))
                        })?;
                        next = Ctx { st: next.st.clone(), idx: s };
                        cur_ty = "Extension".into();
                    } else {
                        cur_ty =
                            next.el().types.first().map(|t| t.code.clone()).unwrap_or_else(|| "BackboneElement".into());
                    }
                    cur = next;
                }
            }
        }
        Some(cur)
    }
}

/// Whether a code-bearing value is in an expansion.
fn binding_member(exp: &Expansion, ty: &str, v: &Value) -> bool {
    match ty {
        "CodeableConcept" => v["coding"].as_array().into_iter().flatten().any(|c| binding_member(exp, "Coding", c)),
        "code" | "string" | "uri" => v.as_str().is_some_and(|c| exp.contains(None, c)),
        _ => v["code"].as_str().is_some_and(|c| exp.contains(v["system"].as_str().or(Some("")), c)),
    }
}

/// The values a discriminator path reaches from `v` (arrays flattened).
fn navigate<'v>(v: &'v Value, steps: &[Step]) -> Vec<&'v Value> {
    let mut cur = vec![v];
    let mut i = 0;
    while i < steps.len() {
        let mut next = Vec::new();
        match &steps[i] {
            Step::This | Step::OfType(_) => {
                i += 1;
                continue;
            }
            Step::Resolve => return Vec::new(),
            Step::Name(name) => {
                let of_type = match steps.get(i + 1) {
                    Some(Step::OfType(t)) => Some(upper_first(t)),
                    _ => None,
                };
                for c in &cur {
                    let Some(o) = c.as_object() else { continue };
                    let found: Vec<&Value> = match &of_type {
                        Some(t) => o.get(&format!("{name}{t}")).into_iter().collect(),
                        None => match o.get(name.as_str()) {
                            Some(x) => vec![x],
                            None => o
                                .iter()
                                .filter(|(k, _)| {
                                    k.strip_prefix(name.as_str())
                                        .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_uppercase()))
                                })
                                .map(|(_, x)| x)
                                .collect(),
                        },
                    };
                    for x in found {
                        match x {
                            Value::Array(a) => next.extend(a.iter()),
                            x => next.push(x),
                        }
                    }
                }
            }
            Step::Extension(url) => {
                for c in &cur {
                    for e in c["extension"].as_array().into_iter().flatten() {
                        if e["url"].as_str() == Some(url) {
                            next.push(e);
                        }
                    }
                }
            }
        }
        cur = next;
        i += 1;
    }
    cur
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn discriminator_paths_parse() {
        assert_eq!(parse_steps("url"), Some(vec![Step::Name("url".into())]));
        assert_eq!(
            parse_steps("extension('http://x.org/a.b').value.ofType(Coding)"),
            Some(vec![
                Step::Extension("http://x.org/a.b".into()),
                Step::Name("value".into()),
                Step::OfType("Coding".into())
            ])
        );
        assert_eq!(parse_steps("resource.resolve()"), Some(vec![Step::Name("resource".into()), Step::Resolve]));
        assert_eq!(parse_steps("code.where(x)"), None);
        assert_eq!(parse_steps("extension(é)"), None);
        assert_eq!(
            parse_steps("extension('é.x').url"),
            Some(vec![Step::Extension("é.x".into()), Step::Name("url".into())])
        );
        let v = json!({"valueQuantity": {"value": 1}, "code": {"coding": [{"code": "x"}]}});
        assert_eq!(navigate(&v, &parse_steps("code.coding.code").unwrap()), vec![&json!("x")]);
        assert_eq!(navigate(&v, &parse_steps("value.ofType(Quantity)").unwrap()).len(), 1);
        assert_eq!(navigate(&v, &parse_steps("value").unwrap()).len(), 1);
    }
}
