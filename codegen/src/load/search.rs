//! SearchParameter resources → [`SearchParamDef`]s of the model, one list per resource.
//!
//! Both shapes are read here: R4 (`base` an array, FHIRPath `expression`, `component` for composites) and DSTU2
//! (`base` one string, an `xpath` instead of an expression, no components). Parameters of `Resource` and
//! `DomainResource` (`_id`, `_lastUpdated`, `_tag`, ...) are not copied onto every resource: the runtime
//! (`fhir_models::search`) offers them on every builder.
//!
//! A token parameter on a `code` element with a required binding takes the code enum generated for that
//! binding: its expression is walked through the already loaded types down to the element's field type
//! ([`FieldType::Code`]). A token on an `Identifier` element becomes [`SearchKind::Identifier`] (it also takes
//! `:of-type`). Expressions the walk cannot follow (`where(..)`, `resolve()`, extensions) leave the token unbound.

use super::LoadError;
use crate::model::*;
use crate::naming;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// Reference parameters whose targets cover at least this share of all resources take any resource (the
/// packages list all ~145 types for `Provenance.target`, `List.item`, ...; a generic bound is cheaper than one
/// impl per type).
const ANY_TARGET_SHARE: f64 = 0.9;

/// Reads the core's SearchParameters and those of the IG packages (`id#version` and its resources, in the
/// manifest's order) into `model.search_params`, binding to the types and code enums already in `model`.
///
/// One code on one resource is one builder method, so when several definitions declare it, the first wins: the
/// core's (an IG that re-declares a core parameter, such as US Core's `Patient-birthdate`, narrowing its targets
/// to `Patient`, does not replace it; searches valid against the core stay valid), then the IG packages in the
/// order listed. The manifest lists an IG's releases oldest first (US Core 3.1.1 before 8.0.0), so adding a new
/// release adds the parameters it introduces and never changes a method users already call. When a later IG
/// package declares the code differently (another kind, other reference targets, another bound code enum or
/// other composite components), the first definition is still the one generated and the generator reports a
/// warning naming both packages and URLs: nothing is replaced silently. (US Core 3.1.1/8.0.0 and CARIN BB
/// 1.1.0/2.0.0 agree on every code they share.)
pub fn load_search_params(core: &[Value], igs: &[(String, Vec<Value>)], model: &mut VersionModel) -> Result<(), LoadError> {
    let search_parameters: Vec<(Option<&str>, &Value)> = core
        .iter()
        .map(|sp| (None, sp))
        .chain(igs.iter().flat_map(|(package, sps)| sps.iter().map(move |sp| (Some(package.as_str()), sp))))
        .collect();
    let by_url: HashMap<&str, &Value> =
        search_parameters.iter().filter_map(|(_, sp)| Some((sp["url"].as_str()?, *sp))).collect();
    let resource_names: Vec<&str> = model.resources.iter().map(|t| t.name.as_str()).collect();
    let walker = Walker::new(model);
    let mut out: BTreeMap<ResourceName, Vec<SearchParamDef>> = BTreeMap::new();
    // The package each generated parameter came from (`None` for the core), by resource and code.
    let mut origin: HashMap<(String, String), Option<&str>> = HashMap::new();
    let mut warnings = Vec::new();

    for &(package, sp) in &search_parameters {
        let (Some(code), Some(kind_text)) = (sp["code"].as_str(), sp["type"].as_str()) else { continue };
        let Some(base_kind) = kind_of(kind_text) else { continue };
        if code.starts_with('_') {
            // `_id`, `_lastUpdated`, ... are on every builder already (IGs re-declare them per resource).
            continue;
        }
        let bases: Vec<&str> = match &sp["base"] {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        for base in bases {
            if !resource_names.contains(&base) {
                // `Resource` / `DomainResource` parameters are on every builder already; others are unknown here.
                continue;
            }
            let def = param_def(sp, base, code, base_kind, &by_url, &walker, &resource_names);
            // `base` is one of the version's resources (checked above).
            let params = out.entry(ResourceName::new(base)).or_default();
            let key = (base.to_owned(), code.to_owned());
            if let Some(first) = params.iter().find(|p| p.code == code) {
                // The same code twice on one base (R4 `Condition.subject`, or two IG releases): the first wins.
                if let (Some(Some(first_package)), Some(package)) = (origin.get(&key), package) {
                    if *first_package != package && !same_shape(first, &def) {
                        warnings.push(format!(
                            "search parameter `{code}` of {base}: {package} ({}) declares it unlike {first_package} ({}); \
                             the builder method follows {first_package}",
                            def.url, first.url
                        ));
                    }
                }
                continue;
            }
            origin.insert(key, package);
            params.push(def);
        }
    }
    for (resource, params) in &mut out {
        params.sort_by(|a, b| a.code.cmp(&b.code));
        let mut seen: HashMap<&str, &str> = HashMap::new();
        for p in params.iter() {
            if let Some(prev) = seen.insert(&p.method, &p.code) {
                return Err(LoadError::NameClash(format!(
                    "search method `{}` of {resource} (parameters `{prev}` and `{}`)",
                    p.method, p.code
                )));
            }
        }
    }
    out.retain(|_, v| !v.is_empty());
    model.search_params = out;
    model.warnings.extend(warnings);
    Ok(())
}

/// One definition of parameter `code` on `base`.
fn param_def(
    sp: &Value,
    base: &str,
    code: &str,
    base_kind: SearchKind,
    by_url: &HashMap<&str, &Value>,
    walker: &Walker<'_>,
    resource_names: &[&str],
) -> SearchParamDef {
    let paths = paths_for(sp, base);
    let mut kind = base_kind;
    let mut bound_code_enum = None;
    if kind == SearchKind::Token {
        match walker.common_end(base, &paths) {
            Some(End::Code(e)) => bound_code_enum = Some(e),
            Some(End::Identifier) => kind = SearchKind::Identifier,
            None => {}
        }
    }
    let mut components = Vec::new();
    if kind == SearchKind::Composite {
        components = composite_components(sp, base, &paths, by_url, walker);
        if components.len() < 2 {
            // DSTU2 composites name no components: without them the value can only be written raw.
            kind = SearchKind::Special;
            components.clear();
        }
    }
    let targets = if kind == SearchKind::Reference { targets_of(sp, resource_names) } else { Vec::new() };
    SearchParamDef {
        code: code.to_owned(),
        method: naming::field(&code.replace('-', "_")),
        kind,
        targets,
        bound_code_enum,
        components,
        doc: doc_for(sp, base, code),
        url: CanonicalUrl::new(sp["url"].as_str().unwrap_or_default()),
    }
}

/// Whether two definitions of one parameter give the same builder method (kind, targets, bound enum,
/// components; the docs may differ).
fn same_shape(a: &SearchParamDef, b: &SearchParamDef) -> bool {
    a.kind == b.kind && a.targets == b.targets && a.bound_code_enum == b.bound_code_enum && a.components == b.components
}

fn kind_of(text: &str) -> Option<SearchKind> {
    Some(match text {
        "number" => SearchKind::Number,
        "date" => SearchKind::Date,
        "string" => SearchKind::String,
        "token" => SearchKind::Token,
        "reference" => SearchKind::Reference,
        "composite" => SearchKind::Composite,
        "quantity" => SearchKind::Quantity,
        "uri" => SearchKind::Uri,
        "special" => SearchKind::Special,
        _ => return None,
    })
}

/// Target resource types known to the model, sorted; empty for "any resource".
fn targets_of(sp: &Value, resource_names: &[&str]) -> Vec<ResourceName> {
    let listed: Vec<&str> = sp["target"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    if listed.iter().any(|t| *t == "Resource" || *t == "Any") {
        return Vec::new();
    }
    let mut known: Vec<ResourceName> =
        listed.iter().filter(|t| resource_names.contains(t)).map(|t| ResourceName::new(*t)).collect();
    known.sort();
    known.dedup();
    if known.is_empty() || known.len() as f64 >= ANY_TARGET_SHARE * resource_names.len() as f64 {
        return Vec::new();
    }
    known
}

/// The element paths (`Patient.gender`, `Observation.value`) the parameter reads on `base`, as far as they are
/// plain paths. From the R4 `expression` or the DSTU2 `xpath`; the parts for other bases are dropped.
fn paths_for(sp: &Value, base: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(expr) = sp["expression"].as_str() {
        for part in expr.split('|') {
            let mut p = part.trim();
            while let Some(inner) = p.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
                p = inner.trim();
            }
            // `Observation.value as Quantity` / `.as(Quantity)`: the choice element itself.
            let p = p.split(" as ").next().unwrap_or(p).trim();
            let p = p.split(".as(").next().unwrap_or(p);
            out.push(p.to_owned());
        }
    } else if let Some(xpath) = sp["xpath"].as_str() {
        for part in xpath.split('|') {
            let p: Vec<&str> = part.trim().split('/').map(|s| s.trim().trim_start_matches("f:")).collect();
            out.push(p.join("."));
        }
    }
    out.retain(|p| p.strip_prefix(base).is_some_and(|rest| rest.starts_with('.')));
    out
}

/// What a token's path ends in, when that matters for its Rust shape.
#[derive(Debug, Clone, PartialEq, Eq)]
enum End {
    /// A `code` bound to this code enum.
    Code(CodeEnumName),
    /// An `Identifier`.
    Identifier,
}

/// Walks plain element paths through the loaded structs.
struct Walker<'m> {
    structs: HashMap<&'m str, &'m StructDef>,
}

impl<'m> Walker<'m> {
    fn new(model: &'m VersionModel) -> Self {
        let structs = model
            .datatypes
            .iter()
            .chain(&model.resources)
            .flat_map(|t| t.structs.iter())
            .map(|s| (s.name.as_str(), s))
            .collect();
        Walker { structs }
    }

    /// The field type at the end of `path` (`Patient.contact.gender`), when every step is a plain element.
    fn field_type(&self, path: &str) -> Option<&'m FieldType> {
        let mut segments = path.split('.');
        let mut current = *self.structs.get(segments.next()?)?;
        let mut ty: Option<&'m FieldType> = None;
        for seg in segments {
            if let Some(t) = ty {
                let FieldType::Complex(name) = t else { return None };
                current = *self.structs.get(name.as_str())?;
            }
            if !seg.chars().all(|c| c.is_ascii_alphanumeric()) {
                return None;
            }
            ty = Some(&current.fields.iter().find(|f| f.json == seg)?.ty);
        }
        ty
    }

    fn end(&self, path: &str) -> Option<End> {
        match self.field_type(path)? {
            FieldType::Code(e) => Some(End::Code(e.clone())),
            FieldType::Complex(n) if n == "Identifier" => Some(End::Identifier),
            _ => None,
        }
    }

    /// The end shared by all `paths` (none when they disagree or one cannot be followed).
    fn common_end(&self, _base: &str, paths: &[String]) -> Option<End> {
        let mut ends = paths.iter().map(|p| self.end(p));
        let first = ends.next()??;
        ends.all(|e| e.as_ref() == Some(&first)).then_some(first)
    }
}

/// The components of an R4 composite, each resolved through its own SearchParameter definition.
fn composite_components(
    sp: &Value,
    base: &str,
    paths: &[String],
    by_url: &HashMap<&str, &Value>,
    walker: &Walker<'_>,
) -> Vec<SearchComponentDef> {
    let mut out = Vec::new();
    for c in sp["component"].as_array().into_iter().flatten() {
        let Some(def) = c["definition"].as_str().and_then(|u| by_url.get(u)) else { return Vec::new() };
        let Some(mut kind) = def["type"].as_str().and_then(kind_of) else { return Vec::new() };
        if kind == SearchKind::Composite || kind == SearchKind::Special {
            return Vec::new();
        }
        let mut bound_code_enum = None;
        if kind == SearchKind::Token {
            let rel = c["expression"].as_str().unwrap_or_default();
            let rel = rel.split(".as(").next().unwrap_or(rel);
            let full: Vec<String> = paths.iter().map(|p| format!("{p}.{rel}")).collect();
            let full = if full.is_empty() { vec![format!("{base}.{rel}")] } else { full };
            match walker.common_end(base, &full) {
                Some(End::Code(e)) => bound_code_enum = Some(e),
                Some(End::Identifier) => kind = SearchKind::Identifier,
                None => {}
            }
        }
        out.push(SearchComponentDef { kind, bound_code_enum });
    }
    out
}

/// The doc text for `base`: its own line of a multi-resource description, else the first sentence.
fn doc_for(sp: &Value, base: &str, code: &str) -> String {
    let description = sp["description"].as_str().unwrap_or_default().replace("\r\n", "\n");
    let own_line = description.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("* [")?;
        let (name, rest) = rest.split_once(']')?;
        if name != base {
            return None;
        }
        let (_, text) = rest.split_once("):")?;
        Some(text.trim().to_owned())
    });
    let text = own_line.unwrap_or_else(|| first_sentence(&description));
    let text = text.replace(['[', ']'], "");
    let text = if text.trim().is_empty() { format!("The `{code}` search parameter.") } else { text.trim().to_owned() };
    // Parameters of implementation guides say where they come from (servers that do not implement the IG ignore
    // or refuse them).
    match sp["url"].as_str() {
        Some(url) if !url.starts_with(CORE_URL) => {
            let stop = if text.ends_with('.') { "" } else { "." };
            format!("{text}{stop} Defined by <{url}>.")
        }
        _ => text,
    }
}

/// Where the core specification's SearchParameters live (R4 and DSTU2).
const CORE_URL: &str = "http://hl7.org/fhir/SearchParameter/";

fn first_sentence(text: &str) -> String {
    let line = text.trim().lines().next().unwrap_or_default();
    match line.find(". ") {
        Some(i) => line[..=i].to_owned(),
        None => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn first_sentences_and_own_lines() {
        let sp = json!({"description": "Multiple Resources: \r\n\r\n* [Person](person.html): The gender of the person\r\n* [Patient](patient.html): Gender of the patient\r\n"});
        assert_eq!(doc_for(&sp, "Patient", "gender"), "Gender of the patient");
        let sp = json!({"description": "A name. More text here."});
        assert_eq!(doc_for(&sp, "Patient", "name"), "A name.");
        assert_eq!(doc_for(&json!({}), "Patient", "x"), "The `x` search parameter.");
    }

    fn one_resource_model() -> VersionModel {
        let patient = StructDef {
            name: "Patient".into(),
            path: "Patient".into(),
            doc: String::new(),
            resource_type: Some("Patient".into()),
            fields: Vec::new(),
        };
        VersionModel {
            module: "r4".into(),
            marker: "R4".into(),
            fhir_version: "4.0.1".into(),
            sources: Vec::new(),
            datatypes: Vec::new(),
            resources: vec![TypeDef {
                name: "Patient".into(),
                url: CanonicalUrl::new(""),
                kind: TypeKind::Resource,
                file: "patient".into(),
                feature: Some("r4-patient".into()),
                structs: vec![patient],
                choices: Vec::new(),
            }],
            code_enums: Vec::new(),
            base_resources: Vec::new(),
            omitted_resources: Vec::new(),
            search_params: Default::default(),
            profiles: Vec::new(),
            profile_shared: Default::default(),
            warnings: Vec::new(),
        }
    }

    fn sp(url: &str, code: &str, kind: &str) -> Value {
        json!({"resourceType": "SearchParameter", "url": url, "code": code, "type": kind, "base": ["Patient"], "expression": "Patient.name"})
    }

    /// Two releases of one IG: the first listed defines the method; a later one that agrees is silent, one that
    /// declares the code differently is reported with both packages and URLs; a core parameter always wins.
    #[test]
    fn the_first_definition_of_a_code_wins_and_a_different_later_one_is_reported() {
        let mut model = one_resource_model();
        let core = [sp("http://hl7.org/fhir/SearchParameter/Patient-name", "name", "string")];
        let igs = [
            ("ig.a#1.0.0".to_owned(), vec![sp("http://a/SearchParameter/nick", "nick", "token"), sp("http://a/SearchParameter/name", "name", "token")]),
            ("ig.a#2.0.0".to_owned(), vec![sp("http://a/SearchParameter/nick", "nick", "token"), sp("http://a/SearchParameter/alias", "alias", "string")]),
            ("ig.b#1.0.0".to_owned(), vec![sp("http://b/SearchParameter/nick", "nick", "string")]),
        ];
        load_search_params(&core, &igs, &mut model).unwrap();
        let params = &model.search_params["Patient"];
        let by_code = |c: &str| params.iter().find(|p| p.code == c).unwrap();
        assert_eq!(params.iter().map(|p| p.code.as_str()).collect::<Vec<_>>(), ["alias", "name", "nick"]);
        assert_eq!(by_code("name").kind, SearchKind::String);
        assert_eq!(by_code("nick").kind, SearchKind::Token);
        assert_eq!(by_code("nick").url, "http://a/SearchParameter/nick");
        assert_eq!(by_code("alias").url, "http://a/SearchParameter/alias");
        assert_eq!(model.warnings.len(), 1, "{:?}", model.warnings);
        let w = &model.warnings[0];
        assert!(w.contains("`nick` of Patient") && w.contains("ig.b#1.0.0") && w.contains("ig.a#1.0.0"), "{w}");
        assert!(w.contains("http://b/SearchParameter/nick") && w.contains("http://a/SearchParameter/nick"), "{w}");
    }

    #[test]
    fn paths_from_expressions_and_xpaths() {
        let sp = json!({"expression": "Observation.code | (Condition.value as Quantity) | Condition.x.as(Range)"});
        assert_eq!(paths_for(&sp, "Condition"), vec!["Condition.value", "Condition.x"]);
        let sp = json!({"xpath": "f:Patient/f:gender | f:Person/f:gender"});
        assert_eq!(paths_for(&sp, "Patient"), vec!["Patient.gender"]);
    }
}
