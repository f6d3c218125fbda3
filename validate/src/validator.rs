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

/// Invariants no engine needs to evaluate: `ele-1` ("All FHIR elements must have a @value or children") is
/// checked structurally by the walk (empty objects, strings, arrays and `null`s), and the narrative checks
/// `txt-1`/`txt-2` are about XHTML content the validator does not parse.
const STRUCTURAL_INVARIANTS: [&str; 3] = ["ele-1", "txt-1", "txt-2"];

/// Core invariants the `fhir-path` engine (merged from the `sql` branch) evaluates wrongly today, so that
/// every official example that holds them is refused: reported as not checked, with the reason, rather than
/// as violations. The test `engine_gaps_are_still_gaps` fails when the engine is fixed, so the entry is removed.
/// Technical corrections of R4 core invariants, as FHIR R4B and R5 publish them (and the HL7 validator applies
/// to R4): `que-12` says "more than one enableWhen" but R4 wrote `> 2`.
const R4_ERRATA: [(&str, &str, &str); 1] =
    [("que-12", "enableWhen.count() > 2 implies enableBehavior.exists()", "enableWhen.count() > 1 implies enableBehavior.exists()")];

pub(crate) const ENGINE_GAPS: [(&str, &str); 2] = [
    ("dom-3", "fhir-path refuses (or, before, got wrong) `descendants().as(canonical)` over several items, which the HL7 validator accepts"),
    ("que-7", "fhir-path does not count a FHIR boolean (answerBoolean) as `is Boolean`"),
];

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

/// Whether `instance` contains everything in `pattern` (objects: every key matches; arrays: every pattern item
/// is matched by some instance item; primitives: equal).
pub(crate) fn contains_pattern(instance: &Value, pattern: &Value) -> bool {
    match (instance, pattern) {
        (Value::Object(i), Value::Object(p)) => p.iter().all(|(k, pv)| i.get(k).is_some_and(|iv| contains_pattern(iv, pv))),
        (Value::Array(i), Value::Array(p)) => p.iter().all(|pv| i.iter().any(|iv| contains_pattern(iv, pv))),
        (Value::Array(i), p) => i.iter().any(|iv| contains_pattern(iv, p)),
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (a, b) => a == b,
    }
}

/// Whether `instance` equals `fixed` exactly (numbers by value).
fn equals_fixed(instance: &Value, fixed: &Value) -> bool {
    match (instance, fixed) {
        (Value::Object(i), Value::Object(f)) => i.len() == f.len() && f.iter().all(|(k, fv)| i.get(k).is_some_and(|iv| equals_fixed(iv, fv))),
        (Value::Array(i), Value::Array(f)) => i.len() == f.len() && i.iter().zip(f).all(|(a, b)| equals_fixed(a, b)),
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (a, b) => a == b,
    }
}

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

    fn validate_resource(&self, v: &Value, path: &str, extra: &[Arc<Structure>], container: Option<Res<'_>>, out: &mut Vec<Issue>) {
        // A contained resource's %rootResource is its container; any other resource is its own root.
        let contained = path.rsplit('.').next().is_some_and(|last| last.starts_with("contained"));
        let res = Res { this: v, root: container.filter(|_| contained).map_or(v, |c| c.root) };
        let Some(obj) = v.as_object() else {
            out.push(issue(path, Severity::Error, Rule::JsonType, format!("a resource is a JSON object, not {}", primitives::json_kind(v))));
            return;
        };
        let Some(rt) = obj.get("resourceType").and_then(Value::as_str) else {
            out.push(issue(path, Severity::Error, Rule::Structure, "no resourceType: cannot tell which resource this is".into()));
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
                out.push(issue(&path, Severity::Error, Rule::Type, format!("profile {} is for {}, not {rt}", st.url, st.type_name)));
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
                None if ty != "Extension" => out.push(issue(path, Severity::Warning, Rule::UnknownProfile, format!("profile {p} is not loaded"))),
                None => {}
            }
        }
        match self.type_structure(ty) {
            Some(st) => Some(Ctx { st, idx: 0 }),
            None => {
                out.push(issue(path, Severity::Error, Rule::Type, format!("type {ty} is not defined in the loaded packages")));
                None
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn validate_complex(&self, v: &Value, ctx: &Ctx, ty: &str, path: &str, res: Res<'_>, root: bool, out: &mut Vec<Issue>) {
        let Some(obj) = v.as_object() else { return };
        let Some(content) = (if root { Some(ctx.clone()) } else { self.content_ctx(ctx, ty, path, out) }) else { return };
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
                    el.types.first().map(|t| t.code.clone()).or_else(|| el.content_reference.map(|_| "BackboneElement".to_owned()))
                } else if el.is_choice() {
                    let stem = &el.name[..el.name.len() - 3];
                    name.strip_prefix(stem).and_then(|suffix| {
                        el.types.iter().find(|t| upper_first(&t.code) == suffix).map(|t| t.code.clone()).or_else(|| {
                            (el.types.iter().any(|t| t.code == "*") && suffix.starts_with(|c: char| c.is_ascii_uppercase()))
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
                out.push(issue(path, Severity::Error, Rule::Type, format!("{} takes one type, but {} are given", el.name, keys.join(" and "))));
            }
            if matched[ci].is_empty() {
                if el.min > 0 {
                    out.push(issue(path, Severity::Error, Rule::CardinalityMin, format!("{}: minimum required = {}, but only found 0", el.path, el.min)));
                }
                if el.slicing.is_some() {
                    self.check_slices(&child, &[], path, res, out);
                }
                continue;
            }
            for (name, ty) in &matched[ci] {
                self.validate_child(&child, name, ty, obj.get(name.as_str()), obj.get(&format!("_{name}")), path, res, out);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn validate_child(&self, ctx: &Ctx, name: &str, ty: &str, value: Option<&Value>, ext: Option<&Value>, path: &str, res: Res<'_>, out: &mut Vec<Issue>) {
        let el = ctx.el();
        let seg = if el.is_choice() { format!("{}.ofType({})", &el.name[..el.name.len() - 3], upper_first_if_complex(ty)) } else { name.to_owned() };
        let base_path = format!("{path}.{seg}");
        let repeats = el.repeats();
        let values = as_list(value, name, repeats, &base_path, out);
        let exts = as_list(ext, &format!("_{name}"), repeats, &base_path, out);
        if value.is_some() && ext.is_some() && value.is_some_and(Value::is_array) && values.len() != exts.len() && !exts.is_empty() {
            out.push(issue(&base_path, Severity::Error, Rule::ArrayShape, format!("{name} has {} items but _{name} has {}", values.len(), exts.len())));
        }
        let n = values.len().max(exts.len());
        let mut items = Vec::with_capacity(n);
        for i in 0..n {
            let v = values.get(i).copied().flatten();
            let x = exts.get(i).copied().flatten();
            let item_path = if repeats { format!("{base_path}[{i}]") } else { base_path.clone() };
            if v.is_none() && x.is_none() {
                out.push(issue(&item_path, Severity::Error, Rule::Empty, format!("a null in {name} needs a non-null partner at the same place in _{name}")));
                continue;
            }
            items.push(Item { value: v, ext: x, path: item_path, ty: ty.to_owned() });
        }
        if (items.len() as u64) < el.min {
            out.push(issue(path, Severity::Error, Rule::CardinalityMin, format!("{}: minimum required = {}, but only found {}", el.path, el.min, items.len())));
        }
        if let Some(max) = el.max {
            if items.len() as u64 > max {
                let at = if max == 0 { items[0].path.clone() } else { base_path.clone() };
                out.push(issue(&at, Severity::Error, Rule::CardinalityMax, format!("{}: maximum allowed = {max}, but found {}", el.path, items.len())));
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
                Some(o) if o.is_empty() => out.push(issue(path, Severity::Error, Rule::Empty, "an empty object is not a value (leave it out)".into())),
                Some(_) => {
                    if let Some(st) = self.type_structure(if primitives::is_primitive(ty) { ty } else { "Element" }) {
                        let ectx = Ctx { st, idx: 0 };
                        let mut sub = Vec::new();
                        self.validate_complex(x, &ectx, "Element", path, res, true, &mut sub);
                        out.extend(sub.into_iter().filter(|i| i.rule != Rule::CardinalityMin));
                    }
                }
                None => out.push(issue(path, Severity::Error, Rule::JsonType, format!("the _ partner of a primitive is a JSON object, not {}", primitives::json_kind(x)))),
            }
        }
        let Some(v) = item.value else {
            return;
        };
        if primitives::is_primitive(ty) {
            if let Err((kind, why)) = primitives::check(ty, v) {
                let rule = if kind { Rule::JsonType } else if v.as_str() == Some("") { Rule::Empty } else { Rule::PrimitiveFormat };
                out.push(issue(path, Severity::Error, rule, why));
                return;
            }
        } else if matches!(ty, "Resource" | "DomainResource") || (v.get("resourceType").is_some() && self.is_resource_type(ty)) {
            // A type's profiles are alternatives: the resource must conform to one of them.
            let profiles: Vec<Arc<Structure>> =
                ctx.el().types.iter().filter(|t| t.code == ty).flat_map(|t| t.profiles.iter()).filter_map(|p| self.structure(p)).collect();
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
                out.push(issue(path, Severity::Error, Rule::JsonType, format!("a {ty} is a JSON object, not {}", primitives::json_kind(v))));
                return;
            };
            if obj.is_empty() {
                out.push(issue(path, Severity::Error, Rule::Empty, "an empty object is not a value (leave it out)".into()));
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
                    out.push(issue(path, severity, Rule::UnknownExtension, format!("extension {url} is not defined in the loaded packages")));
                }
                self.validate_complex(v, ctx, "Extension", path, res, false, out);
            }
        }
    }

    /// fixed, pattern, binding, min/max values, length and invariants of one value.
    fn check_element_rules(&self, ctx: &Ctx, ty: &str, v: &Value, path: &str, res: Res<'_>, out: &mut Vec<Issue>) {
        let el = ctx.el();
        if let Some(f) = &el.fixed {
            if !equals_fixed(v, f) {
                out.push(issue(path, Severity::Error, Rule::Fixed, format!("value must be exactly {f}, but is {v}")));
            }
        }
        if let Some(p) = &el.pattern {
            if !contains_pattern(v, p) {
                out.push(issue(path, Severity::Error, Rule::Pattern, format!("value must contain the pattern {p}, but is {v}")));
            }
        }
        if let Some(max) = el.max_length {
            if v.as_str().is_some_and(|s| s.chars().count() as u64 > max) {
                out.push(issue(path, Severity::Error, Rule::PrimitiveFormat, format!("longer than the maximum length {max}")));
            }
        }
        self.check_range(el, ty, v, path, out);
        match ty {
            "Reference" => self.check_reference_target(el, v, path, out),
            "Attachment" => check_attachment(v, path, out),
            _ => {}
        }
        if let Some(b) = &el.binding {
            self.check_binding(&b.strength, &b.value_set, ty, v, path, out);
        }
        self.check_invariants(ctx, ty, v, path, res, out);
    }

    fn check_range(&self, el: &Element, ty: &str, v: &Value, path: &str, out: &mut Vec<Issue>) {
        // A date bounded by a duration: the minimum is today minus it, the maximum today plus it.
        if let (Some(text), true) = (v.as_str(), matches!(ty, "date" | "dateTime" | "instant")) {
            for (bound, is_min) in [(&el.min_value, true), (&el.max_value, false)] {
                let Some(b) = bound.as_ref().filter(|b| b["value"].is_number() && b.get("code").or(b.get("unit")).is_some()) else { continue };
                let Some(limit) = today_plus(b, if is_min { -1 } else { 1 }) else { continue };
                let day = text.get(..10).unwrap_or(text);
                let bad = if is_min { day < limit.as_str() } else { day > limit.as_str() };
                if bad && day.len() == 10 {
                    let what = if is_min { "before the minimum" } else { "after the maximum" };
                    out.push(issue(path, Severity::Error, Rule::Range, format!("{text} is {what} {limit} (today {} {})", if is_min { "minus" } else { "plus" }, b["value"])));
                }
            }
            return;
        }
        let num = |x: &Value| -> Option<f64> {
            match ty {
                "Quantity" | "Age" | "Duration" | "Count" | "Distance" | "SimpleQuantity" => x["value"].as_f64(),
                _ => x.as_f64(),
            }
        };
        let text = |x: &Value| x.as_str().map(str::to_owned);
        for (bound, is_min) in [(&el.min_value, true), (&el.max_value, false)] {
            let Some(b) = bound else { continue };
            let bad = match (num(v), num(b)) {
                (Some(x), Some(lim)) => if is_min { x < lim } else { x > lim },
                _ => match (text(v), text(b)) {
                    // dates and times of the same precision compare as text
                    (Some(x), Some(lim)) if x.len() == lim.len() => if is_min { x < lim } else { x > lim },
                    _ => false,
                },
            };
            if bad {
                let what = if is_min { "below the minimum" } else { "above the maximum" };
                out.push(issue(path, Severity::Error, Rule::Range, format!("value {v} is {what} {b}")));
            }
        }
    }

    /// A reference's resource type (from `Type/id`, or an absolute URL ending in it) must be one its element's
    /// target profiles allow.
    fn check_reference_target(&self, el: &Element, v: &Value, path: &str, out: &mut Vec<Issue>) {
        let Some(reference) = v["reference"].as_str() else { return };
        if reference.starts_with('#') || reference.starts_with("urn:") {
            return;
        }
        let targets: Vec<&String> = el.types.iter().filter(|t| t.code == "Reference").flat_map(|t| t.target_profiles.iter()).collect();
        if targets.is_empty() {
            return;
        }
        let parts: Vec<&str> = reference.split('/').collect();
        let n = parts.len();
        let at = if n >= 4 && parts[n - 2] == "_history" { n - 4 } else if n >= 2 { n - 2 } else { return };
        let rt = parts[at];
        if !self.is_resource_type(rt) {
            return;
        }
        let mut allowed = Vec::new();
        for t in targets {
            // The profile's type (`.../vitalsigns` is an Observation); a profile not loaded is not checked.
            let ty = match self.structure(t) {
                Some(st) => st.type_name.clone(),
                None => match t.strip_prefix("http://hl7.org/fhir/StructureDefinition/") {
                    Some(core) if self.is_resource_type(core) || core == "Resource" => core.to_owned(),
                    _ => return,
                },
            };
            if ty == "Resource" || ty == rt {
                return;
            }
            allowed.push(ty);
        }
        out.push(issue(path, Severity::Error, Rule::Type, format!("reference to a {rt} ({reference}), but the target must be one of {}", allowed.join(", "))));
    }

    /// Rules of a Bundle that its definition cannot say: every `fullUrl` is absolute, and search results
    /// have ids.
    fn check_bundle(&self, v: &Value, path: &str, out: &mut Vec<Issue>) {
        let searchset = v["type"] == "searchset";
        for (i, e) in v["entry"].as_array().into_iter().flatten().enumerate() {
            let at = format!("{path}.entry[{i}]");
            if let Some(full) = e["fullUrl"].as_str() {
                let scheme = full.split_once(':').is_some_and(|(s, _)| {
                    !s.is_empty() && s.starts_with(|c: char| c.is_ascii_alphabetic()) && s.chars().all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
                });
                if !scheme {
                    out.push(issue(&at, Severity::Error, Rule::Resource, format!("the fullUrl must be an absolute URL (not '{full}')")));
                }
            }
            if searchset && e["resource"].is_object() {
                let mode = e["search"]["mode"].as_str();
                let rt = e["resource"]["resourceType"].as_str().unwrap_or_default();
                if mode == Some("outcome") && rt != "OperationOutcome" {
                    out.push(issue(&format!("{at}.resource"), Severity::Error, Rule::Resource, format!("search.mode is outcome, but this is not an OperationOutcome ({rt})")));
                }
                // An OperationOutcome without a search mode is the search's own outcome; anything else is a
                // result, and results have ids.
                let result = matches!(mode, Some("match" | "include")) || (mode.is_none() && rt != "OperationOutcome");
                if result && e["resource"]["id"].is_null() {
                    out.push(issue(&format!("{at}.resource"), Severity::Error, Rule::Resource, "search results must have ids".into()));
                }
            }
        }
        check_bundle_references(v, path, out);
    }

    fn check_binding(&self, strength: &str, vs: &str, ty: &str, v: &Value, path: &str, out: &mut Vec<Issue>) {
        let severity = match strength {
            "required" => Severity::Error,
            "extensible" => Severity::Warning,
            _ => return,
        };
        let codings: Vec<(Option<&str>, &str)> = match ty {
            "code" | "string" | "uri" => v.as_str().map(|c| vec![(None, c)]).unwrap_or_default(),
            "Coding" => v["code"].as_str().map(|c| vec![(v["system"].as_str(), c)]).unwrap_or_default(),
            "Quantity" | "Age" | "Duration" | "Count" | "Distance" | "SimpleQuantity" | "Money" => {
                v["code"].as_str().map(|c| vec![(v["system"].as_str(), c)]).unwrap_or_default()
            }
            "CodeableConcept" => v["coding"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["code"].as_str().map(|code| (c["system"].as_str(), code)))
                .collect(),
            _ => return,
        };
        if codings.is_empty() {
            return;
        }
        let exp = match self.expansion(vs) {
            Ok(e) => e,
            Err(NotListable(why)) => {
                out.push(issue(path, Severity::Information, Rule::ValueSetNotChecked, format!("{strength} binding not checked: {why}")));
                return;
            }
        };
        let in_set = |(s, c): &(Option<&str>, &str)| match (ty, s) {
            ("code" | "string" | "uri", _) => exp.contains(None, c),
            (_, Some(s)) => exp.contains(Some(s), c),
            (_, None) => false,
        };
        if !codings.iter().any(in_set) {
            let shown: Vec<String> = codings.iter().map(|(s, c)| s.map_or_else(|| (*c).to_owned(), |s| format!("{s}#{c}"))).collect();
            let rule = if severity == Severity::Error { Rule::BindingRequired } else { Rule::BindingExtensible };
            out.push(issue(path, severity, rule, format!("{} is not in the value set {vs} ({strength} binding)", shown.join(", "))));
        }
    }

    fn check_invariants(&self, ctx: &Ctx, ty: &str, v: &Value, path: &str, res: Res<'_>, out: &mut Vec<Issue>) {
        let Some(engine) = &self.engine else { return };
        let el = ctx.el();
        let element_path = ctx.st.element(ctx.st.content_of(ctx.idx)).path.clone();
        for c in &el.constraints {
            let Some(expr) = &c.expression else { continue };
            if STRUCTURAL_INVARIANTS.contains(&c.key.as_str()) {
                continue;
            }
            if let Some((_, why)) = ENGINE_GAPS.iter().find(|(k, _)| *k == c.key) {
                out.push(issue(path, Severity::Information, Rule::Invariant, format!("constraint {} not checked: {why}", c.key)));
                continue;
            }
            let expr = R4_ERRATA.iter().find(|(k, wrong, _)| *k == c.key && wrong == expr).map_or(expr.as_str(), |(_, _, right)| right);
            match engine.holds(expr, v, ty, &element_path, res.this, res.root) {
                Ok(true) => {}
                Ok(false) => {
                    let severity = if c.severity == "warning" { Severity::Warning } else { Severity::Error };
                    out.push(issue(path, severity, Rule::Invariant, format!("constraint {} failed: {} ({expr})", c.key, c.human)));
                }
                Err(why) => out.push(issue(
                    path,
                    Severity::Information,
                    Rule::Invariant,
                    format!("constraint {} not checked: the FHIRPath engine cannot evaluate {expr}: {why}", c.key),
                )),
            }
        }
    }

    /// Assigns each item to the slice its discriminators select, validates it against that slice, and checks
    /// each slice's cardinality and closed slicing.
    fn check_slices(&self, ctx: &Ctx, items: &[Item<'_>], parent_path: &str, res: Res<'_>, out: &mut Vec<Issue>) {
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
                out.push(issue(parent_path, Severity::Information, Rule::SliceCardinality, format!("slice {name} of {} not checked: its discriminator cannot be evaluated here", el.path)));
                continue;
            }
            if counts[si] < se.min {
                out.push(issue(parent_path, Severity::Error, Rule::SliceCardinality, format!("{}: slice '{name}' requires at least {}, but found {}", el.path, se.min, counts[si])));
            }
            if let Some(max) = se.max {
                if counts[si] > max {
                    out.push(issue(parent_path, Severity::Error, Rule::SliceCardinality, format!("{}: slice '{name}' allows at most {max}, but found {}", el.path, counts[si])));
                }
            }
        }
    }

    /// Whether `item` belongs to slice `sctx`: `None` when a discriminator cannot be evaluated.
    fn slice_matches(&self, sctx: &Ctx, discriminators: &[crate::structure::Discriminator], item: &Item<'_>) -> Option<bool> {
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
                    } else if let Some(b) = tel.binding.as_ref().filter(|b| b.strength == "required" || d.path == "$this") {
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
                                self.validate_complex(v, &c, &item.ty, &item.path, Res { this: v, root: v }, true, &mut sub);
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
                    if let Some(&s) = cur.el().slices.iter().find(|&&s| cur.st.element(s).types.iter().any(|x| &x.code == t)) {
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
                        cur_ty = next.el().types.first().map(|t| t.code.clone()).unwrap_or_else(|| "BackboneElement".into());
                    }
                    cur = next;
                }
            }
        }
        Some(cur)
    }
}

/// References inside a Bundle's entries that the Bundle itself must resolve unambiguously: a relative
/// `Type/id` that more than one entry matches, or a `Type/id/_history/v` whose entries all have other versions.
/// (References to resources outside the Bundle are allowed and not reported.)
fn check_bundle_references(bundle: &Value, path: &str, out: &mut Vec<Issue>) {
    let entries: Vec<&Value> = bundle["entry"].as_array().map(|a| a.iter().collect()).unwrap_or_default();
    let key = |e: &Value| (e["resource"]["resourceType"].as_str().map(str::to_owned), e["resource"]["id"].as_str().map(str::to_owned));
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
        let same: Vec<&&Value> = entries.iter().filter(|e| key(e) == (Some(rt.to_owned()), Some(id.to_owned()))).collect();
        match version {
            None if same.len() > 1 => out.push(issue(&at, Severity::Error, Rule::Resource, format!("{} entries of the Bundle match the reference {reference}", same.len()))),
            Some(v) if !same.is_empty() && !same.iter().any(|e| e["resource"]["meta"]["versionId"] == v) => out.push(issue(
                &at,
                Severity::Error,
                Rule::Resource,
                format!("the Bundle holds {rt}/{id}, but not version {v} that {reference} names"),
            )),
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

/// An Attachment's `size` must be the size of its `data`.
fn check_attachment(v: &Value, path: &str, out: &mut Vec<Issue>) {
    let (Some(data), Some(size)) = (v["data"].as_str(), v["size"].as_u64()) else { return };
    let compact: Vec<u8> = data.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let pad = compact.iter().rev().take_while(|&&b| b == b'=').count();
    let actual = (compact.len() / 4 * 3).saturating_sub(pad) as u64;
    if actual != size {
        out.push(issue(path, Severity::Error, Rule::Resource, format!("stated attachment size {size} does not match the size of its data, {actual}")));
    }
}

/// Today (UTC) plus `sign` times a duration (`{"value": 100, "code": "a"}`), as `YYYY-MM-DD`.
fn today_plus(duration: &Value, sign: i64) -> Option<String> {
    let amount = duration["value"].as_f64()? as i64 * sign;
    let unit = duration["code"].as_str().or(duration["unit"].as_str())?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs() as i64;
    let days_now = now.div_euclid(86_400);
    let (y, m, d) = civil_from_days(days_now);
    let (y, m, d) = match unit {
        "a" | "year" | "years" => (y + amount, m, d),
        "mo" | "month" | "months" => {
            let total = y * 12 + (i64::from(m) - 1) + amount;
            (total.div_euclid(12), (total.rem_euclid(12) + 1) as u32, d)
        }
        "wk" | "week" | "weeks" => civil_from_days(days_now + 7 * amount),
        "d" | "day" | "days" => civil_from_days(days_now + amount),
        _ => return None,
    };
    // 29 February or the 31st moved into a shorter month: the month's last day.
    let last = match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    Some(format!("{y:04}-{m:02}-{:02}", d.min(last)))
}

/// The civil date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
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
                                .filter(|(k, _)| k.strip_prefix(name.as_str()).is_some_and(|r| r.starts_with(|c: char| c.is_ascii_uppercase())))
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

/// The type of an open-type (`*`) choice key suffix: `valueString` -> `string`, `valueQuantity` -> `Quantity`.
fn open_type(suffix: &str) -> String {
    const PRIMITIVES: [&str; 20] = [
        "Boolean", "Integer", "Integer64", "UnsignedInt", "PositiveInt", "Decimal", "String", "Markdown", "Code", "Id", "Uri",
        "Url", "Canonical", "Oid", "Uuid", "Base64Binary", "Instant", "Date", "DateTime", "Time",
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
fn as_list<'v>(v: Option<&'v Value>, key: &str, repeats: bool, base_path: &str, out: &mut Vec<Issue>) -> Vec<Option<&'v Value>> {
    match v {
        None => Vec::new(),
        Some(Value::Array(a)) => {
            if !repeats {
                out.push(issue(base_path, Severity::Error, Rule::ArrayShape, format!("{key} is a single value, not an array")));
            }
            if a.is_empty() {
                out.push(issue(base_path, Severity::Error, Rule::Empty, format!("{key} is an empty array (leave it out)")));
            }
            a.iter().map(|x| if x.is_null() { None } else { Some(x) }).collect()
        }
        Some(Value::Null) => {
            out.push(issue(base_path, Severity::Error, Rule::Empty, format!("{key} is null (leave it out)")));
            Vec::new()
        }
        Some(x) => {
            if repeats {
                out.push(issue(base_path, Severity::Error, Rule::ArrayShape, format!("{key} repeats, so it is written as an array")));
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn discriminator_paths_parse() {
        assert_eq!(parse_steps("url"), Some(vec![Step::Name("url".into())]));
        assert_eq!(
            parse_steps("extension('http://x.org/a.b').value.ofType(Coding)"),
            Some(vec![Step::Extension("http://x.org/a.b".into()), Step::Name("value".into()), Step::OfType("Coding".into())])
        );
        assert_eq!(parse_steps("resource.resolve()"), Some(vec![Step::Name("resource".into()), Step::Resolve]));
        assert_eq!(parse_steps("code.where(x)"), None);
        assert_eq!(parse_steps("extension(é)"), None);
        assert_eq!(parse_steps("extension('é.x').url"), Some(vec![Step::Extension("é.x".into()), Step::Name("url".into())]));
    }

    #[test]
    fn patterns_and_fixed_values() {
        let inst = json!({"coding":[{"system":"s","code":"a","display":"A"}],"text":"t"});
        assert!(contains_pattern(&inst, &json!({"coding":[{"system":"s","code":"a"}]})));
        assert!(!contains_pattern(&inst, &json!({"coding":[{"system":"s","code":"b"}]})));
        assert!(equals_fixed(&json!(true), &json!(true)));
        assert!(!equals_fixed(&json!(false), &json!(true)));
        assert!(!equals_fixed(&inst, &json!({"text":"t"})));
        let v = json!({"valueQuantity": {"value": 1}, "code": {"coding": [{"code": "x"}]}});
        assert_eq!(navigate(&v, &parse_steps("code.coding.code").unwrap()), vec![&json!("x")]);
        assert_eq!(navigate(&v, &parse_steps("value.ofType(Quantity)").unwrap()).len(), 1);
        assert_eq!(navigate(&v, &parse_steps("value").unwrap()).len(), 1);
    }
}
