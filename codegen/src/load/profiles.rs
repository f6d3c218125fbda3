//! Profiles of implementation guides (US Core, CARIN Blue Button) → [`ProfileModule`]s.
//!
//! Reads the snapshots of the IG's StructureDefinitions with `derivation: constraint` on a resource type and keeps
//! the constraints that can be checked cheaply and exactly against the core model: cardinalities tighter than the
//! core element's (`base` in the snapshot), fixed and pattern values on primitives, `Coding`s and
//! `CodeableConcept`s, narrowed choice types, narrowed reference targets, required bindings of `code` elements to
//! value sets that can be listed, and slices told apart by a value or pattern (extensions by `url`, CARIN's
//! adjudication and supporting-info slices by `category`). Extension slices whose definition is another
//! StructureDefinition (US Core race) are checked with that definition's snapshot. Everything else is listed in
//! [`ProfileDef::unchecked`] so that the generated docs say what is not checked.
//!
//! Paths are resolved against the core [`VersionModel`] already built, so the emitter gets Rust field names and
//! types and never reads JSON.

use super::refs::Canonical;
use super::terminology::Terminology;
use super::LoadError;
use crate::manifest::ProfileSpec;
use crate::model::*;
use crate::naming;
use crate::packages::Package;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

/// Deepest nesting of extension definitions followed (an extension slice typed by a profile with slices typed by
/// profiles...).
const MAX_EXTENSION_DEPTH: usize = 3;

/// Everything the profile loader looks things up in.
pub struct Context<'a> {
    /// The core model of the version (structs and choice enums by name).
    pub model: &'a VersionModel,
    /// Core StructureDefinitions (for the core elements' bindings and reference targets).
    pub core: &'a Package,
    /// The IG package first, then the packages it depends on, in resolution order: a canonical resolves to the
    /// first of these that defines it (extension definitions may come from a dependency, e.g. CARIN uses US
    /// Core's race), never to another IG generated beside it.
    pub scope: &'a [&'a Package],
    /// Core and IG terminology.
    pub term: &'a Terminology<'a>,
}

struct Index<'a> {
    structs: HashMap<&'a str, &'a StructDef>,
    choices: HashMap<&'a str, &'a ChoiceDef>,
    core_elements: HashMap<&'a str, &'a Value>,
    /// Canonical URL (also `url|version`) → resource type (core resources and the scope's profiles).
    url_types: HashMap<Canonical, &'a str>,
    /// Extension definitions by URL (also `url|version`).
    extensions: HashMap<Canonical, &'a Value>,
    /// Rust names of the core module (for choosing names that do not shadow them).
    core_names: BTreeSet<String>,
    /// The resource types of the version, generated or left out by the configuration.
    resource_types: HashMap<&'a str, ResourceName>,
}

impl Index<'_> {
    /// A canonical reference resolved in the scope: `url|version` to exactly that version when the scope has it,
    /// else (and for a plain `url`) to the scope's definition of the URL.
    fn canonical<'m, T>(&self, map: &'m HashMap<Canonical, T>, reference: &Canonical) -> Option<&'m T> {
        map.get(reference).or_else(|| map.get(&Canonical::new(reference.url(), None)))
    }

    /// The name of a struct of the core model, when there is one.
    fn type_name(&self, name: &str) -> Option<TypeName> {
        self.structs.get(name).map(|s| TypeName::new(s.name.as_str()))
    }
}

/// Loads one IG's profiles: the index of what they resolve against, the IG's resource profiles, then each
/// profile's checks and accessors.
pub fn load_profiles(cx: &Context<'_>, spec: &ProfileSpec, ig: &Package) -> Result<ProfileModule, LoadError> {
    let ix = Index::new(cx);
    let mut module = ProfileModule {
        module: spec.module.clone(),
        feature: naming::profile_feature(&cx.model.module, &spec.feature),
        package: spec.package.clone(),
        resources: BTreeSet::new(),
        profiles: Vec::new(),
        extensions: Vec::new(),
        code_enums: Vec::new(),
        coding_enums: Vec::new(),
        shared: Vec::new(),
    };
    let sds = resource_profiles(cx, spec, ig)?;
    // The resources the module's feature turns on, known before any profile is walked (core code enums compiled
    // with one of them are reused instead of generated again).
    module.resources.extend(sds.iter().filter_map(|sd| ix.resource_types.get(sd["type"].as_str()?).cloned()));
    let mut names = BTreeSet::new();
    for sd in sds {
        let profile = load_profile(cx, &ix, &mut module, sd)?;
        if ix.core_names.contains(&profile.name) || !names.insert(profile.name.clone()) {
            return Err(LoadError::NameClash(format!("{} (profile {})", profile.name, profile.url())));
        }
        module.profiles.push(profile);
    }
    Ok(module)
}

impl<'a> Index<'a> {
    /// The core model's structs, choice enums, names and elements, and the canonicals of the core and the scope.
    fn new(cx: &Context<'a>) -> Self {
        let mut ix = Index {
            structs: HashMap::new(),
            choices: HashMap::new(),
            core_elements: HashMap::new(),
            url_types: HashMap::new(),
            extensions: HashMap::new(),
            core_names: BTreeSet::new(),
            resource_types: cx
                .model
                .resources
                .iter()
                .map(|r| r.name.as_str())
                .chain(cx.model.omitted_resources.iter().map(|r| r.as_str()))
                .map(|r| (r, ResourceName::new(r)))
                .collect(),
        };
        for t in cx.model.datatypes.iter().chain(&cx.model.resources) {
            for s in &t.structs {
                ix.structs.insert(&s.name, s);
                ix.core_names.insert(s.name.clone());
            }
            for c in &t.choices {
                ix.choices.insert(&c.name, c);
                ix.core_names.insert(c.name.clone());
            }
        }
        ix.core_names.extend(cx.model.code_enums.iter().map(|e| e.name.clone()));
        for sd in cx.core.of_type("StructureDefinition") {
            if sd["derivation"].as_str() == Some("specialization") {
                for e in sd["snapshot"]["element"].as_array().into_iter().flatten() {
                    if let Some(p) = e["path"].as_str() {
                        ix.core_elements.entry(p).or_insert(e);
                    }
                }
            }
        }
        ix.add_canonicals(cx);
        ix
    }

    /// The StructureDefinitions of the core and the scope by canonical, lowest priority first, so that the IG's
    /// own definitions replace its dependencies' (and those the core's).
    fn add_canonicals(&mut self, cx: &Context<'a>) {
        let scope_sds = cx.scope.iter().rev().flat_map(|p| p.of_type("StructureDefinition"));
        for sd in cx.core.of_type("StructureDefinition").iter().chain(scope_sds) {
            if let (Some(url), Some(ty)) = (sd["url"].as_str(), sd["type"].as_str()) {
                self.url_types.insert(Canonical::new(url, None), ty);
                if ty == "Extension" {
                    self.extensions.insert(Canonical::new(url, None), sd);
                }
                // A versioned reference (`url|3.1.1`) finds exactly that version.
                if let Some(v) = sd["version"].as_str() {
                    self.url_types.insert(Canonical::new(url, Some(v)), ty);
                    if ty == "Extension" {
                        self.extensions.insert(Canonical::new(url, Some(v)), sd);
                    }
                }
            }
        }
    }
}

/// The IG's profiles of generated resources, by name; an error for one without a snapshot (profiles are read
/// from their snapshots only, no differential is applied here).
fn resource_profiles<'p>(cx: &Context<'_>, spec: &ProfileSpec, ig: &'p Package) -> Result<Vec<&'p Value>, LoadError> {
    let mut sds: Vec<&Value> = ig
        .of_type("StructureDefinition")
        .iter()
        .filter(|sd| {
            sd["derivation"].as_str() == Some("constraint")
                && sd["kind"].as_str() == Some("resource")
                && sd["type"].as_str().is_some_and(|t| cx.model.resources.iter().any(|r| r.name == t))
        })
        .collect();
    if let Some(sd) = sds.iter().find(|sd| !sd["snapshot"]["element"].is_array()) {
        return Err(LoadError::Shape {
            sd: sd["url"].as_str().unwrap_or_default().to_owned(),
            path: sd["type"].as_str().unwrap_or_default().to_owned(),
            message: format!("profile without a snapshot in {} (profiles need snapshots)", spec.package),
        });
    }
    sds.sort_by_key(|sd| sd["name"].as_str().unwrap_or_default().to_owned());
    Ok(sds)
}

/// One profile: its view's name, its checks and accessors (extension structs and enums it needs go into
/// `module`).
fn load_profile(cx: &Context<'_>, ix: &Index<'_>, module: &mut ProfileModule, sd: &Value) -> Result<ProfileDef, LoadError> {
    let base = sd["type"].as_str().unwrap_or_default();
    let (Some(base_name), Some(root_type)) = (ix.resource_types.get(base).cloned(), ix.type_name(base)) else {
        return Err(LoadError::Shape {
            sd: sd["url"].as_str().unwrap_or_default().to_owned(),
            path: base.to_owned(),
            message: "the profile's resource has no struct in the core model".to_owned(),
        });
    };
    let raw = sd["name"].as_str().unwrap_or(base);
    let name = naming::profile_view(raw, sd["title"].as_str());
    let raw = raw.strip_suffix("Profile").unwrap_or(raw);
    let mut w = Walker { cx, ix, module, unchecked: Vec::new(), accessors: Vec::new() };
    let root = w.walk(sd, &root_type, Snapshot::Profile);
    let (unchecked, accessors) = (w.unchecked, w.accessors);
    let title = sd["title"].as_str().unwrap_or(raw);
    let description = sd["description"].as_str().unwrap_or_default();
    Ok(ProfileDef {
        file: naming::module(&name),
        name,
        canonical: Canonical::new(sd["url"].as_str().unwrap_or_default(), sd["version"].as_str()),
        base: base_name,
        doc: format!("{title}\n\n{}", first_paragraph(description)),
        root,
        accessors,
        unchecked,
    })
}

fn first_paragraph(text: &str) -> &str {
    text.split("\n\n").next().unwrap_or_default().trim()
}

/// A node under construction: the values of one element (or slice), a struct.
struct NodeB {
    /// The struct of the node's values.
    ctx: TypeName,
    checks: Vec<Check>,
    children: Vec<ChildB>,
    /// Slicing of the node's fields, by JSON name: the discriminators (type, path).
    slicing: HashMap<String, Vec<Discriminator>>,
    /// For a slice's node: the JSON name of the child that is its discriminator (its fixed value is the slice's
    /// predicate, not checked again).
    discriminator: Option<String>,
    level: Level,
}

/// One discriminator of a slicing: how and where slices are told apart.
#[derive(Debug, Clone)]
struct Discriminator {
    kind: DiscriminatorKind,
    /// The FHIRPath (a plain path, `$this`, ...) of what is compared.
    path: String,
}

/// A discriminator's `type`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum DiscriminatorKind {
    Value,
    Pattern,
    Exists,
    Type,
    Profile,
    /// A code FHIR does not define, kept for the note about the slice.
    Other(String),
}

impl DiscriminatorKind {
    fn of(code: &str) -> Self {
        match code {
            "value" => Self::Value,
            "pattern" => Self::Pattern,
            "exists" => Self::Exists,
            "type" => Self::Type,
            "profile" => Self::Profile,
            other => Self::Other(other.to_owned()),
        }
    }

    fn code(&self) -> &str {
        match self {
            Self::Value => "value",
            Self::Pattern => "pattern",
            Self::Exists => "exists",
            Self::Type => "type",
            Self::Profile => "profile",
            Self::Other(code) => code,
        }
    }
}

/// Which snapshot a walk is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Snapshot {
    /// The profile itself: its extension slices and list slices get typed accessors.
    Profile,
    /// The definition of an extension used by the profile (or by such a definition), walked for its checks only,
    /// `depth` definitions deep (1 for an extension of the profile).
    Extension { depth: usize },
}

impl Snapshot {
    fn depth(self) -> usize {
        match self {
            Snapshot::Profile => 0,
            Snapshot::Extension { depth } => depth,
        }
    }

    /// The snapshot of an extension definition used in this one.
    fn inner(self) -> Snapshot {
        Snapshot::Extension { depth: self.depth() + 1 }
    }
}

/// Where a node is in the profiled resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    /// The resource itself.
    Resource,
    /// A plain (not sliced) child of the resource: slices in it get associated functions.
    Child,
    /// Deeper, or in an extension definition walked for its checks.
    Deeper,
}

/// A child under construction (see [`CheckChild`]).
struct ChildB {
    field: FieldRef,
    label: String,
    slice: Option<SlicePredicate>,
    /// The choice variant the element is narrowed to.
    variant: Option<ChoiceVariantRef>,
    sub: Sub,
}

/// A child's checks: a node still being built, or a finished subtree (an extension definition's).
enum Sub {
    Arena(usize),
    Done(CheckNode),
}

/// One snapshot being walked: its elements by id, the nodes built so far, and which element id each node is for.
struct Tree<'s> {
    sd_url: &'s str,
    by_id: HashMap<&'s str, &'s Value>,
    arena: Vec<NodeB>,
    node_of: HashMap<String, usize>,
}

impl<'s> Tree<'s> {
    fn new(sd: &'s Value, elements: &'s [Value], root_ctx: &TypeName, snapshot: Snapshot) -> Self {
        let root = NodeB {
            ctx: root_ctx.clone(),
            checks: Vec::new(),
            children: Vec::new(),
            slicing: HashMap::new(),
            discriminator: None,
            level: if snapshot == Snapshot::Profile { Level::Resource } else { Level::Deeper },
        };
        let root_id = elements.first().and_then(|e| e["id"].as_str()).unwrap_or(root_ctx).to_owned();
        Tree {
            sd_url: sd["url"].as_str().unwrap_or_default(),
            by_id: elements.iter().filter_map(|e| Some((e["id"].as_str()?, e))).collect(),
            arena: vec![root],
            node_of: HashMap::from([(root_id, 0)]),
        }
    }

    /// The node of the element's values (of type `ctx`), made on first use.
    fn child_node(&mut self, el: &Placed, ctx: &TypeName, variant: Option<ChoiceVariantRef>) -> usize {
        let key = canonical_id(el.id);
        if let Some(&i) = self.node_of.get(&key) {
            return i;
        }
        let level = if self.arena[el.p].level == Level::Resource && el.predicate.is_none() { Level::Child } else { Level::Deeper };
        let discriminator = match &el.predicate {
            Some(
                SlicePredicate::FieldEquals { field: f, .. }
                | SlicePredicate::FieldCodings { field: f, .. }
                | SlicePredicate::FieldCodingIn { field: f, .. },
            ) => {
                Some(f.json.clone())
            }
            Some(SlicePredicate::Url(_)) => Some("url".to_owned()),
            _ => None,
        };
        self.arena.push(NodeB { ctx: ctx.clone(), checks: Vec::new(), children: Vec::new(), slicing: HashMap::new(), discriminator, level });
        let i = self.arena.len() - 1;
        self.arena[el.p].children.push(ChildB { field: el.field.clone(), label: el.label.clone(), slice: el.predicate.clone(), variant, sub: Sub::Arena(i) });
        self.node_of.insert(key, i);
        i
    }
}

/// One element of a snapshot, placed: the field of its parent's node it constrains, and which items of it.
struct Placed<'s> {
    e: &'s Value,
    id: &'s str,
    parent_id: &'s str,
    /// The parent's node.
    p: usize,
    field: FieldRef,
    /// The field's path name, with `:slice` for a slice.
    label: String,
    path: &'s str,
    codes: Vec<&'s str>,
    short: String,
    /// The slice name (none for a choice's type slice, which is the choice itself).
    slice: Option<&'s str>,
    type_slice: bool,
    /// How a slice's items are found; `None`: all the field's values.
    predicate: Option<SlicePredicate>,
    min: u32,
    max: Option<u32>,
}

impl Placed<'_> {
    fn check(&self, kind: CheckKind) -> Check {
        Check { field: self.field.clone(), label: self.label.clone(), doc: self.short.clone(), kind }
    }
}

struct Walker<'a, 'm> {
    cx: &'a Context<'a>,
    ix: &'a Index<'a>,
    module: &'m mut ProfileModule,
    unchecked: Vec<String>,
    accessors: Vec<Accessor>,
}

fn type_codes(e: &Value) -> Vec<&str> {
    let mut v: Vec<&str> = e["type"].as_array().into_iter().flatten().filter_map(|t| t["code"].as_str()).collect();
    v.dedup();
    v
}

fn fixed_value(e: &Value) -> Option<(&str, &Value)> {
    e.as_object()?.iter().find(|(k, _)| k.starts_with("fixed") || k.starts_with("pattern")).map(|(k, v)| (k.as_str(), v))
}

fn codings_of(key: &str, v: &Value) -> Option<(String, Vec<CodingPattern>)> {
    let coding = |c: &Value| CodingPattern {
        system: c["system"].as_str().map(str::to_owned),
        code: c["code"].as_str().map(str::to_owned),
    };
    if key.ends_with("CodeableConcept") {
        let list: Vec<CodingPattern> = v["coding"].as_array()?.iter().map(coding).collect();
        // A pattern with text or other parts than codings is not checked (not exact without them).
        let only_coding = v.as_object().is_some_and(|o| o.keys().all(|k| k == "coding"));
        (only_coding && !list.is_empty()).then(|| ("CodeableConcept".to_owned(), list))
    } else if key.ends_with("Coding") {
        let c = coding(v);
        (c.code.is_some() || c.system.is_some()).then(|| ("Coding".to_owned(), vec![c]))
    } else {
        None
    }
}

fn is_stringish(ty: &FieldType) -> bool {
    matches!(ty, FieldType::PlainString | FieldType::Primitive(Prim::String) | FieldType::Code(_))
}

/// The text of a fixed boolean or integer for a field of that primitive type (`fixedBoolean: true` → `true`).
fn fixed_scalar(v: &Value, ty: &FieldType) -> Option<String> {
    match (v, ty) {
        (Value::Bool(b), FieldType::Primitive(Prim::Bool)) => Some(b.to_string()),
        (Value::Number(n), FieldType::Primitive(Prim::Integer | Prim::Unsigned | Prim::Integer64)) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

fn max_of(m: Option<&str>) -> Option<u32> {
    match m {
        Some("*") | None => None,
        Some(n) => n.parse().ok(),
    }
}

impl Walker<'_, '_> {
    fn field(&self, ctx: &str, json: &str) -> Option<FieldRef> {
        let s = self.ix.structs.get(ctx)?;
        let f = s.fields.iter().find(|f| f.json == json)?;
        Some(FieldRef {
            json: f.json.clone(),
            rust: f.rust.clone(),
            path_name: f.path_name.clone(),
            cardinality: f.cardinality,
            storage: f.storage,
            ty: f.ty.clone(),
        })
    }

    fn note(&mut self, what: String) {
        if !self.unchecked.contains(&what) {
            self.unchecked.push(what);
        }
    }

    /// Resource types of a reference's target profiles; `None` when any resource may be the target (also when a
    /// target is not a resource type of the version, such as `Resource` or a logical model: nothing to check).
    fn targets(&self, e: &Value) -> Option<BTreeSet<ResourceName>> {
        let mut out = BTreeSet::new();
        for t in e["type"].as_array().into_iter().flatten().filter(|t| t["code"].as_str() == Some("Reference")) {
            let list = t["targetProfile"].as_array()?;
            for p in list {
                let ty = self.ix.canonical(&self.ix.url_types, &Canonical::parse(p.as_str()?)).copied()?;
                out.insert(self.ix.resource_types.get(ty)?.clone());
            }
        }
        (!out.is_empty()).then_some(out)
    }

    /// Walks one snapshot into a check tree whose root values are of type `root_ctx`: each element, in snapshot
    /// order, is placed on its parent's node ([`Walker::place`]), then turned into checks, and for complex values
    /// into a child node of its own.
    fn walk(&mut self, sd: &Value, root_ctx: &TypeName, snapshot: Snapshot) -> CheckNode {
        let elements: &[Value] = sd["snapshot"]["element"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        let mut tree = Tree::new(sd, elements, root_ctx, snapshot);
        for e in elements.iter().skip(1) {
            self.walk_element(&mut tree, e, snapshot);
        }
        finish(&mut tree.arena, 0)
    }

    /// One element: its checks on the parent's node, and the node of its values.
    fn walk_element<'s>(&mut self, tree: &mut Tree<'s>, e: &'s Value, snapshot: Snapshot) {
        let Some(el) = self.place(tree, e) else { return };
        self.cardinality_checks(tree, &el);
        if el.max == Some(0) {
            return;
        }
        let base_el = e["base"]["path"].as_str().and_then(|bp| self.ix.core_elements.get(bp)).copied();
        // A slice's own value is its predicate, and a slice's discriminator is checked by finding the slice.
        let own_value = el.predicate.is_none() && tree.arena[el.p].discriminator.as_deref() != Some(el.field.json.as_str());
        if own_value {
            self.fixed_value_checks(tree, &el);
        }
        self.code_binding_checks(tree, &el, base_el);
        if own_value {
            self.coding_binding_checks(tree, &el, base_el);
        }
        let values = self.narrow_choice(tree, &el);
        self.reference_checks(tree, &el, base_el);
        if let Some(s) = e["slicing"]["discriminator"].as_array() {
            let disc: Vec<Discriminator> = s
                .iter()
                .filter_map(|d| Some(Discriminator { kind: DiscriminatorKind::of(d["type"].as_str()?), path: d["path"].as_str()?.to_owned() }))
                .collect();
            tree.arena[el.p].slicing.insert(el.field.json.clone(), disc);
        }
        let Some((ctx, variant)) = values else { return };
        let idx = tree.child_node(&el, &ctx, variant);
        self.inline_extension(tree, &el, idx, &ctx, snapshot);
        if snapshot == Snapshot::Profile {
            self.slice_accessor(tree, &el, &ctx);
        }
    }

    /// Finds the element's parent node and the field of it the element constrains, and for a slice which items
    /// of the field it is about. `None` (noted when it matters) for what cannot be placed.
    fn place<'s>(&mut self, tree: &Tree<'s>, e: &'s Value) -> Option<Placed<'s>> {
        let id = e["id"].as_str()?;
        let (parent_id, seg) = split_id(id)?;
        // A type slice of a choice (`value[x]:valueCoding`) is the choice itself, for the values of its type.
        let type_slice = seg.split_once(':').is_some_and(|(n, _)| n.ends_with("[x]"));
        let (name, slice) = match seg.split_once(':') {
            Some((n, _)) if n.ends_with("[x]") => (n, None),
            Some((n, s)) => (n, Some(s)),
            None => (seg, None),
        };
        let p = *tree.node_of.get(&canonical_id(parent_id))?;
        let json = name.strip_suffix("[x]").unwrap_or(name);
        let Some(field) = self.field(&tree.arena[p].ctx, json) else {
            if e["min"].as_u64().unwrap_or(0) > 0 || e["max"].as_str() == Some("0") {
                self.note(format!("`{}`: not an element of the core type", e["path"].as_str().unwrap_or(id)));
            }
            return None;
        };
        let label = match slice {
            Some(s) => format!("{}:{s}", field.path_name),
            None => field.path_name.clone(),
        };
        let path = e["path"].as_str().unwrap_or(id);
        let predicate = match slice {
            None => None,
            Some(sname) => {
                let disc = tree.arena[p].slicing.get(&field.json).cloned().unwrap_or_default();
                match self.predicate(e, &field, &disc, &tree.by_id, id) {
                    Some(pred) => Some(pred),
                    None => {
                        let how: Vec<String> = disc.iter().map(|d| format!("{} on `{}`", d.kind.code(), d.path)).collect();
                        let what = fixed_value(e).map(|(k, _)| format!(", the slice's {k}")).unwrap_or_default();
                        self.note(format!("slice `{path}:{sname}` (discriminator: {}{what})", how.join(" and ")));
                        return None;
                    }
                }
            }
        };
        Some(Placed {
            e,
            id,
            parent_id,
            p,
            field,
            label,
            path,
            codes: type_codes(e),
            short: e["short"].as_str().unwrap_or_default().to_owned(),
            slice,
            type_slice,
            predicate,
            min: e["min"].as_u64().unwrap_or(0) as u32,
            max: max_of(e["max"].as_str()),
        })
    }

    /// A slice's cardinality, or the element's where it is narrower than the base's.
    fn cardinality_checks(&self, tree: &mut Tree, el: &Placed) {
        let (e, min, max) = (el.e, el.min, el.max);
        let checks = &mut tree.arena[el.p].checks;
        if let Some(pred) = &el.predicate {
            let field_max = if el.field.cardinality.is_many() { None } else { Some(1) };
            if min > 0 || (max.is_some() && max != field_max) {
                checks.push(el.check(CheckKind::Count { slice: Some(pred.clone()), min, max }));
            }
        } else {
            let base_min = e["base"]["min"].as_u64().unwrap_or(0) as u32;
            let base_max = if e["base"].is_object() {
                max_of(e["base"]["max"].as_str())
            } else if el.field.cardinality.is_many() {
                None
            } else {
                Some(1)
            };
            let narrower_max = match (max, base_max) {
                (Some(_), None) => true,
                (Some(m), Some(b)) => m < b,
                _ => false,
            };
            if min > base_min || narrower_max {
                push_unique(checks, el.check(CheckKind::Count { slice: None, min, max }));
            }
        }
    }

    /// Fixed and pattern values of the element itself.
    fn fixed_value_checks(&mut self, tree: &mut Tree, el: &Placed) {
        let Some((key, v)) = fixed_value(el.e) else { return };
        let checks = &mut tree.arena[el.p].checks;
        if let (Some(text), true) = (v.as_str(), is_stringish(&el.field.ty)) {
            checks.push(el.check(CheckKind::Fixed(text.to_owned())));
        } else if let Some(text) = fixed_scalar(v, &el.field.ty) {
            checks.push(el.check(CheckKind::Fixed(text)));
        } else if let (Some((ty, codings)), FieldType::Complex(n)) = (codings_of(key, v), &el.field.ty) {
            if *n == ty {
                checks.push(el.check(CheckKind::Pattern { type_name: n.clone(), codings }));
            }
        } else {
            self.note(format!("`{}`: {key}", el.path));
        }
    }

    /// Required binding of a `code` narrower than the core's (also of a choice narrowed to `code`, as an
    /// extension's value).
    fn code_binding_checks(&mut self, tree: &mut Tree, el: &Placed, base_el: Option<&Value>) {
        if el.codes != ["code"] || !(is_stringish(&el.field.ty) || matches!(el.field.ty, FieldType::Choice(_))) {
            return;
        }
        let Some(vs) = narrowed_required_binding(el.e, base_el) else { return };
        match self.cx.term.list(&vs) {
            Some(listed) => {
                let codes = listed.concepts.iter().map(|c| c.code.clone()).collect();
                push_unique(&mut tree.arena[el.p].checks, el.check(CheckKind::CodeIn { value_set: vs, codes }));
            }
            None => self.note(format!("`{}`: required binding to {vs} (not listable)", el.path)),
        }
    }

    /// Required binding of a `Coding` or `CodeableConcept` narrower than the core's, to a value set whose codings
    /// can be listed.
    fn coding_binding_checks(&mut self, tree: &mut Tree, el: &Placed, base_el: Option<&Value>) {
        let FieldType::Complex(type_name) = &el.field.ty else { return };
        if !((type_name == "CodeableConcept" || type_name == "Coding") && el.codes == [type_name.as_str()]) {
            return;
        }
        let Some(vs) = narrowed_required_binding(el.e, base_el) else { return };
        match self.cx.term.list(&vs) {
            Some(listed) => {
                let codings =
                    listed.concepts.iter().map(|c| CodingPattern { system: c.system.clone(), code: Some(c.code.clone()) }).collect();
                let kind = CheckKind::CodingIn { type_name: type_name.clone(), value_set: vs, codings };
                tree.arena[el.p].checks.push(el.check(kind));
            }
            None => self.note(format!("`{}`: required binding to {vs} (codes not listable)", el.path)),
        }
    }

    /// The type of the element's values when it has children (a complex type, or a choice narrowed to one), with
    /// the choice variant; checks a choice narrowed to fewer types.
    fn narrow_choice(&self, tree: &mut Tree, el: &Placed) -> Option<(TypeName, Option<ChoiceVariantRef>)> {
        let enum_name = match &el.field.ty {
            FieldType::Complex(n) => return Some((n.clone(), None)),
            FieldType::Choice(enum_name) => enum_name,
            _ => return None,
        };
        let choice = self.ix.choices.get(enum_name.as_str())?;
        let allowed: Vec<String> = el.codes.iter().map(|c| naming::upper_camel(c)).collect();
        let all: Vec<&str> = choice.variants.iter().map(|v| v.suffix.as_str()).collect();
        // A type slice names the one type it is about, not the types the choice allows.
        if !el.type_slice && !allowed.is_empty() && allowed.iter().all(|a| all.contains(&a.as_str())) && allowed.len() < all.len() {
            let allowed = allowed.iter().map(|a| VariantName::new(a.as_str())).collect();
            let kind = CheckKind::ChoiceType { choice: enum_name.clone(), allowed };
            push_unique(&mut tree.arena[el.p].checks, el.check(kind));
        }
        if allowed.len() != 1 {
            return None;
        }
        let v = choice.variants.iter().find(|v| v.suffix == allowed[0])?;
        match &v.ty {
            FieldType::Complex(n) => Some((n.clone(), Some(ChoiceVariantRef { choice: enum_name.clone(), variant: VariantName::new(v.suffix.as_str()) }))),
            _ => None,
        }
    }

    /// Reference targets narrowed from the base's.
    fn reference_checks(&self, tree: &mut Tree, el: &Placed, base_el: Option<&Value>) {
        if !el.codes.contains(&"Reference") {
            return;
        }
        let choice = match &el.field.ty {
            FieldType::Choice(n) => Some(n.clone()),
            FieldType::Complex(n) if n == "Reference" => None,
            _ => return,
        };
        let Some(targets) = self.targets(el.e) else { return };
        let base_targets = base_el.and_then(|b| self.targets(b));
        if base_targets.as_ref() != Some(&targets) {
            let kind = CheckKind::Reference { choice, targets: targets.into_iter().collect() };
            push_unique(&mut tree.arena[el.p].checks, el.check(kind));
        }
    }

    /// An extension typed by its own definition, with no children in this snapshot: that definition's checks on
    /// the extension's node `idx`, and on the resource a typed accessor for it.
    fn inline_extension(&mut self, tree: &mut Tree, el: &Placed, idx: usize, ctx: &TypeName, snapshot: Snapshot) {
        let ext_ref = el.e["type"][0]["profile"][0].as_str().map(Canonical::parse);
        let id = el.id;
        let has_children = tree.by_id.keys().any(|k| k.starts_with(id) && k[id.len()..].starts_with('.'));
        let (Some(ext_ref), "Extension", false) = (ext_ref, ctx.as_str(), has_children) else { return };
        let url = ext_ref.url();
        let Some(ext_sd) = self.ix.canonical(&self.ix.extensions, &ext_ref).copied() else {
            self.note(format!("`{}`: extension definition {url} not found", el.path));
            return;
        };
        if snapshot.depth() < MAX_EXTENSION_DEPTH && url != tree.sd_url {
            let inner = self.walk(ext_sd, ctx, snapshot.inner());
            for c in inner.checks {
                // The definition's fixed `url` is what found the extension.
                if !(c.field.json == "url" && matches!(c.kind, CheckKind::Fixed(_))) {
                    tree.arena[idx].checks.push(c);
                }
            }
            for c in inner.children {
                tree.arena[idx].children.push(ChildB { field: c.field, label: c.label, slice: c.slice, variant: c.variant, sub: Sub::Done(c.node) });
            }
        }
        if snapshot == Snapshot::Profile && tree.arena[el.p].level == Level::Resource && el.field.json == "extension" {
            if let Some(slice) = el.slice {
                self.extension_accessor(ext_sd, slice, url, Cardinality::new(el.max != Some(1), el.min > 0));
            }
        }
    }

    /// Named slices of lists on the resource or its direct children (not extension slices) get accessors.
    fn slice_accessor(&mut self, tree: &Tree, el: &Placed, item: &TypeName) {
        let (Some(pred), Some(sname)) = (&el.predicate, el.slice) else { return };
        let level = tree.arena[el.p].level;
        if matches!(pred, SlicePredicate::Url(_)) || level == Level::Deeper {
            return;
        }
        let owner = (level == Level::Child).then(|| tree.arena[el.p].ctx.clone());
        let owner_field = (level == Level::Child).then(|| el.parent_id.rsplit('.').next().unwrap_or_default());
        let method = naming::slice_accessor(owner_field, &el.field.json, sname);
        self.accessors.push(Accessor::Slice {
            method,
            path: format!("{}:{sname}", el.path),
            doc: format!("The `{sname}` slice of `{}`: {}", el.path, el.e["short"].as_str().unwrap_or_default()),
            owner,
            field: el.field.clone(),
            item: item.clone(),
            predicate: pred.clone(),
        });
    }

    /// How a slice's items are found, from the sliced element's discriminators and the slice's definition.
    fn predicate(&self, e: &Value, field: &FieldRef, disc: &[Discriminator], by_id: &HashMap<&str, &Value>, id: &str) -> Option<SlicePredicate> {
        let item_type = match &field.ty {
            FieldType::Complex(n) => Some(n),
            _ => None,
        };
        let item_ctx = item_type.map(|n| n.as_str());
        if !disc.iter().all(|d| matches!(d.kind, DiscriminatorKind::Value | DiscriminatorKind::Pattern)) || disc.is_empty() {
            return None;
        }
        let fixed_str = |id: String| by_id.get(id.as_str()).and_then(|c| fixed_value(c)).and_then(|(_, v)| v.as_str().map(str::to_owned));
        if disc.len() > 1 {
            // `coding.code` + `coding.system` of a CodeableConcept, or `code` + `system` of a Coding.
            let paths: BTreeSet<&str> = disc.iter().map(|d| d.path.as_str()).collect();
            let prefix = match (item_ctx, paths.iter().copied().collect::<Vec<_>>().as_slice()) {
                (Some("CodeableConcept"), ["coding.code", "coding.system"]) => "coding.",
                (Some("Coding"), ["code", "system"]) => "",
                _ => return None,
            };
            let code = fixed_str(format!("{id}.{prefix}code"))?;
            let system = fixed_str(format!("{id}.{prefix}system"))?;
            let codings = vec![CodingPattern { system: Some(system), code: Some(code) }];
            return Some(SlicePredicate::SelfCodings { type_name: item_type?.clone(), codings });
        }
        let path = disc[0].path.as_str();
        if path == "url" && item_ctx == Some("Extension") {
            let url = match e["type"][0]["profile"][0].as_str() {
                Some(profile) => Canonical::parse(profile).url().clone(),
                None => CanonicalUrl::new(fixed_str(format!("{id}.url"))?),
            };
            return Some(SlicePredicate::Url(url));
        }
        if path == "$this" {
            let (key, v) = fixed_value(e)?;
            if let Some(text) = v.as_str() {
                return is_stringish(&field.ty).then(|| SlicePredicate::SelfEquals(text.to_owned()));
            }
            if let Some((ty, codings)) = codings_of(key, v) {
                let type_name = item_type.filter(|n| **n == ty)?.clone();
                return Some(SlicePredicate::SelfCodings { type_name, codings });
            }
            // A pattern of another complex type: each of its parts, when they are primitives or concepts.
            let parts = v.as_object()?;
            let mut all = Vec::new();
            for (k, part) in parts {
                let f = self.field(item_ctx?, k)?;
                if let (Some(text), true) = (part.as_str(), is_stringish(&f.ty)) {
                    all.push(SlicePredicate::FieldEquals { field: f, value: text.to_owned() });
                } else {
                    let (ty, codings) = codings_of(if part.get("coding").is_some() { "patternCodeableConcept" } else { "patternCoding" }, part)?;
                    if !matches!(&f.ty, FieldType::Complex(n) if *n == ty) || f.cardinality.is_many() {
                        return None;
                    }
                    all.push(SlicePredicate::FieldCodings { field: f, codings });
                }
            }
            return (!all.is_empty()).then_some(SlicePredicate::All(all));
        }
        if path.contains('.') {
            return None;
        }
        let child = by_id.get(format!("{id}.{path}").as_str())?;
        let cf = self.field(item_ctx?, path)?;
        if let Some((key, v)) = fixed_value(child) {
            if let Some(text) = v.as_str() {
                return is_stringish(&cf.ty).then(|| SlicePredicate::FieldEquals { field: cf, value: text.to_owned() });
            }
            let (ty, codings) = codings_of(key, v)?;
            return matches!(&cf.ty, FieldType::Complex(n) if *n == ty).then(|| SlicePredicate::FieldCodings { field: cf, codings });
        }
        // A required binding as the discriminator (CARIN's `adjudicationamounttype`).
        if child["binding"]["strength"].as_str() == Some("required") && matches!(&cf.ty, FieldType::Complex(n) if n == "CodeableConcept" || n == "Coding") {
            let vs = Canonical::parse(child["binding"]["valueSet"].as_str()?).url().clone();
            let listed = self.cx.term.list(&vs)?;
            let codings = listed.concepts.iter().map(|c| CodingPattern { system: c.system.clone(), code: Some(c.code.clone()) }).collect();
            return Some(SlicePredicate::FieldCodingIn { field: cf, value_set: vs, codings });
        }
        None
    }

    /// A typed accessor for an extension slice on the resource, from the extension's definition.
    fn extension_accessor(&mut self, ext_sd: &Value, slice: &str, url: &CanonicalUrl, cardinality: Cardinality) {
        let elements: &[Value] = ext_sd["snapshot"]["element"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        let by_id: HashMap<&str, &Value> = elements.iter().filter_map(|e| Some((e["id"].as_str()?, e))).collect();
        let raw = ext_sd["name"].as_str().unwrap_or(slice);
        let struct_name = naming::extension_struct(raw);
        let method = naming::extension_accessor(&struct_name, slice);
        let doc = format!(
            "{}\n\nThe `{slice}` extension (<{url}>).",
            ext_sd["title"].as_str().or_else(|| ext_sd["description"].as_str()).unwrap_or(raw)
        );
        let value_el = by_id.get("Extension.value[x]").copied().filter(|v| v["max"].as_str() != Some("0"));
        let value = match value_el {
            Some(v) => {
                let Some(value) = self.extension_value(elements, v, slice) else { return };
                value
            }
            None => {
                let fields = self.extension_fields(elements, &by_id);
                let name = ExtensionStructName::new(struct_name);
                if !self.module.extensions.iter().any(|x| x.name == name) {
                    self.module.extensions.push(ExtensionStruct { name: name.clone(), url: url.clone(), doc: doc.clone(), fields });
                }
                ExtensionValueKind::Complex(name)
            }
        };
        self.accessors.push(Accessor::Extension { method, doc, url: url.clone(), cardinality, value });
    }

    /// What a simple extension (one with a `value[x]`, element `v`) gives: its value of one type; `None` (noted
    /// when it matters) when no typed accessor can be made.
    fn extension_value(&mut self, elements: &[Value], v: &Value, slice: &str) -> Option<ExtensionValueKind> {
        let codes = type_codes(v);
        let [code] = codes.as_slice() else {
            self.note(format!("extension `{slice}`: value of several types, no typed accessor"));
            return None;
        };
        let (variant, ty) = self.extension_variant(code)?;
        let code_enum = if *code == "code" { self.code_enum_for(binding_element(elements, "Extension.value[x]", v)) } else { None };
        Some(ExtensionValueKind::Value { variant, ty, code_enum })
    }

    /// The fields of a complex extension's struct: one per sub-extension with a value of one type.
    fn extension_fields(&mut self, elements: &[Value], by_id: &HashMap<&str, &Value>) -> Vec<ExtensionField> {
        let mut fields = Vec::new();
        for e in elements {
            let Some(id) = e["id"].as_str() else { continue };
            let Some(sub) = id.strip_prefix("Extension.extension:").filter(|s| !s.contains('.')) else { continue };
            if e["max"].as_str() == Some("0") {
                continue;
            }
            let sub_url = by_id
                .get(format!("{id}.url").as_str())
                .and_then(|u| fixed_value(u))
                .and_then(|(_, v)| v.as_str())
                .unwrap_or(sub)
                .to_owned();
            let value_id = format!("{id}.value[x]");
            let Some(v) = by_id.get(value_id.as_str()) else { continue };
            let codes = type_codes(v);
            let [code] = codes.as_slice() else { continue };
            let Some((variant, ty)) = self.extension_variant(code) else { continue };
            let max = max_of(e["max"].as_str());
            let coding_enum = if *code == "Coding" { self.coding_enum_for(binding_element(elements, &value_id, v)) } else { None };
            fields.push(ExtensionField {
                rust: naming::extension_field(sub),
                url: sub_url,
                doc: e["short"].as_str().unwrap_or_default().to_owned(),
                cardinality: Cardinality::new(max != Some(1), e["min"].as_u64().unwrap_or(0) >= 1),
                variant,
                ty,
                coding_enum,
            });
        }
        fields
    }

    /// The name of a code or coding enum of the module for a value set's computable name, beside the core's names
    /// and the module's views.
    fn enum_name(&self, value_set_name: &str) -> String {
        naming::profile_code_enum(value_set_name, |n| self.ix.core_names.contains(n) || self.module.profiles.iter().any(|p| p.name == n))
    }

    /// The variant of the version's `Extension.value[x]` enum for a type code.
    fn extension_variant(&self, code: &str) -> Option<(VariantName, FieldType)> {
        let c = self.ix.choices.get(self.cx.model.extension_value()?.as_str())?;
        let suffix = naming::upper_camel(code);
        let v = c.variants.iter().find(|v| v.suffix == suffix)?;
        Some((VariantName::new(v.suffix.as_str()), v.ty.clone()))
    }

    /// A code enum for an extension's `code` value bound (required) to a listable value set, made once per
    /// module.
    fn code_enum_for(&mut self, e: &Value) -> Option<CodeEnumName> {
        if e["binding"]["strength"].as_str() != Some("required") {
            return None;
        }
        let url = Canonical::parse(e["binding"]["valueSet"].as_str()?).url().clone();
        if let Some(found) = self.module.code_enums.iter().find(|c| c.value_set == url) {
            return Some(CodeEnumName::new(found.name.clone()));
        }
        // The core's enum for the same value set, when it is compiled whenever this module is.
        let compiled_with_module =
            |c: &&CodeEnum| match &c.usage {
                CodeEnumUsage::Always => true,
                CodeEnumUsage::Resources(users) => users.iter().any(|r| self.module.resources.contains(r.as_str())),
            };
        if let Some(core) = self.cx.model.code_enums.iter().filter(compiled_with_module).find(|c| c.value_set == url) {
            return Some(CodeEnumName::new(core.name.clone()));
        }
        let listed = self.cx.term.list(&url)?;
        let name = self.enum_name(&listed.name);
        let mut used = Vec::new();
        let codes = listed
            .concepts
            .iter()
            .map(|c| CodeValue {
                variant: naming::code_variant(&c.code, c.display.as_deref(), &mut used),
                doc: c.display.clone().or_else(|| c.definition.clone()).unwrap_or_else(|| format!("`{}`", c.code)),
                code: c.code.clone(),
                display: c.display.clone(),
            })
            .collect();
        let fallback = if used.iter().any(|u| u == "Unrecognized") { "UnrecognizedCode" } else { "Unrecognized" };
        self.module.code_enums.push(CodeEnum {
            name: name.clone(),
            value_set: url,
            doc: listed.doc,
            codes,
            fallback: fallback.to_owned(),
            usage: CodeEnumUsage::Always,
        });
        Some(CodeEnumName::new(name))
    }
}

/// Most codings a generated coding enum may have: the OMB categories (7 and 2, with the null flavors) are enums,
/// the detailed race and ethnicity value sets (900+ and 41 CDC codes) stay `Coding`s, whose enums would cost
/// compile time in every crate that uses the module for values hardly anyone names in code.
const MAX_CODING_ENUM: usize = 20;

impl Walker<'_, '_> {
    /// A coding enum for a sub-extension's `Coding` value bound (required) to a value set whose codings can be
    /// listed (US Core 3.1.1's OMB race categories; US Core 8.0.0 binds VSAC value sets the package does not
    /// hold, so its values stay `Coding`s), made once per module.
    fn coding_enum_for(&mut self, e: &Value) -> Option<CodingEnumName> {
        if e["binding"]["strength"].as_str() != Some("required") {
            return None;
        }
        let url = Canonical::parse(e["binding"]["valueSet"].as_str()?).url().clone();
        if let Some(found) = self.module.coding_enums.iter().find(|c| c.value_set == url) {
            return Some(found.name.clone());
        }
        let listed = self.cx.term.list(&url).filter(|l| l.concepts.len() <= MAX_CODING_ENUM)?;
        let name = CodingEnumName::new(self.enum_name(&listed.name));
        let mut used = vec!["Other".to_owned()];
        let codes = listed
            .concepts
            .iter()
            .map(|c| CodingValue {
                system: c.system.clone(),
                code: c.code.clone(),
                variant: naming::code_variant(&c.code, c.display.as_deref(), &mut used),
                display: c.display.clone(),
            })
            .collect();
        self.module.coding_enums.push(CodingEnum { name: name.clone(), value_set: url, doc: listed.doc, codes });
        Some(name)
    }
}

/// The element holding the binding of the value element `value` (id `value_id`): the first element at or below
/// that id with a binding, which may be a type slice (`value[x]:valueCode`); else `value` itself.
fn binding_element<'v>(elements: &'v [Value], value_id: &str, value: &'v Value) -> &'v Value {
    elements.iter().find(|e| e["id"].as_str().is_some_and(|i| i.starts_with(value_id)) && e["binding"].is_object()).unwrap_or(value)
}

/// The value set of the profile element `e`'s required binding, when the core element `base` is not already bound
/// (required) to the same value set: a binding the profile narrows, so one to check.
fn narrowed_required_binding(e: &Value, base: Option<&Value>) -> Option<CanonicalUrl> {
    if e["binding"]["strength"].as_str() != Some("required") {
        return None;
    }
    let vs = Canonical::parse(e["binding"]["valueSet"].as_str()?).url().clone();
    let base_vs = base.and_then(|b| b["binding"]["valueSet"].as_str()).map(|b| Canonical::parse(b).url().clone());
    let base_required = base.is_some_and(|b| b["binding"]["strength"].as_str() == Some("required"));
    (Some(&vs) != base_vs.as_ref() || !base_required).then_some(vs)
}

/// The parent id and last segment of an element id (`Patient.extension:race` → `Patient`, `extension:race`).
fn split_id(id: &str) -> Option<(&str, &str)> {
    id.rsplit_once('.')
}

/// An element id without type slices of choices (`value[x]:valueCoding.code` → `value[x].code`): those are the
/// choice element itself.
fn canonical_id(id: &str) -> String {
    id.split('.')
        .map(|seg| match seg.split_once(':') {
            Some((n, _)) if n.ends_with("[x]") => n,
            _ => seg,
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn push_unique(checks: &mut Vec<Check>, check: Check) {
    // A type slice (`value[x]:valueCodeableConcept`) repeats its choice's constraints with another short text.
    let key = |c: &Check| format!("{} {:?}", c.label, c.kind);
    if !checks.iter().any(|c| key(c) == key(&check)) {
        checks.push(check);
    }
}

/// The finished tree of arena node `i`; children without checks are dropped.
fn finish(arena: &mut Vec<NodeB>, i: usize) -> CheckNode {
    let checks = std::mem::take(&mut arena[i].checks);
    let subs = std::mem::take(&mut arena[i].children);
    let mut children = Vec::new();
    for ChildB { field, label, slice, variant, sub } in subs {
        let node = match sub {
            Sub::Arena(j) => finish(arena, j),
            Sub::Done(n) => n,
        };
        if !node.checks.is_empty() || !node.children.is_empty() {
            children.push(CheckChild { field, label, slice, variant, node });
        }
    }
    CheckNode { checks, children }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names() {
        assert_eq!(canonical_id("Extension.extension:text.value[x]:valueString"), "Extension.extension:text.value[x]");
        assert_eq!(split_id("Patient.extension:race"), Some(("Patient", "extension:race")));
        assert_eq!(max_of(Some("*")), None);
        assert_eq!(max_of(Some("0")), Some(0));
    }

    #[test]
    fn patterns() {
        let cc = serde_json::json!({"coding": [{"system": "s", "code": "c"}]});
        let (ty, codings) = codings_of("patternCodeableConcept", &cc).unwrap();
        assert_eq!(ty, "CodeableConcept");
        assert_eq!(codings, [CodingPattern { system: Some("s".into()), code: Some("c".into()) }]);
        // A pattern with text is not only codings: not checked as one.
        assert!(codings_of("patternCodeableConcept", &serde_json::json!({"coding": [{"code": "c"}], "text": "t"})).is_none());
    }
}
