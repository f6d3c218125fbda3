//! Loading: FHIR packages → the intermediate model. The only place that reads FHIR JSON; it builds no tokens.
//!
//! StructureDefinition snapshots of all FHIR versions go through the same path; where DSTU2 differs in shape
//! (`nameReference` instead of `contentReference`, open types written `*`, bindings by `valueSetReference`,
//! code systems inside ValueSet) the differences are read here, so the model and emitter stay version-agnostic.

pub mod profiles;
pub mod refs;
pub mod search;
pub mod terminology;

use crate::manifest::VersionSpec;
use crate::model::*;
use crate::naming;
use crate::packages::{self, PackageError};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use terminology::Terminology;

/// Errors while turning packages into the model.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Reading packages failed.
    #[error(transparent)]
    Package(#[from] PackageError),
    /// A definition has a shape the loader does not understand.
    #[error("{sd}: element `{path}`: {message}")]
    Shape {
        /// The StructureDefinition.
        sd: String,
        /// The element path.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Two generated items would get the same Rust name.
    #[error("name clash: `{0}` would be generated twice")]
    NameClash(String),
    /// Resources were asked for that the core package does not define.
    #[error("{package} defines no resource {}", names.join(", "))]
    UnknownResources {
        /// The core package.
        package: String,
        /// The names asked for and not found.
        names: Vec<String>,
    },
}

const TYPES_READ: &[&str] = &["StructureDefinition", "ValueSet", "CodeSystem", "SearchParameter"];

/// DSTU2's open type (`*`): every type an element of any type may take.
const DSTU2_OPEN_TYPES: &[&str] = &[
    "boolean", "integer", "decimal", "base64Binary", "instant", "string", "uri", "date", "dateTime", "time", "code",
    "oid", "id", "unsignedInt", "positiveInt", "markdown", "Annotation", "Attachment", "Identifier",
    "CodeableConcept", "Coding", "Quantity", "Range", "Period", "Ratio", "SampledData", "Signature", "HumanName",
    "Address", "ContactPoint", "Timing", "Reference", "Meta",
];

fn prim_of(code: &str) -> Option<Prim> {
    Some(match code {
        "boolean" => Prim::Bool,
        "integer" => Prim::Integer,
        "unsignedInt" | "positiveInt" => Prim::Unsigned,
        "integer64" => Prim::Integer64,
        "decimal" => Prim::Decimal,
        "date" => Prim::Date,
        "dateTime" => Prim::DateTime,
        "instant" => Prim::Instant,
        "time" => Prim::Time,
        "string" | "code" | "id" | "uri" | "url" | "canonical" | "oid" | "uuid" | "markdown" | "base64Binary"
        | "xhtml" => Prim::String,
        _ => return None,
    })
}

/// Types that are the abstract bases of others; their elements are repeated in each snapshot.
const ABSTRACT_BASES: &[&str] = &["Element", "BackboneElement", "Resource", "DomainResource"];

/// Reads the packages of one version and builds its model: the core types, their search parameters, then the
/// IGs' profiles over them.
pub fn load_version(src: &packages::PackageSource, spec: &VersionSpec) -> Result<VersionModel, LoadError> {
    let (core_id, core_ver) = split_package(&spec.core);
    let core = src.load(core_id, core_ver, TYPES_READ)?;
    let expansions = match &spec.expansions {
        Some(e) => {
            let (id, ver) = split_package(e);
            Some(src.load(id, ver, &["ValueSet"])?)
        }
        None => None,
    };
    let term = terminology_over(&core, expansions.as_ref(), &[]);
    let defs = CoreDefinitions::select(&core, spec)?;
    let mut model = build_core_model(&term, &defs, spec)?;
    load_core_search_params(src, &core, spec, &mut model)?;
    if !spec.profiles.is_empty() {
        load_profile_modules(src, &core, expansions.as_ref(), spec, &defs.left_out, &mut model)?;
    }
    Ok(model)
}

/// The core's and its expansions' terminology, then the `scope` packages' (highest priority first: a definition
/// of the same canonical in an earlier package replaces a later one's).
fn terminology_over<'p>(
    core: &'p packages::Package,
    expansions: Option<&'p packages::Package>,
    scope: &[&'p packages::Package],
) -> Terminology<'p> {
    let mut term = Terminology::default();
    term.add_value_sets(core.of_type("ValueSet"));
    term.add_code_systems(core.of_type("CodeSystem"));
    if let Some(exp) = expansions {
        term.add_expansions(exp.of_type("ValueSet"));
    }
    // Lowest priority first: a later definition of the same canonical replaces an earlier one.
    for pkg in scope.iter().rev() {
        term.add_value_sets(pkg.of_type("ValueSet"));
        term.add_code_systems(pkg.of_type("CodeSystem"));
    }
    term
}

/// The core definitions that become types, each list sorted by name.
struct CoreDefinitions<'p> {
    datatypes: Vec<(String, &'p Value)>,
    resources: Vec<(String, &'p Value)>,
    /// Core resources not generated because the spec's `resources` leaves them out.
    left_out: BTreeSet<String>,
}

impl<'p> CoreDefinitions<'p> {
    fn select(core: &'p packages::Package, spec: &VersionSpec) -> Result<Self, LoadError> {
        let mut datatypes = Vec::new();
        let mut resources = Vec::new();
        for sd in core.of_type("StructureDefinition") {
            let Some(root) = sd["snapshot"]["element"][0]["path"].as_str() else { continue };
            let is_specialization = match sd["derivation"].as_str() {
                Some(d) => d == "specialization",
                // DSTU2 has no `derivation`: profiles are the definitions with a `constrainedType`.
                None => sd["constrainedType"].is_null(),
            };
            if !is_specialization || sd["abstract"].as_bool() == Some(true) || ABSTRACT_BASES.contains(&root) {
                continue;
            }
            match sd["kind"].as_str() {
                Some("resource") => resources.push((root.to_owned(), sd)),
                Some("complex-type") => datatypes.push((root.to_owned(), sd)),
                Some("datatype") if root.starts_with(|c: char| c.is_ascii_uppercase()) => {
                    datatypes.push((root.to_owned(), sd))
                }
                _ => {}
            }
        }
        datatypes.sort_by(|a, b| a.0.cmp(&b.0));
        resources.sort_by(|a, b| a.0.cmp(&b.0));
        datatypes.dedup_by(|a, b| a.0 == b.0);
        resources.dedup_by(|a, b| a.0 == b.0);
        let mut left_out = BTreeSet::new();
        if let Some(wanted) = &spec.resources {
            let unknown: Vec<String> =
                wanted.iter().filter(|w| !resources.iter().any(|(n, _)| n == *w)).cloned().collect();
            if !unknown.is_empty() {
                return Err(LoadError::UnknownResources { package: spec.core.clone(), names: unknown });
            }
            resources.retain(|(n, _)| {
                let keep = wanted.contains(n) || spec.base_resources.contains(n);
                if !keep {
                    left_out.insert(n.clone());
                }
                keep
            });
        }
        Ok(Self { datatypes, resources, left_out })
    }
}

/// The core's types and code enums, without search parameters and profiles.
fn build_core_model(term: &Terminology, defs: &CoreDefinitions, spec: &VersionSpec) -> Result<VersionModel, LoadError> {
    let complex: HashSet<String> = defs.datatypes.iter().map(|(n, _)| n.clone()).collect();
    let mut b = Builder { term, complex, bound: BTreeMap::new(), bound_elements: HashMap::new(), names: HashMap::new(), module: spec.module.clone(), fhir_comments: spec.fhir_comments };
    for n in ["Resource", "Primitive", spec.marker.as_str()] {
        b.names.insert(n.to_owned(), "reserved".to_owned());
    }
    for (n, _) in defs.datatypes.iter().chain(&defs.resources) {
        b.claim(n, n)?;
    }
    let mut datatypes = Vec::new();
    for (name, sd) in &defs.datatypes {
        datatypes.push(b.build_type(name, sd, TypeKind::Datatype)?);
    }
    let mut resources = Vec::new();
    for (name, sd) in &defs.resources {
        resources.push(b.build_type(name, sd, TypeKind::Resource)?);
    }
    let code_enums = b.finish_enums(&mut datatypes, &mut resources, &spec.base_resources)?;
    mark_boxes(&mut datatypes, &mut resources);
    share_choice_enums(&mut datatypes, &mut resources);

    let mut sources = vec![spec.core.clone()];
    sources.extend(spec.expansions.clone());
    // The configured base resources the package has (a small core of a user's may have no `Bundle`); the others
    // are reported.
    let (base_resources, missing): (Vec<&String>, Vec<&String>) =
        spec.base_resources.iter().partition(|b| defs.resources.iter().any(|(n, _)| n == *b));
    let warnings = missing
        .iter()
        .map(|b| format!("base resource `{b}` is not defined in {}; it is not generated", spec.core))
        .collect();
    Ok(VersionModel {
        module: spec.module.clone(),
        marker: spec.marker.clone(),
        fhir_version: spec.fhir_version.clone(),
        sources,
        datatypes,
        resources,
        code_enums,
        base_resources: base_resources.into_iter().map(ResourceName::new).collect(),
        // Resources of the package (`CoreDefinitions::select`).
        omitted_resources: defs.left_out.iter().map(ResourceName::new).collect(),
        search_params: Default::default(),
        profiles: Vec::new(),
        profile_shared: SharedProfileItems::default(),
        warnings,
    })
}

/// Search parameters last: they bind to the types and code enums already built. The core's come first, so an IG
/// that re-declares a core parameter (US Core's `Patient-birthdate`) does not replace it; then the IG packages in
/// the manifest's order (see [`search::load_search_params`] for two releases of one IG).
fn load_core_search_params(
    src: &packages::PackageSource,
    core: &packages::Package,
    spec: &VersionSpec,
    model: &mut VersionModel,
) -> Result<(), LoadError> {
    let mut igs = Vec::new();
    for package in &spec.search_parameters {
        let (id, ver) = split_package(package);
        igs.push((package.clone(), src.load(id, ver, &["SearchParameter"])?.resources.remove("SearchParameter").unwrap_or_default()));
        model.sources.push(package.clone());
    }
    search::load_search_params(core.of_type("SearchParameter"), &igs, model)
}

/// Profiles of implementation guides, over the core model. Each IG resolves canonicals in its own scope: the
/// package, then the closure of its declared dependencies (so US Core 3.1.1 and 8.0.0, or CARIN BB 1.1.0 and
/// 2.0.0, keep their own rules side by side), then the core. Its terminology is kept apart from the core's so
/// that an IG can never change a core code enum.
fn load_profile_modules(
    src: &packages::PackageSource,
    core: &packages::Package,
    expansions: Option<&packages::Package>,
    spec: &VersionSpec,
    left_out: &BTreeSet<String>,
    model: &mut VersionModel,
) -> Result<(), LoadError> {
    let mut store = PackageStore::default();
    let mut scopes = Vec::new();
    for p in &spec.profiles {
        scopes.push(store.closure(src, &p.package, &spec.core, &spec.resolution_packages, &mut model.warnings)?);
    }
    let mut modules = Vec::new();
    for (p, scope) in spec.profiles.iter().zip(&scopes) {
        let scope: Vec<&packages::Package> = scope.iter().map(|n| &store.packages[n]).collect();
        model.warnings.extend(skipped_profiles(&p.package, scope[0], left_out));
        let term = terminology_over(core, expansions, &scope);
        let cx = profiles::Context { model: &*model, core, scope: &scope, term: &term };
        modules.push(profiles::load_profiles(&cx, p, scope[0])?);
    }
    model.profile_shared = share_profile_items(&mut modules)?;
    model.profiles = modules;
    Ok(())
}

/// A warning for each resource profile of `ig` whose resource the configuration leaves out.
fn skipped_profiles(package: &str, ig: &packages::Package, left_out: &BTreeSet<String>) -> Vec<String> {
    ig.of_type("StructureDefinition")
        .iter()
        .filter(|sd| sd["derivation"].as_str() == Some("constraint") && sd["kind"].as_str() == Some("resource"))
        .filter_map(|sd| {
            let ty = sd["type"].as_str().filter(|t| left_out.contains(*t))?;
            let url = sd["url"].as_str().unwrap_or_default();
            Some(format!("{package}: profile {url} not generated: its resource {ty} is not among the configured resources"))
        })
        .collect()
}

/// Moves the extension structs and code enums that two or more profile modules generate identically (same name,
/// same definition) into the version's shared items; each module then re-exports them.
fn share_profile_items(modules: &mut [ProfileModule]) -> Result<SharedProfileItems, LoadError> {
    fn share<T: std::fmt::Debug + Clone>(
        modules: &mut [ProfileModule],
        items: impl Fn(&mut ProfileModule) -> &mut Vec<T>,
        reexport: impl Fn(&T) -> SharedItem,
    ) -> Vec<Shared<T>> {
        // Identity is the whole definition as the emitter sees it.
        let mut users: BTreeMap<String, (T, Vec<usize>)> = BTreeMap::new();
        for (i, m) in modules.iter_mut().enumerate() {
            for item in items(m).iter() {
                users.entry(format!("{item:?}")).or_insert_with(|| (item.clone(), Vec::new())).1.push(i);
            }
        }
        let mut out = Vec::new();
        for (key, (item, using)) in users.into_iter().filter(|(_, (_, u))| u.len() > 1) {
            for &i in &using {
                items(&mut modules[i]).retain(|x| format!("{x:?}") != key);
                modules[i].shared.push(reexport(&item));
            }
            out.push(Shared { item, features: using.iter().map(|&i| modules[i].feature.clone()).collect() });
        }
        out
    }
    let extensions = share(modules, |m| &mut m.extensions, |x: &ExtensionStruct| SharedItem::Extension(x.name.clone()));
    let code_enums = share(modules, |m| &mut m.code_enums, |e: &CodeEnum| SharedItem::CodeEnum(CodeEnumName::new(e.name.as_str())));
    let coding_enums = share(modules, |m| &mut m.coding_enums, |e: &CodingEnum| SharedItem::CodingEnum(e.name.clone()));
    let mut names: Vec<&str> = extensions
        .iter()
        .map(|x| x.item.name.as_str())
        .chain(code_enums.iter().map(|e| e.item.name.as_str()))
        .chain(coding_enums.iter().map(|e| e.item.name.as_str()))
        .collect();
    names.sort();
    // Two different definitions of one name, each shared by some modules, would clash in the shared module.
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(LoadError::NameClash(format!("{} (two different shared profile definitions)", w[0])));
    }
    for m in modules.iter_mut() {
        m.shared.sort_by(|a, b| a.name().cmp(b.name()));
    }
    Ok(SharedProfileItems { extensions, code_enums, coding_enums })
}

/// IG packages and their dependencies, each read once, by `id#version`.
#[derive(Default)]
struct PackageStore {
    packages: HashMap<String, packages::Package>,
}

impl PackageStore {
    /// The resolution scope of IG package `name` (`id#version`): the package first, then the packages it depends
    /// on (breadth first, each package.json's dependencies in id order), without the core package. A dependency
    /// that is in no search path is reported in `warnings` (its canonicals stay unresolved: what needs them is listed
    /// as not checked); the IG itself must be there.
    fn closure(
        &mut self,
        src: &packages::PackageSource,
        name: &str,
        core: &str,
        extra: &[String],
        warnings: &mut Vec<String>,
    ) -> Result<Vec<String>, LoadError> {
        let (core_id, _) = split_package(core);
        let mut order = Vec::new();
        let mut queue = std::collections::VecDeque::from([(name.to_owned(), None::<String>)]);
        // Packages named for resolution only come after the declared dependencies.
        queue.extend(extra.iter().map(|e| (e.clone(), Some(format!("the configuration of {name}")))));
        while let Some((pkg, needed_by)) = queue.pop_front() {
            if order.contains(&pkg) {
                continue;
            }
            let (id, ver) = split_package(&pkg);
            if !self.packages.contains_key(&pkg) {
                if let Some(by) = &needed_by {
                    let why = match src.ensure(id, ver) {
                        Ok(true) => None,
                        Ok(false) => {
                            let dirs: Vec<String> = src.paths().iter().map(|p| p.display().to_string()).collect();
                            Some(format!("it is in none of {}", dirs.join(", ")))
                        }
                        Err(e) => Some(e.to_string()),
                    };
                    if let Some(why) = why {
                        let w = format!("{by} depends on {pkg}: {why}; canonicals it defines stay unresolved");
                        if !warnings.contains(&w) {
                            warnings.push(w);
                        }
                        continue;
                    }
                }
                let loaded = src.load(id, ver, &["StructureDefinition", "ValueSet", "CodeSystem"])?;
                self.packages.insert(pkg.clone(), loaded);
            }
            for (dep_id, dep_ver) in &self.packages[&pkg].dependencies {
                if dep_id != core_id {
                    queue.push_back((format!("{dep_id}#{dep_ver}"), Some(pkg.clone())));
                }
            }
            order.push(pkg);
        }
        Ok(order)
    }
}

fn split_package(p: &str) -> (&str, &str) {
    p.split_once('#').unwrap_or((p, ""))
}

/// A type under construction: its structs (the type's own first, then its backbone elements) and choice enums.
struct TypeB {
    name: String,
    /// The StructureDefinition, for errors.
    sd: String,
    /// The resource's name, for a resource.
    resource_type: Option<String>,
    structs: Vec<StructDef>,
    choices: Vec<ChoiceDef>,
    struct_of_path: HashMap<String, usize>,
    /// DSTU2 `nameReference` points at an element by its `name`.
    path_of_name: HashMap<String, String>,
}

impl TypeB {
    fn new(name: &str, sd: &Value, kind: TypeKind) -> Self {
        let resource_type = (kind == TypeKind::Resource).then(|| name.to_owned());
        TypeB {
            name: name.to_owned(),
            sd: sd["url"].as_str().unwrap_or(name).to_owned(),
            structs: vec![StructDef { name: name.to_owned(), path: name.to_owned(), doc: String::new(), resource_type: resource_type.clone(), fields: Vec::new() }],
            resource_type,
            choices: Vec::new(),
            struct_of_path: HashMap::from([(name.to_owned(), 0)]),
            path_of_name: HashMap::new(),
        }
    }

    fn shape(&self, path: &str, message: String) -> LoadError {
        LoadError::Shape { sd: self.sd.clone(), path: path.to_owned(), message }
    }
}

/// The type codes of an element, in order without repeats (DSTU2's open type `*` spelled out).
fn element_type_codes(e: &Value) -> Vec<String> {
    let mut codes: Vec<String> =
        e["type"].as_array().into_iter().flatten().filter_map(|t| t["code"].as_str().map(str::to_owned)).collect();
    if codes.iter().any(|c| c == "*") {
        codes = DSTU2_OPEN_TYPES.iter().map(|s| s.to_string()).collect();
    }
    codes.dedup();
    codes
}

/// DSTU2's `fhir_comments`, which any object may carry.
fn fhir_comments_field() -> Field {
    Field {
        json: "fhir_comments".into(),
        rust: "fhir_comments".into(),
        path_name: "fhir_comments".into(),
        doc: "Comments carried over from the XML form (DSTU2 JSON `fhir_comments`).".into(),
        cardinality: Cardinality::Many,
        ty: FieldType::PlainString,
        storage: Storage::Inline,
    }
}

/// A value set some `code` element is bound to (required), and who uses it.
struct BoundValueSet {
    listed: terminology::ListedValueSet,
    /// The resources whose elements use it.
    resources: BTreeSet<ResourceName>,
    /// Whether a datatype uses it (then its enum is always compiled).
    by_datatype: bool,
}

struct Builder<'t> {
    term: &'t Terminology<'t>,
    complex: HashSet<String>,
    /// Required bindings seen, by value-set URL: the listed codes and who uses them.
    bound: BTreeMap<String, BoundValueSet>,
    /// The `code` elements with such a binding (by FHIR path, `Patient.gender`) and their value-set URLs: typed
    /// `Primitive(String)` until [`Builder::finish_enums`] has named the enums and makes them `Code`.
    bound_elements: HashMap<String, String>,
    /// Rust names taken, with what took them.
    names: HashMap<String, String>,
    module: String,
    fhir_comments: bool,
}

impl Builder<'_> {
    fn claim(&mut self, name: &str, by: &str) -> Result<(), LoadError> {
        if let Some(prev) = self.names.insert(name.to_owned(), by.to_owned()) {
            if prev != by {
                return Err(LoadError::NameClash(format!("{name} ({prev} and {by})")));
            }
        }
        Ok(())
    }

    fn build_type(&mut self, name: &str, sd: &Value, kind: TypeKind) -> Result<TypeDef, LoadError> {
        let mut t = TypeB::new(name, sd, kind);
        let elements = sd["snapshot"]["element"].as_array().ok_or_else(|| t.shape(name, "no snapshot".into()))?;
        t.structs[0].doc = doc_of(&elements[0], sd);
        for e in &elements[1..] {
            self.add_element(&mut t, e)?;
        }
        if self.fhir_comments {
            for s in &mut t.structs {
                s.fields.insert(0, fhir_comments_field());
            }
        }
        Ok(TypeDef {
            name: name.to_owned(),
            url: CanonicalUrl::new(sd["url"].as_str().unwrap_or_default()),
            kind,
            file: naming::module(name),
            feature: (kind == TypeKind::Resource).then(|| naming::feature(&self.module, name)),
            structs: t.structs,
            choices: t.choices,
        })
    }

    /// One snapshot element: a field of the struct of its parent path (slices, prohibited elements and children
    /// of elements that are no struct are skipped).
    fn add_element(&mut self, t: &mut TypeB, e: &Value) -> Result<(), LoadError> {
        let path = e["path"].as_str().ok_or_else(|| t.shape(&t.name, "element without path".into()))?;
        if e["sliceName"].is_string() || path.contains(':') {
            return Ok(());
        }
        if let Some(n) = e["name"].as_str() {
            t.path_of_name.insert(n.to_owned(), path.to_owned());
        }
        let Some((parent, elem)) = path.rsplit_once('.') else { return Ok(()) };
        let Some(&owner) = t.struct_of_path.get(parent) else {
            // Children of an element that is not a struct (e.g. a re-profiled child of a datatype).
            return Ok(());
        };
        let max = e["max"].as_str().unwrap_or("1");
        let many = max == "*" || max.parse::<u32>().is_ok_and(|m| m > 1);
        if max == "0" {
            return Ok(());
        }
        let required = e["min"].as_u64().unwrap_or(0) > 0;
        let doc = e["short"].as_str().unwrap_or_default().to_owned();
        let codes = element_type_codes(e);
        let (json, path_name, ty) = match elem.strip_suffix("[x]") {
            Some(choice_base) => {
                let enum_name = naming::choice_enum(&t.structs[owner].name, choice_base);
                let ty = self.choice_type(t, enum_name, path, &codes, &doc)?;
                (choice_base.to_owned(), elem.to_owned(), ty)
            }
            None => (elem.to_owned(), elem.to_owned(), self.single_type(t, e, path, elem, &codes, &doc)?),
        };
        let cardinality = Cardinality::new(many, required);
        t.structs[owner].fields.push(Field { rust: naming::field(&json), json, path_name, doc, cardinality, ty, storage: Storage::Inline });
        Ok(())
    }

    /// A choice element (`value[x]`): its enum, one variant per allowed type.
    fn choice_type(&mut self, t: &mut TypeB, enum_name: String, path: &str, codes: &[String], doc: &str) -> Result<FieldType, LoadError> {
        self.claim(&enum_name, path)?;
        let mut variants = Vec::new();
        for code in codes {
            let ty = self.simple_type(code).ok_or_else(|| t.shape(path, format!("choice of unknown type `{code}`")))?;
            variants.push(ChoiceVariant { suffix: naming::upper_camel(code), ty });
        }
        t.choices.push(ChoiceDef { name: enum_name.clone(), path: path.to_owned(), doc: doc.to_owned(), variants, alias_of: None });
        Ok(FieldType::Choice(ChoiceName::new(enum_name)))
    }

    /// The type of an element of one type: a reference to another element's struct, a plain string, a new
    /// backbone struct, a (bound) code, or a datatype.
    fn single_type(&mut self, t: &mut TypeB, e: &Value, path: &str, elem: &str, codes: &[String], doc: &str) -> Result<FieldType, LoadError> {
        let reference = e["contentReference"]
            .as_str()
            .map(|r| r.trim_start_matches('#').to_owned())
            .or_else(|| e["nameReference"].as_str().and_then(|n| t.path_of_name.get(n).cloned()));
        if let Some(target) = reference {
            // R4 writes `#Questionnaire.item`; some packages write `url#Questionnaire.item`.
            let target = target.rsplit('#').next().unwrap_or(&target).to_owned();
            let idx = t.struct_of_path.get(&target).ok_or_else(|| t.shape(path, format!("contentReference to unknown `{target}`")))?;
            return Ok(FieldType::Complex(TypeName::new(t.structs[*idx].name.clone())));
        }
        if (elem == "id" && codes == ["id"]) || path == "Extension.url" {
            // Element ids and extension URLs are XML attributes, plain strings in JSON, in every version (R4
            // already types them `System.String`; DSTU2 says `id` and `uri`).
            return Ok(FieldType::PlainString);
        }
        let [code] = codes else { return Err(t.shape(path, format!("expected one type, found {codes:?}"))) };
        match code.as_str() {
            "BackboneElement" | "Element" => {
                let struct_name = naming::backbone(path);
                self.claim(&struct_name, path)?;
                t.struct_of_path.insert(path.to_owned(), t.structs.len());
                t.structs.push(StructDef { name: struct_name.clone(), path: path.to_owned(), doc: doc.to_owned(), resource_type: None, fields: Vec::new() });
                Ok(FieldType::Complex(TypeName::new(struct_name)))
            }
            "code" => Ok(match self.required_binding(e) {
                Some(url) => {
                    let user = t.resource_type.clone();
                    self.note_binding_use(&url, user.as_deref());
                    self.bound_elements.insert(path.to_owned(), url);
                    FieldType::Primitive(Prim::String)
                }
                None => FieldType::Primitive(Prim::String),
            }),
            _ => self.simple_type(code).ok_or_else(|| t.shape(path, format!("unknown type `{code}`"))),
        }
    }

    fn simple_type(&self, code: &str) -> Option<FieldType> {
        if code.starts_with("http://hl7.org/fhirpath/System.") {
            return Some(FieldType::PlainString);
        }
        if let Some(p) = prim_of(code) {
            return Some(FieldType::Primitive(p));
        }
        if code == "Resource" {
            return Some(FieldType::Resource);
        }
        self.complex.contains(code).then(|| FieldType::Complex(TypeName::new(code)))
    }

    /// The value-set URL of a required binding whose codes can be listed.
    fn required_binding(&mut self, e: &Value) -> Option<String> {
        let b = &e["binding"];
        if b["strength"].as_str() != Some("required") {
            return None;
        }
        let url = b["valueSet"]
            .as_str()
            .or_else(|| b["valueSetReference"]["reference"].as_str())
            .or_else(|| b["valueSetUri"].as_str())?;
        let url = refs::Canonical::parse(url).url().to_string();
        if !self.bound.contains_key(&url) {
            let listed = self.term.list(&url)?;
            self.bound.insert(url.clone(), BoundValueSet { listed, resources: BTreeSet::new(), by_datatype: false });
        }
        Some(url)
    }

    fn note_binding_use(&mut self, url: &str, resource: Option<&str>) {
        if let Some(entry) = self.bound.get_mut(url) {
            match resource {
                Some(r) => {
                    entry.resources.insert(ResourceName::new(r));
                }
                None => entry.by_datatype = true,
            }
        }
    }

    /// Names the code enums (value-set names, made unique) and points the fields at them.
    fn finish_enums(
        &mut self,
        datatypes: &mut [TypeDef],
        resources: &mut [TypeDef],
        base_resources: &[String],
    ) -> Result<Vec<CodeEnum>, LoadError> {
        let mut by_url = HashMap::new();
        let mut enums = Vec::new();
        let bound = std::mem::take(&mut self.bound);
        // Value sets that share a computable name are all named by their URLs, so that none is the "real" one.
        let mut name_count: HashMap<String, usize> = HashMap::new();
        for BoundValueSet { listed, .. } in bound.values() {
            *name_count.entry(naming::code_enum(&listed.name)).or_default() += 1;
        }
        for (url, BoundValueSet { listed, resources: users, by_datatype }) in bound {
            let base = naming::code_enum(&listed.name);
            let base = if name_count[&base] > 1 { naming::code_enum_from_url(&url) } else { base };
            let name = naming::unique_code_enum(&base, |n| self.names.contains_key(n));
            self.claim(&name, &url)?;
            let mut used = Vec::new();
            let codes: Vec<CodeValue> = listed
                .concepts
                .iter()
                .map(|c| CodeValue {
                    variant: naming::code_variant(&c.code, c.display.as_deref(), &mut used),
                    doc: match (&c.display, &c.definition) {
                        (Some(d), Some(def)) if d != def => format!("{d}: {def}"),
                        (Some(d), _) => d.clone(),
                        (None, Some(def)) => def.clone(),
                        (None, None) => format!("`{}`", c.code),
                    },
                    code: c.code.clone(),
                    display: c.display.clone(),
                })
                .collect();
            let fallback = if used.iter().any(|u| u == "Unrecognized") { "UnrecognizedCode" } else { "Unrecognized" };
            let always = by_datatype || users.iter().any(|u| base_resources.iter().any(|b| b == u));
            by_url.insert(url.clone(), CodeEnumName::new(name.clone()));
            enums.push(CodeEnum {
                name,
                value_set: CanonicalUrl::new(url),
                doc: listed.doc,
                codes,
                fallback: fallback.to_owned(),
                usage: if always { CodeEnumUsage::Always } else { CodeEnumUsage::Resources(users) },
            });
        }
        for t in datatypes.iter_mut().chain(resources.iter_mut()) {
            for s in &mut t.structs {
                for f in &mut s.fields {
                    let url = self.bound_elements.get(&format!("{}.{}", s.path, f.json));
                    if let (Some(url), FieldType::Primitive(Prim::String)) = (url, &f.ty) {
                        f.ty = FieldType::Code(by_url[url].clone());
                    }
                }
            }
        }
        enums.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(enums)
    }
}

fn doc_of(root: &Value, sd: &Value) -> String {
    root["short"]
        .as_str()
        .or_else(|| sd["description"].as_str())
        .or_else(|| sd["name"].as_str())
        .unwrap_or_default()
        .to_owned()
}

/// Choice elements with the same type list (above all the open type of `Extension.value[x]`, repeated by
/// `ElementDefinition`, `Task`, `Parameters`, `StructureMap`...) share one enum: the first datatype choice with
/// those variants is generated, later ones become aliases of it. Only datatype enums are shared, because
/// datatypes are compiled whatever resource features are on.
fn share_choice_enums(datatypes: &mut [TypeDef], resources: &mut [TypeDef]) {
    let canonical: Vec<(String, Vec<ChoiceVariant>)> =
        datatypes.iter().flat_map(|t| &t.choices).map(|c| (c.name.clone(), c.variants.clone())).collect();
    for t in datatypes.iter_mut().chain(resources.iter_mut()) {
        for c in &mut t.choices {
            let first = canonical.iter().find(|(_, variants)| *variants == c.variants);
            if let Some((name, _)) = first.filter(|(name, _)| *name != c.name) {
                c.alias_of = Some(ChoiceName::new(name.clone()));
            }
        }
    }
}

/// Boxes single-valued fields whose type contains the owning struct again (directly or through other
/// single-valued fields), which Rust needs to size the struct. Lists, choices and resources are on the heap
/// already and break no cycle.
fn mark_boxes(datatypes: &mut [TypeDef], resources: &mut [TypeDef]) {
    let mut edges: HashMap<String, Vec<String>> = HashMap::new();
    for t in datatypes.iter().chain(resources.iter()) {
        for s in &t.structs {
            let targets = s
                .fields
                .iter()
                .filter(|f| !f.cardinality.is_many())
                .filter_map(|f| match &f.ty {
                    FieldType::Complex(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect();
            edges.insert(s.name.clone(), targets);
        }
    }
    let reaches = |from: &str, to: &str| {
        let mut seen = HashSet::new();
        let mut stack = vec![from.to_owned()];
        while let Some(n) = stack.pop() {
            if n == to {
                return true;
            }
            if seen.insert(n.clone()) {
                stack.extend(edges.get(&n).into_iter().flatten().cloned());
            }
        }
        false
    };
    for t in datatypes.iter_mut().chain(resources.iter_mut()) {
        for s in &mut t.structs {
            let owner = s.name.clone();
            for f in &mut s.fields {
                if let (false, FieldType::Complex(n)) = (f.cardinality.is_many(), &f.ty) {
                    f.storage = if reaches(n, &owner) { Storage::Boxed } else { Storage::Inline };
                }
            }
        }
    }
}
