//! The walk: a JSON document against the compiled snapshots of its type and profiles.

use crate::definitions::Definitions;
use crate::outcome::{Issue, Outcome, Rule, Severity};
use crate::primitives;
use crate::snapshot;
use crate::structure::{Element, Structure};
use crate::terminology::{self, Expansion, NotListable};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

mod bundle;
mod rules;
mod slicing;

#[cfg(all(test, feature = "fhirpath"))]
pub(crate) use rules::ENGINE_GAPS;

/// Errors of a validation request (the document's own problems are [`Issue`]s, not errors).
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    /// A profile the caller asked for is not loaded (or has no snapshot).
    #[error("profile {0} is not loaded (or has no snapshot): load it with Definitions::load_path")]
    UnknownProfile(String),
}

/// Evaluates FHIRPath invariants (`ElementDefinition.constraint.expression`). The validator checks structure,
/// values, bindings and slicing itself and hands invariants to an engine: `Ok(true)` holds, `Ok(false)` is
/// violated, `Err` means the engine cannot evaluate the expression (reported as information, never as a
/// violation).
pub trait InvariantEngine: Send + Sync {
    /// Evaluates `expression` with `focus` as `$this`/`%context` and `resource` as `%resource`. `focus_type` is
    /// the focus's FHIR type (`HumanName`, `string`, `Patient`, or `BackboneElement`), and `element_path` the
    /// path of its element definition in the base type (`Questionnaire.item.enableWhen`), where backbone
    /// elements define their children.
    /// `root_resource` (`%rootResource`) is the container of a contained resource, else `resource` itself.
    fn holds(
        &self,
        expression: &str,
        focus: &Value,
        focus_type: &str,
        element_path: &str,
        resource: &Value,
        root_resource: &Value,
    ) -> Result<bool, String>;
}

/// Validates FHIR JSON documents against the definitions of a [`Definitions`] store.
///
/// Validation works on the JSON tree, separate from reading into typed models, so it validates any document,
/// also of types whose model feature is off, and a document that does not conform still reads.
///
/// ```no_run
/// use fhir_validate::{Definitions, FhirVersion, Validator};
/// let defs = Definitions::core(FhirVersion::R4, None)?;
/// let validator = Validator::new(&defs);
/// let outcome = validator.validate(&serde_json::json!({"resourceType": "Observation"}));
/// assert!(!outcome.is_valid()); // status and code are missing
/// assert_eq!(outcome.errors().next().unwrap().path, "Observation");
/// println!("{}", outcome.to_operation_outcome());
/// # Ok::<(), fhir_validate::DefinitionsError>(())
/// ```
pub struct Validator<'d> {
    defs: &'d Definitions,
    structures: Mutex<HashMap<String, Option<Arc<Structure>>>>,
    expansions: Mutex<HashMap<String, Result<Arc<Expansion>, NotListable>>>,
    engine: Option<Box<dyn InvariantEngine + 'd>>,
}

/// Where the walk is: an element of a compiled structure.
#[derive(Clone)]
struct Ctx {
    st: Arc<Structure>,
    idx: usize,
}

impl Ctx {
    fn el(&self) -> &Element {
        self.st.element(self.idx)
    }
}

/// The resource an element is in (`%resource`) and its root (`%rootResource`: a contained resource's container).
#[derive(Clone, Copy)]
struct Res<'v> {
    this: &'v Value,
    root: &'v Value,
}

/// One occurrence of an element in the document: its value and its `_x` partner, with its path and type.
struct Item<'v> {
    value: Option<&'v Value>,
    ext: Option<&'v Value>,
    path: String,
    ty: String,
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
}

impl<'d> Validator<'d> {
    /// A validator over `defs`. With the `fhirpath` feature (on by default) it evaluates invariants with the
    /// workspace's FHIRPath engine; without it, invariants are not evaluated (see [`Validator::with_invariants`]).
    pub fn new(defs: &'d Definitions) -> Validator<'d> {
        let v = Validator { defs, structures: Mutex::default(), expansions: Mutex::default(), engine: None };
        #[cfg(feature = "fhirpath")]
        let v = v.with_invariants(crate::invariants::FhirPathInvariants::new());
        v
    }

    /// A validator that does not evaluate invariants (structure, values, bindings and slicing only).
    pub fn without_invariants(mut self) -> Validator<'d> {
        self.engine = None;
        self
    }

    /// Evaluates FHIRPath invariants with `engine`.
    pub fn with_invariants(mut self, engine: impl InvariantEngine + 'd) -> Validator<'d> {
        self.engine = Some(Box::new(engine));
        self
    }

    /// Whether invariants are evaluated.
    pub fn checks_invariants(&self) -> bool {
        self.engine.is_some()
    }

    /// The definitions this validator uses.
    pub fn definitions(&self) -> &'d Definitions {
        self.defs
    }

    /// Validates a resource against its base definition and every profile of its `meta.profile` that is loaded
    /// (a profile that is not loaded is a warning). Contained resources and Bundle entries are validated the
    /// same way, recursively.
    pub fn validate(&self, resource: &Value) -> Outcome {
        let mut out = Vec::new();
        self.validate_resource(resource, "", &[], None, &mut out);
        Outcome { issues: dedupe(out) }
    }

    /// Like [`Validator::validate`], and against each of `profiles` (canonical `url` or `url|version`) as well.
    pub fn validate_against(&self, resource: &Value, profiles: &[&str]) -> Result<Outcome, ValidateError> {
        let mut extra = Vec::new();
        for p in profiles {
            let st = self.structure(p).ok_or_else(|| ValidateError::UnknownProfile((*p).to_owned()))?;
            extra.push(st);
        }
        let mut out = Vec::new();
        self.validate_resource(resource, "", &extra, None, &mut out);
        Ok(Outcome { issues: dedupe(out) })
    }

    /// The value sets of `profile`'s required and extensible bindings that cannot be listed from the loaded
    /// packages (VSAC, CPT, SNOMED CT subsets, ...): what validating against it leaves unchecked, with the
    /// element and the reason, in snapshot order.
    pub fn unchecked_value_sets(&self, profile: &str) -> Result<Vec<(String, String)>, ValidateError> {
        let st = self.structure(profile).ok_or_else(|| ValidateError::UnknownProfile(profile.to_owned()))?;
        let mut seen = HashSet::new();
        let mut list = Vec::new();
        for el in &st.elements {
            let Some(b) = &el.binding else { continue };
            if b.strength != "required" && b.strength != "extensible" {
                continue;
            }
            if let Err(NotListable(why)) = self.expansion(&b.value_set) {
                if seen.insert((el.id.clone(), b.value_set.clone())) {
                    list.push((el.id.clone(), why));
                }
            }
        }
        Ok(list)
    }

    /// The compiled structure of a canonical (`None`: not loaded, or without a snapshot).
    fn structure(&self, canonical: &str) -> Option<Arc<Structure>> {
        let mut cache = self.structures.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = cache.get(canonical) {
            return s.clone();
        }
        let s = self
            .defs
            .structure_definition(canonical)
            .and_then(|sd| Structure::compile(&sd, &snapshot::snapshot_elements(self.defs, &sd, 0)?))
            .map(Arc::new);
        cache.insert(canonical.to_owned(), s.clone());
        s
    }

    fn type_structure(&self, ty: &str) -> Option<Arc<Structure>> {
        if ty.contains("://") {
            return self.structure(ty);
        }
        self.structure(&format!("http://hl7.org/fhir/StructureDefinition/{ty}"))
    }

    fn expansion(&self, canonical: &str) -> Result<Arc<Expansion>, NotListable> {
        let mut cache = self.expansions.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(e) = cache.get(canonical) {
            return e.clone();
        }
        let e = terminology::expand(self.defs, canonical, 0).map(Arc::new);
        cache.insert(canonical.to_owned(), e.clone());
        e
    }

    fn is_resource_type(&self, ty: &str) -> bool {
        matches!(ty, "Resource" | "DomainResource")
            || (ty.starts_with(|c: char| c.is_ascii_uppercase())
                && self.type_structure(ty).is_some_and(|s| s.kind == "resource"))
    }

    fn validate_resource(
        &self,
        v: &Value,
        path: &str,
        extra: &[Arc<Structure>],
        container: Option<Res<'_>>,
        out: &mut Vec<Issue>,
    ) {
        // A contained resource's %rootResource is its container; any other resource is its own root.
        let contained = path.rsplit('.').next().is_some_and(|last| last.starts_with("contained"));
        let res = Res { this: v, root: container.filter(|_| contained).map_or(v, |c| c.root) };
        let Some(obj) = v.as_object() else {
            out.push(issue(
                path,
                Severity::Error,
                Rule::JsonType,
                format!("a resource is a JSON object, not {}", primitives::json_kind(v)),
            ));
            return;
        };
        let Some(rt) = obj.get("resourceType").and_then(Value::as_str) else {
            out.push(issue(
                path,
                Severity::Error,
                Rule::Structure,
                "no resourceType: cannot tell which resource this is".into(),
            ));
            return;
        };
        let path = if path.is_empty() { rt.to_owned() } else { path.to_owned() };
        let Some(base) = self.type_structure(rt).filter(|s| s.kind == "resource") else {
            out.push(issue(&path, Severity::Error, Rule::Structure, format!("unknown resource type '{rt}'")));
            return;
        };
        let mut structures = vec![base];
        for p in v["meta"]["profile"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            match self.structure(p) {
                Some(st) => structures.push(st),
                None => out.push(issue(
                    &format!("{path}.meta.profile"),
                    Severity::Warning,
                    Rule::UnknownProfile,
                    format!("profile {p} is not loaded, so the resource was not checked against it"),
                )),
            }
        }
        structures.extend(extra.iter().cloned());
        if rt == "Bundle" {
            self.check_bundle(v, &path, out);
        }
        let mut seen = HashSet::new();
        for st in structures {
            if !seen.insert(st.url.clone()) {
                continue;
            }
            if st.type_name != rt {
                out.push(issue(
                    &path,
                    Severity::Error,
                    Rule::Type,
                    format!("profile {} is for {}, not {rt}", st.url, st.type_name),
                ));
                continue;
            }
            let ctx = Ctx { st, idx: 0 };
            self.validate_complex(v, &ctx, rt, &path, res, true, out);
            self.check_element_rules(&ctx, rt, v, &path, res, out);
        }
    }

    /// The element whose children describe an object of type `ty` at `ctx`: the context itself when the
    /// snapshot lists its children, else the root of the type's profile (when the type names one that is
    /// loaded) or of the type's base definition.
    fn content_ctx(&self, ctx: &Ctx, ty: &str, path: &str, out: &mut Vec<Issue>) -> Option<Ctx> {
        let idx = ctx.st.content_of(ctx.idx);
        if !ctx.st.element(idx).children.is_empty() {
            return Some(Ctx { st: ctx.st.clone(), idx });
        }
        let profiles = ctx.el().types.iter().filter(|t| t.code == ty).flat_map(|t| t.profiles.iter());
        for p in profiles {
            match self.structure(p) {
                Some(st) => return Some(Ctx { st, idx: 0 }),
                None if ty != "Extension" => {
                    out.push(issue(path, Severity::Warning, Rule::UnknownProfile, format!("profile {p} is not loaded")))
                }
                None => {}
            }
        }
        match self.type_structure(ty) {
            Some(st) => Some(Ctx { st, idx: 0 }),
            None => {
                out.push(issue(
                    path,
                    Severity::Error,
                    Rule::Type,
                    format!("type {ty} is not defined in the loaded packages"),
                ));
                None
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn validate_complex(
        &self,
        v: &Value,
        ctx: &Ctx,
        ty: &str,
        path: &str,
        res: Res<'_>,
        root: bool,
        out: &mut Vec<Issue>,
    ) {
        let Some(obj) = v.as_object() else { return };
        let Some(content) = (if root { Some(ctx.clone()) } else { self.content_ctx(ctx, ty, path, out) }) else {
            return;
        };
        if !root && content.idx == 0 && !Arc::ptr_eq(&content.st, &ctx.st) {
            // The value's own type (or profile) root carries the type's invariants (Period's per-1, ...).
            self.check_invariants(&content, ty, v, path, res, out);
        }
        let children = &content.st.element(content.idx).children;
        // Which child each key belongs to, and with which type.
        let mut matched: Vec<Vec<(String, String)>> = vec![Vec::new(); children.len()];
        for key in obj.keys() {
            if (root && key == "resourceType") || key == "fhir_comments" || key == "_fhir_comments" {
                continue;
            }
            let name = key.strip_prefix('_').unwrap_or(key);
            let mut found = false;
            for (ci, &c) in children.iter().enumerate() {
                let el = content.st.element(c);
                let ty = if el.name == name {
                    el.types
                        .first()
                        .map(|t| t.code.clone())
                        .or_else(|| el.content_reference.map(|_| "BackboneElement".to_owned()))
                } else if el.is_choice() {
                    let stem = &el.name[..el.name.len() - 3];
                    name.strip_prefix(stem).and_then(|suffix| {
                        el.types.iter().find(|t| upper_first(&t.code) == suffix).map(|t| t.code.clone()).or_else(|| {
                            (el.types.iter().any(|t| t.code == "*")
                                && suffix.starts_with(|c: char| c.is_ascii_uppercase()))
                            .then(|| open_type(suffix))
                        })
                    })
                } else {
                    None
                };
                if let Some(ty) = ty {
                    if !matched[ci].iter().any(|(n, _)| n == name) {
                        matched[ci].push((name.to_owned(), ty));
                    }
                    found = true;
                    break;
                }
            }
            if !found {
                out.push(issue(
                    &format!("{path}.{key}"),
                    Severity::Error,
                    Rule::UnknownElement,
                    format!("unknown element '{key}': {} has no such element", content.st.element(content.idx).path),
                ));
            }
        }
        for (ci, &c) in children.iter().enumerate() {
            let child = Ctx { st: content.st.clone(), idx: c };
            let el = child.el();
            if matched[ci].len() > 1 {
                let keys: Vec<_> = matched[ci].iter().map(|(n, _)| n.as_str()).collect();
                out.push(issue(
                    path,
                    Severity::Error,
                    Rule::Type,
                    format!("{} takes one type, but {} are given", el.name, keys.join(" and ")),
                ));
            }
            if matched[ci].is_empty() {
                if el.min > 0 {
                    out.push(issue(
                        path,
                        Severity::Error,
                        Rule::CardinalityMin,
                        format!("{}: minimum required = {}, but only found 0", el.path, el.min),
                    ));
                }
                if el.slicing.is_some() {
                    self.check_slices(&child, &[], path, res, out);
                }
                continue;
            }
            for (name, ty) in &matched[ci] {
                self.validate_child(
                    &child,
                    name,
                    ty,
                    obj.get(name.as_str()),
                    obj.get(&format!("_{name}")),
                    path,
                    res,
                    out,
                );
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn validate_child(
        &self,
        ctx: &Ctx,
        name: &str,
        ty: &str,
        value: Option<&Value>,
        ext: Option<&Value>,
        path: &str,
        res: Res<'_>,
        out: &mut Vec<Issue>,
    ) {
        let el = ctx.el();
        let seg = if el.is_choice() {
            format!("{}.ofType({})", &el.name[..el.name.len() - 3], upper_first_if_complex(ty))
        } else {
            name.to_owned()
        };
        let base_path = format!("{path}.{seg}");
        let repeats = el.repeats();
        let values = as_list(value, name, repeats, &base_path, out);
        let exts = as_list(ext, &format!("_{name}"), repeats, &base_path, out);
        if value.is_some()
            && ext.is_some()
            && value.is_some_and(Value::is_array)
            && values.len() != exts.len()
            && !exts.is_empty()
        {
            out.push(issue(
                &base_path,
                Severity::Error,
                Rule::ArrayShape,
                format!("{name} has {} items but _{name} has {}", values.len(), exts.len()),
            ));
        }
        let n = values.len().max(exts.len());
        let mut items = Vec::with_capacity(n);
        for i in 0..n {
            let v = values.get(i).copied().flatten();
            let x = exts.get(i).copied().flatten();
            let item_path = if repeats { format!("{base_path}[{i}]") } else { base_path.clone() };
            if v.is_none() && x.is_none() {
                out.push(issue(
                    &item_path,
                    Severity::Error,
                    Rule::Empty,
                    format!("a null in {name} needs a non-null partner at the same place in _{name}"),
                ));
                continue;
            }
            items.push(Item { value: v, ext: x, path: item_path, ty: ty.to_owned() });
        }
        if (items.len() as u64) < el.min {
            out.push(issue(
                path,
                Severity::Error,
                Rule::CardinalityMin,
                format!("{}: minimum required = {}, but only found {}", el.path, el.min, items.len()),
            ));
        }
        if let Some(max) = el.max {
            if items.len() as u64 > max {
                let at = if max == 0 { items[0].path.clone() } else { base_path.clone() };
                out.push(issue(
                    &at,
                    Severity::Error,
                    Rule::CardinalityMax,
                    format!("{}: maximum allowed = {max}, but found {}", el.path, items.len()),
                ));
            }
        }
        for item in &items {
            self.validate_item(ctx, item, res, out);
        }
        if el.slicing.is_some() || !el.slices.is_empty() {
            self.check_slices(ctx, &items, path, res, out);
        }
    }

    fn validate_item(&self, ctx: &Ctx, item: &Item<'_>, res: Res<'_>, out: &mut Vec<Issue>) {
        let ty = item.ty.as_str();
        let path = item.path.as_str();
        if let Some(x) = item.ext {
            match x.as_object() {
                Some(o) if o.is_empty() => out.push(issue(
                    path,
                    Severity::Error,
                    Rule::Empty,
                    "an empty object is not a value (leave it out)".into(),
                )),
                Some(_) => {
                    if let Some(st) = self.type_structure(if primitives::is_primitive(ty) { ty } else { "Element" }) {
                        let ectx = Ctx { st, idx: 0 };
                        let mut sub = Vec::new();
                        self.validate_complex(x, &ectx, "Element", path, res, true, &mut sub);
                        out.extend(sub.into_iter().filter(|i| i.rule != Rule::CardinalityMin));
                    }
                }
                None => out.push(issue(
                    path,
                    Severity::Error,
                    Rule::JsonType,
                    format!("the _ partner of a primitive is a JSON object, not {}", primitives::json_kind(x)),
                )),
            }
        }
        let Some(v) = item.value else {
            return;
        };
        if primitives::is_primitive(ty) {
            if let Err((kind, why)) = primitives::check(ty, v) {
                let rule = if kind {
                    Rule::JsonType
                } else if v.as_str() == Some("") {
                    Rule::Empty
                } else {
                    Rule::PrimitiveFormat
                };
                out.push(issue(path, Severity::Error, rule, why));
                return;
            }
        } else if matches!(ty, "Resource" | "DomainResource")
            || (v.get("resourceType").is_some() && self.is_resource_type(ty))
        {
            // A type's profiles are alternatives: the resource must conform to one of them.
            let profiles: Vec<Arc<Structure>> = ctx
                .el()
                .types
                .iter()
                .filter(|t| t.code == ty)
                .flat_map(|t| t.profiles.iter())
                .filter_map(|p| self.structure(p))
                .collect();
            if profiles.len() <= 1 {
                self.validate_resource(v, path, &profiles, Some(res), out);
                return;
            }
            let mut best: Option<Vec<Issue>> = None;
            for p in &profiles {
                let mut sub = Vec::new();
                self.validate_resource(v, path, std::slice::from_ref(p), Some(res), &mut sub);
                let errors = sub.iter().filter(|i| i.severity.is_error()).count();
                if best.as_ref().is_none_or(|b| errors < b.iter().filter(|i| i.severity.is_error()).count()) {
                    best = Some(sub);
                }
            }
            out.extend(best.unwrap_or_default());
            return;
        } else {
            let Some(obj) = v.as_object() else {
                out.push(issue(
                    path,
                    Severity::Error,
                    Rule::JsonType,
                    format!("a {ty} is a JSON object, not {}", primitives::json_kind(v)),
                ));
                return;
            };
            if obj.is_empty() {
                out.push(issue(
                    path,
                    Severity::Error,
                    Rule::Empty,
                    "an empty object is not a value (leave it out)".into(),
                ));
                return;
            }
            let has_profile = ctx.el().types.iter().any(|t| t.code == ty && !t.profiles.is_empty());
            let has_children = !ctx.st.element(ctx.st.content_of(ctx.idx)).children.is_empty();
            if ty == "Extension" && !has_profile && !has_children {
                self.validate_extension(v, ctx, path, res, out);
            } else {
                self.validate_complex(v, ctx, ty, path, res, false, out);
            }
        }
        self.check_element_rules(ctx, ty, v, path, res, out);
    }

    /// An extension in an element that does not name its profile: validated against the definition of its url
    /// when that is loaded.
    fn validate_extension(&self, v: &Value, ctx: &Ctx, path: &str, res: Res<'_>, out: &mut Vec<Issue>) {
        let url = v["url"].as_str().unwrap_or_default();
        match self.structure(url).filter(|s| s.type_name == "Extension") {
            Some(st) if !(Arc::ptr_eq(&st, &ctx.st) && ctx.idx == 0) => {
                let ectx = Ctx { st, idx: 0 };
                self.validate_complex(v, &ectx, "Extension", path, res, true, out);
                self.check_element_rules(&ectx, "Extension", v, path, res, out);
            }
            _ => {
                // A relative url names a part of a complex extension: its parent's definition (a slice) says it.
                if url.contains(':') {
                    // An error, as the HL7 validator reports it ("could not be found so is not allowed here"),
                    // except for the core namespace, whose extension pack (hl7.fhir.uv.extensions) may simply
                    // not be loaded.
                    let core = url.starts_with("http://hl7.org/fhir/");
                    let severity = if core { Severity::Warning } else { Severity::Error };
                    out.push(issue(
                        path,
                        severity,
                        Rule::UnknownExtension,
                        format!("extension {url} is not defined in the loaded packages"),
                    ));
                }
                self.validate_complex(v, ctx, "Extension", path, res, false, out);
            }
        }
    }
}

/// The type of an open-type (`*`) choice key suffix: `valueString` -> `string`, `valueQuantity` -> `Quantity`.
fn open_type(suffix: &str) -> String {
    const PRIMITIVES: [&str; 20] = [
        "Boolean",
        "Integer",
        "Integer64",
        "UnsignedInt",
        "PositiveInt",
        "Decimal",
        "String",
        "Markdown",
        "Code",
        "Id",
        "Uri",
        "Url",
        "Canonical",
        "Oid",
        "Uuid",
        "Base64Binary",
        "Instant",
        "Date",
        "DateTime",
        "Time",
    ];
    if PRIMITIVES.contains(&suffix) {
        let mut c = suffix.chars();
        c.next().map(|f| f.to_ascii_lowercase().to_string() + c.as_str()).unwrap_or_default()
    } else {
        suffix.to_owned()
    }
}

/// The type as the HL7 validator writes it in `ofType(...)`: FHIR types as named (`Quantity`, `dateTime`).
fn upper_first_if_complex(ty: &str) -> String {
    ty.to_owned()
}

/// The occurrences of one JSON key (an array's items, `null`s as `None`), with shape issues reported.
fn as_list<'v>(
    v: Option<&'v Value>,
    key: &str,
    repeats: bool,
    base_path: &str,
    out: &mut Vec<Issue>,
) -> Vec<Option<&'v Value>> {
    match v {
        None => Vec::new(),
        Some(Value::Array(a)) => {
            if !repeats {
                out.push(issue(
                    base_path,
                    Severity::Error,
                    Rule::ArrayShape,
                    format!("{key} is a single value, not an array"),
                ));
            }
            if a.is_empty() {
                out.push(issue(
                    base_path,
                    Severity::Error,
                    Rule::Empty,
                    format!("{key} is an empty array (leave it out)"),
                ));
            }
            a.iter().map(|x| if x.is_null() { None } else { Some(x) }).collect()
        }
        Some(Value::Null) => {
            out.push(issue(base_path, Severity::Error, Rule::Empty, format!("{key} is null (leave it out)")));
            Vec::new()
        }
        Some(x) => {
            if repeats {
                out.push(issue(
                    base_path,
                    Severity::Error,
                    Rule::ArrayShape,
                    format!("{key} repeats, so it is written as an array"),
                ));
            }
            vec![Some(x)]
        }
    }
}

fn issue(path: &str, severity: Severity, rule: Rule, message: String) -> Issue {
    Issue { path: path.to_owned(), severity, rule, message }
}

/// Removes repeated issues (a base definition and a profile often say the same), keeping the first.
fn dedupe(issues: Vec<Issue>) -> Vec<Issue> {
    let mut seen = HashSet::new();
    issues.into_iter().filter(|i| seen.insert(i.clone())).collect()
}
