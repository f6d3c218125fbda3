//! Tokens for profile modules (`r4::us_core`): one view type per profile (the common items come from the
//! runtime's `profile_view!`), its checks as a list of calls into `fhir_models::profile::Checker`, and its
//! typed accessors; the module root holds the extension structs, code enums and coding helpers.

use super::{doc, format_file, ident, join_names, profile_build, types, EmitError, GeneratedFile, FHIR_MODELS_VERSION};
use crate::model::*;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

/// Where a profile module's code goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Inside `fhir-models`: a directory with one file per profile and a `mod.rs`, items shared with other
    /// profile modules re-exported from the version's `profile_shared`.
    InModels,
    /// One self-contained file for `include!` (from a user's `build.rs` into `OUT_DIR`): no inner attributes,
    /// profiles as inline modules, the core types by absolute path (`::fhir_models::r4`), shared items inlined.
    SingleFile,
}

/// All files of one profile module (one file for [`Layout::SingleFile`], named `<module>.rs`): the profiles
/// (files of their own, or inline modules), then the module root with its header, the items shared with other
/// modules, the tables of the profiles, the module's enums and extension structs, and the coding helpers.
pub fn profile_module(model: &VersionModel, m: &ProfileModule, header: &str, layout: Layout) -> Result<Vec<GeneratedFile>, EmitError> {
    let cx = Cx::new(model)?;
    let (mut files, profiles) = profile_items(&cx, model, m, header, layout)?;
    let (attrs, uses) = module_header(model, m, layout);
    let shared = shared_reexports(&cx, model, m, layout);
    let tables = profile_tables(m);
    let enums = m.code_enums.iter().map(|e| types::code_enum(model, e)).chain(m.coding_enums.iter().map(profile_build::coding_enum));
    let exts = m.extensions.iter().map(|x| extension_struct(&cx, x));
    let vs_consts = value_set_items(m);
    let helpers = coding_helpers();
    let root = quote! {
        #attrs
        #uses
        #[allow(unused_imports)]
        use ::fhir_models::__private::{profile_view, Checker, CodeEnum, ProfileError};

        #profiles
        #shared
        #tables
        #(#enums)*
        #(#exts)*
        #vs_consts
        #helpers
    };
    let root_file = match layout {
        Layout::InModels => format!("src/{}/{}/mod.rs", model.module, m.module),
        Layout::SingleFile => format!("{}.rs", m.module),
    };
    files.push(format_file(&root_file, header, root)?);
    Ok(files)
}

/// The profiles of a module: in [`Layout::InModels`] one file each (returned) and their `mod` declarations (the
/// tokens, for the root); in [`Layout::SingleFile`] inline modules (the tokens) and no files.
fn profile_items(cx: &Cx, model: &VersionModel, m: &ProfileModule, header: &str, layout: Layout) -> Result<(Vec<GeneratedFile>, TokenStream), EmitError> {
    let file_allow = quote!(unused_imports, unused_variables, unused_parens, clippy::all);
    let mut files = Vec::new();
    let mut items = Vec::new();
    for p in &m.profiles {
        let body = profile(cx, model, p);
        let f = ident(&p.file);
        match layout {
            Layout::InModels => {
                files.push(format_file(
                    &format!("src/{}/{}/{}.rs", model.module, m.module, p.file),
                    header,
                    quote! {
                        #![allow(#file_allow)]
                        use super::*;
                        #body
                    },
                )?);
                items.push(quote! { mod #f; pub use #f::*; });
            }
            Layout::SingleFile => items.push(quote! {
                #[allow(#file_allow)]
                mod #f { use super::*; #body }
                pub use #f::*;
            }),
        }
    }
    Ok((files, quote! { #(#items)* }))
}

/// The module root's inner attributes and imports: in `fhir-models` the module docs and `use super::*`; in a
/// single file for `include!`, the version assertion and the version module's types by absolute path.
fn module_header(model: &VersionModel, m: &ProfileModule, layout: Layout) -> (TokenStream, TokenStream) {
    match layout {
        Layout::InModels => {
            let title = format!(
                " Profiles of {} over the FHIR {} ({}) core types: checked views, with typed accessors of their extensions and slices.\n\n \
                 Behind the `{}` feature. See [`crate::profile`] for what the checks report.",
                m.package, model.marker, model.fhir_version, m.feature
            ) + &profile_build::module_example(model, m);
            (
                quote! {
                    #![doc = #title]
                    #![allow(unused_imports, dead_code, clippy::all)]
                },
                quote! { use super::*; },
            )
        }
        Layout::SingleFile => {
            let version = FHIR_MODELS_VERSION;
            let version_module = ident(&model.module);
            (
                TokenStream::new(),
                quote! {
                    ::fhir_models::__private::assert_generated_for!(#version);
                    #[allow(unused_imports)]
                    use ::fhir_models::#version_module::*;
                },
            )
        }
    }
}

/// The items the module shares with other profile modules: re-exported from the version's `profile_shared` in
/// `fhir-models`, generated inline in a single file.
fn shared_reexports(cx: &Cx, model: &VersionModel, m: &ProfileModule, layout: Layout) -> TokenStream {
    if m.shared.is_empty() {
        return TokenStream::new();
    }
    match layout {
        Layout::InModels => {
            let shared = m.shared.iter().map(|n| ident(n.name()));
            quote! { pub use super::profile_shared::{#(#shared),*}; }
        }
        Layout::SingleFile => {
            let ps = &model.profile_shared;
            let exts = ps.extensions.iter().filter(|x| m.shares(&x.item.name)).map(|x| extension_struct(cx, &x.item));
            let enums = ps.code_enums.iter().filter(|e| m.shares(&e.item.name)).map(|e| types::code_enum(model, &e.item));
            let enums = enums.chain(ps.coding_enums.iter().filter(|e| m.shares(&e.item.name)).map(|e| profile_build::coding_enum(&e.item)));
            quote! { #(#exts)* #(#enums)* }
        }
    }
}

/// The module's tables of its profiles (`PROFILE_URLS`, `PROFILES`, `CONSTRUCTORS`) and its `check_profile`.
fn profile_tables(m: &ProfileModule) -> TokenStream {
    let urls = m.profiles.iter().map(|p| p.url());
    let listed = m.profiles.iter().map(|p| {
        let (url, version) = (p.url(), p.version());
        quote! { (#url, #version) }
    });
    let constructors = m.profiles.iter().map(|p| {
        let n = ident(&p.name);
        quote! { (#n::PROFILE_URL, #n::TEMPLATE_JSON, #n::REQUIRED_ARGS) }
    });
    let arms = m.profiles.iter().map(|p| {
        let (url, version, n, b) = (p.url(), p.version(), ident(&p.name), ident(&p.base));
        quote! { (#url, Resource::#b(r)) if version.is_none() || version == Some(#version) => Some(#n::check(r)), }
    });
    quote! {
        /// Canonical URLs of the profiles of this module.
        pub const PROFILE_URLS: &[&str] = &[#(#urls),*];

        /// The profiles of this module: canonical URL and the version generated.
        pub const PROFILES: &[(&str, &str)] = &[#(#listed),*];

        /// The constructor of every profile of this module as data, for tools that build resources generically:
        /// canonical URL, the template's JSON and the FHIR paths of the constructor's arguments (each view's
        /// `PROFILE_URL`, `TEMPLATE_JSON` and `REQUIRED_ARGS`).
        pub const CONSTRUCTORS: &[(&str, &str, &[&str])] = &[#(#constructors),*];

        /// Checks any resource against a profile of this module named by its canonical URL, as in `meta.profile`:
        /// `None` when the URL is not one of [`PROFILE_URLS`], when it claims another version (`url|version`)
        /// than the one generated here (see [`PROFILES`]; another version's rules are never applied), or when the
        /// resource is not of the profile's base type. The version's `check_profile` asks every compiled module.
        pub fn check_profile(url: &str, resource: &Resource) -> Option<Result<(), ::fhir_models::__private::ProfileError>> {
            let (url, version) = match url.split_once('|') {
                Some((url, version)) => (url, Some(version)),
                None => (url, None),
            };
            match (url, resource) {
                #(#arms)*
                _ => None,
            }
        }
    }
}

/// The module constants listing the codings of the value sets its checks and slices use.
fn value_set_items(m: &ProfileModule) -> TokenStream {
    let consts = value_set_consts(m).into_iter().map(|ValueSetConst { url, name, codings }| {
        let n = ident(&name);
        let list = coding_list(codings);
        let d = doc(&format!("The codings of the value set <{url}> (a required binding)."));
        quote! { #d #[allow(dead_code)] const #n: &[(Option<&str>, Option<&str>)] = #list; }
    });
    quote! { #(#consts)* }
}

/// The module's private helpers the views' checks, slices and setters call.
fn coding_helpers() -> TokenStream {
    quote! {
        /// Replaces the extensions of `url` by `new`, where the first of them was (the view setters).
        #[allow(dead_code)]
        fn set_extensions(list: &mut Vec<Extension>, url: &str, new: Vec<Extension>) {
            ::fhir_models::__private::replace_items(list, |e| e.url.as_deref() == Some(url), new)
        }

        /// Whether a coding has the system and code (each when given).
        #[allow(dead_code)]
        fn coding_is(c: &Coding, system: Option<&str>, code: Option<&str>) -> bool {
            (system.is_none() || c.system.as_ref().and_then(|p| p.value.as_deref()) == system)
                && (code.is_none() || c.code.as_ref().and_then(|p| p.value.as_deref()) == code)
        }

        /// Whether a concept has a coding with the system and code (each when given).
        #[allow(dead_code)]
        fn concept_has(cc: &CodeableConcept, system: Option<&str>, code: Option<&str>) -> bool {
            cc.coding.iter().any(|c| coding_is(c, system, code))
        }

        /// Whether a coding is one of the listed ones.
        #[allow(dead_code)]
        fn coding_in(c: &Coding, list: &[(Option<&str>, Option<&str>)]) -> bool {
            list.iter().any(|(s, k)| coding_is(c, *s, *k))
        }

        /// Whether a concept has a coding among the listed ones.
        #[allow(dead_code)]
        fn concept_in(cc: &CodeableConcept, list: &[(Option<&str>, Option<&str>)]) -> bool {
            cc.coding.iter().any(|c| coding_in(c, list))
        }
    }
}

/// `profile_shared.rs` of a version module: the extension structs and code enums several profile modules use,
/// each once, compiled with any of them.
pub fn shared_items(model: &VersionModel, header: &str) -> Result<Option<GeneratedFile>, EmitError> {
    let shared = &model.profile_shared;
    if shared.extensions.is_empty() && shared.code_enums.is_empty() && shared.coding_enums.is_empty() {
        return Ok(None);
    }
    let cx = Cx::new(model)?;
    let items = shared
        .extensions
        .iter()
        .map(|x| (x.item.name.as_str(), &x.features, extension_struct(&cx, &x.item)))
        .chain(shared.code_enums.iter().map(|e| (e.item.name.as_str(), &e.features, types::code_enum(model, &e.item))))
        .chain(shared.coding_enums.iter().map(|e| (e.item.name.as_str(), &e.features, profile_build::coding_enum(&e.item))))
        .map(|(name, features, body)| {
            let m = ident(&crate::naming::module(name));
            quote! {
                #[cfg(any(#(feature = #features),*))]
                mod #m { use super::*; #body }
                #[cfg(any(#(feature = #features),*))]
                pub use #m::*;
            }
        });
    let tokens = quote! {
        //! Extension structs and code enums that several profile modules generate identically, once; each
        //! module re-exports the ones it uses.
        #![allow(unused_imports, dead_code, clippy::all)]
        use super::*;
        use ::fhir_models::__private::CodeEnum;
        #(#items)*
    };
    Ok(Some(format_file(&format!("src/{}/profile_shared.rs", model.module), header, tokens)?))
}

/// `profiles.rs` of a version module: `check_profile` over every compiled profile module, which answers a claimed
/// version that no module generates as such.
pub fn version_check_profile(model: &VersionModel, header: &str) -> Result<Option<GeneratedFile>, EmitError> {
    if model.profiles.is_empty() {
        return Ok(None);
    }
    let asks = model.profiles.iter().map(|p| {
        let (m, f) = (ident(&p.module), &p.feature);
        quote! {
            #[cfg(feature = #f)]
            if let Some(result) = #m::check_profile(url, resource) {
                return result.into();
            }
        }
    });
    let lists = model.profiles.iter().map(|p| {
        let (m, f) = (ident(&p.module), &p.feature);
        quote! {
            #[cfg(feature = #f)]
            generated.extend(#m::PROFILES.iter().filter(|(u, _)| *u == base).map(|(_, v)| *v));
        }
    });
    let modules: Vec<String> = model.profiles.iter().map(|p| format!("`{}` ({})", p.module, p.package)).collect();
    let d = doc(&format!(
        "Checks a resource against the profile named by a canonical URL (as in `meta.profile`, with or without          `|version`), in whichever compiled profile module generates it: {}.\n\n         A claimed version that no compiled module generates is answered as          [`ProfileCheck::VersionNotGenerated`](crate::profile::ProfileCheck::VersionNotGenerated) with the          versions that are, never checked by another version's rules.",
        modules.join(", ")
    ));
    let tokens = quote! {
        #![allow(unused_imports, unused_mut, unused_variables, clippy::all)]
        use super::*;
        use ::fhir_models::__private::ProfileCheck;

        #d
        pub fn check_profile(url: &str, resource: &Resource) -> ProfileCheck {
            #(#asks)*
            let (base, claimed) = match url.split_once('|') {
                Some((base, version)) => (base, Some(version)),
                None => (url, None),
            };
            let mut generated: Vec<&'static str> = Vec::new();
            #(#lists)*
            match claimed {
                Some(claimed) if !generated.is_empty() => {
                    ProfileCheck::VersionNotGenerated { url: base.to_owned(), claimed: claimed.to_owned(), generated }
                }
                _ => ProfileCheck::NotGenerated,
            }
        }
    };
    Ok(Some(format_file(&format!("src/{}/profiles.rs", model.module), header, tokens)?))
}

struct Cx {
    /// The version's `Extension.value[x]` enum.
    ext_choice: ChoiceName,
}

impl Cx {
    fn new(model: &VersionModel) -> Result<Self, EmitError> {
        let ext_choice = model.extension_value().ok_or_else(|| EmitError::NoExtensionValue(model.module.clone()))?;
        Ok(Cx { ext_choice: ext_choice.clone() })
    }
}

fn opt(s: &Option<String>) -> TokenStream {
    match s {
        Some(s) => quote!(Some(#s)),
        None => quote!(None),
    }
}

fn pattern_text(codings: &[CodingPattern]) -> String {
    codings
        .iter()
        .map(|c| format!("{}|{}", c.system.as_deref().unwrap_or(""), c.code.as_deref().unwrap_or("")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The values of a field as an iterator of references.
fn values(f: &FieldRef, var: &Ident) -> TokenStream {
    let n = ident(&f.rust);
    if f.storage == Storage::Boxed && !f.cardinality.is_many() {
        quote!(#var.#n.as_deref().into_iter())
    } else {
        quote!(#var.#n.iter())
    }
}

/// The text of one value of a primitive field, as `Option<&str>`.
fn text_of(ty: &FieldType, v: &Ident) -> TokenStream {
    match ty {
        FieldType::PlainString => quote!(Some(#v.as_str())),
        FieldType::Code(_) => quote!(#v.value.as_ref().map(CodeEnum::code)),
        FieldType::Primitive(Prim::Bool) => quote!(#v.value.map(|b| if b { "true" } else { "false" })),
        FieldType::Primitive(Prim::Integer | Prim::Unsigned | Prim::Integer64) => quote!(#v.value.map(|n| n.to_string()).as_deref()),
        // A choice narrowed to `code` (an extension's value): the code when the value is one.
        FieldType::Choice(e) => {
            let e = ident(e);
            quote!(match #v { #e::Code(p) => p.value.as_deref(), _ => None })
        }
        _ => quote!(#v.value.as_deref()),
    }
}

/// Whether one value (a `CodeableConcept` or `Coding`, by type name) has every coding.
fn codings_match(ty: &str, codings: &[CodingPattern], v: &Ident) -> TokenStream {
    let f = if ty == "Coding" { quote!(coding_is) } else { quote!(concept_has) };
    let parts = codings.iter().map(|c| {
        let (s, k) = (opt(&c.system), opt(&c.code));
        quote!(#f(#v, #s, #k))
    });
    let parts: Vec<TokenStream> = parts.collect();
    if parts.len() == 1 {
        return parts[0].clone();
    }
    quote!(( #(#parts)&&* ))
}

/// A module constant listing the codings of a value set used in required bindings or as a slice discriminator.
struct ValueSetConst<'m> {
    /// The value set.
    url: &'m CanonicalUrl,
    /// The constant's name ([`naming::value_set_const`](crate::naming::value_set_const)).
    name: String,
    /// Its codings.
    codings: &'m [CodingPattern],
}

/// The value sets used as slice discriminators in a module, each with its codings once.
fn value_set_consts(m: &ProfileModule) -> Vec<ValueSetConst<'_>> {
    fn add<'m>(out: &mut Vec<ValueSetConst<'m>>, url: &'m CanonicalUrl, codings: &'m [CodingPattern]) {
        if !out.iter().any(|c| c.url == url) {
            out.push(ValueSetConst { url, name: crate::naming::value_set_const(url), codings });
        }
    }
    fn walk<'m>(n: &'m CheckNode, out: &mut Vec<ValueSetConst<'m>>) {
        for c in &n.checks {
            if let CheckKind::CodingIn { value_set, codings, .. } = &c.kind {
                add(out, value_set, codings);
            }
        }
        let preds = n
            .checks
            .iter()
            .filter_map(|c| match &c.kind {
                CheckKind::Count { slice: Some(p), .. } => Some(p),
                _ => None,
            })
            .chain(n.children.iter().filter_map(|c| c.slice.as_ref()));
        for p in preds {
            if let SlicePredicate::FieldCodingIn { value_set, codings, .. } = p {
                add(out, value_set, codings);
            }
        }
        for c in &n.children {
            walk(&c.node, out);
        }
    }
    let mut out = Vec::new();
    for p in &m.profiles {
        walk(&p.root, &mut out);
        for a in &p.accessors {
            if let Accessor::Slice { predicate: SlicePredicate::FieldCodingIn { value_set, codings, .. }, .. } = a {
                add(&mut out, value_set, codings);
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn coding_list(codings: &[CodingPattern]) -> TokenStream {
    let items = codings.iter().map(|c| {
        let (s, k) = (opt(&c.system), opt(&c.code));
        quote!((#s, #k))
    });
    quote!(&[ #(#items),* ])
}

fn type_name(ty: &FieldType) -> &str {
    match ty {
        FieldType::Complex(n) => n,
        _ => "",
    }
}

/// Whether item `v` (a value of `field`) belongs to the slice.
pub(super) fn predicate(p: &SlicePredicate, field: &FieldRef, v: &Ident) -> TokenStream {
    let z = ident("z");
    match p {
        SlicePredicate::Url(url) => quote!(#v.url.as_deref() == Some(#url)),
        SlicePredicate::FieldEquals { field: f, value } => {
            let it = values(f, v);
            let t = text_of(&f.ty, &z);
            quote!(#it.any(|#z| #t == Some(#value)))
        }
        SlicePredicate::FieldCodings { field: f, codings } => {
            let it = values(f, v);
            let m = codings_match(type_name(&f.ty), codings, &z);
            quote!(#it.any(|#z| #m))
        }
        SlicePredicate::FieldCodingIn { field: f, value_set: vs, .. } => {
            let it = values(f, v);
            let list = ident(&crate::naming::value_set_const(vs));
            let fun = if type_name(&f.ty) == "Coding" { quote!(coding_in) } else { quote!(concept_in) };
            quote!(#it.any(|#z| #fun(#z, #list)))
        }
        SlicePredicate::SelfEquals(value) => {
            let t = text_of(&field.ty, v);
            quote!(#t == Some(#value))
        }
        SlicePredicate::SelfCodings { type_name: ty, codings } => codings_match(ty, codings, v),
        SlicePredicate::All(parts) => {
            let parts: Vec<TokenStream> = parts.iter().map(|p| predicate(p, field, v)).collect();
            if parts.len() == 1 {
                return parts[0].clone();
            }
            quote!(( #(#parts)&&* ))
        }
    }
}

fn check(c: &Check, var: &Ident, depth: usize) -> TokenStream {
    let label = &c.label;
    let f = &c.field;
    let n = ident(&f.rust);
    let v = ident(&crate::naming::check_binding(depth + 1));
    match &c.kind {
        CheckKind::Count { slice, min, max } => {
            let found = match slice {
                None if f.cardinality.is_many() => quote!(#var.#n.len()),
                None => quote!(usize::from(#var.#n.is_some())),
                Some(p) => {
                    let it = values(f, var);
                    let pred = predicate(p, f, &v);
                    quote!(#it.filter(|#v| #pred).count())
                }
            };
            let max = match max {
                Some(m) => quote!(#m),
                None => quote!(u32::MAX),
            };
            quote! { c.count(#label, #found, #min, #max); }
        }
        CheckKind::Fixed(value) => {
            let it = values(f, var);
            let t = text_of(&f.ty, &v);
            quote! { for #v in #it { c.fixed(#label, #t, #value); } }
        }
        CheckKind::Pattern { type_name: ty, codings } => {
            let it = values(f, var);
            let m = codings_match(ty, codings, &v);
            let text = pattern_text(codings);
            quote! { for #v in #it { c.pattern(#label, #m, #text); } }
        }
        CheckKind::CodeIn { value_set, codes } => {
            let it = values(f, var);
            let t = text_of(&f.ty, &v);
            quote! { for #v in #it { c.code_in(#label, #t, &[#(#codes),*], #value_set); } }
        }
        CheckKind::CodingIn { type_name, value_set, .. } => {
            let it = values(f, var);
            let list = ident(&crate::naming::value_set_const(value_set));
            let (has, ok) = if type_name == "Coding" {
                (quote!(true), quote!(coding_in(#v, #list)))
            } else {
                (quote!(!#v.coding.is_empty()), quote!(concept_in(#v, #list)))
            };
            quote! { for #v in #it { if #has { c.binding(#label, #ok, #value_set); } } }
        }
        CheckKind::ChoiceType { choice, allowed } => {
            let e = ident(choice);
            let pats = allowed.iter().map(|a| {
                let a = ident(a);
                quote!(#e::#a(_))
            });
            let text = join_names(allowed, ", ");
            quote! { if let Some(#v) = &#var.#n { c.choice(#label, matches!(#v, #(#pats)|*), #text); } }
        }
        CheckKind::Reference { choice, targets } => {
            let targets = targets.iter().map(ResourceName::as_str);
            let get = quote!(#v.reference.as_ref().and_then(|p| p.value.as_deref()));
            match choice {
                Some(e) => {
                    let e = ident(e);
                    quote! { if let Some(#e::Reference(#v)) = &#var.#n { c.reference(#label, #get, &[#(#targets),*]); } }
                }
                None => {
                    let it = values(f, var);
                    quote! { for #v in #it { c.reference(#label, #get, &[#(#targets),*]); } }
                }
            }
        }
    }
}

fn node(n: &CheckNode, var: &Ident, depth: usize) -> TokenStream {
    let checks = n.checks.iter().map(|c| check(c, var, depth));
    let children = n.children.iter().map(|ch| {
        let f = &ch.field;
        let name = ident(&f.rust);
        let v = ident(&crate::naming::check_binding(depth + 1));
        let body = node(&ch.node, &v, depth + 1);
        if let Some(ChoiceVariantRef { choice, variant }) = &ch.variant {
            let e = ident(choice);
            let vn = ident(variant);
            let key = format!("{}{}", f.json, variant);
            return quote! {
                if let Some(#e::#vn(#v)) = &#var.#name { let m = c.enter(#key, None); #body c.leave(m); }
            };
        }
        let json = &f.json;
        let filter = match &ch.slice {
            Some(p) => {
                let pred = predicate(p, f, &v);
                quote! { if !(#pred) { continue; } }
            }
            None => TokenStream::new(),
        };
        if f.cardinality.is_many() {
            quote! {
                for (i, #v) in #var.#name.iter().enumerate() { #filter let m = c.enter(#json, Some(i)); #body c.leave(m); }
            }
        } else {
            let it = values(f, var);
            quote! {
                for #v in #it { #filter let m = c.enter(#json, None); #body c.leave(m); }
            }
        }
    });
    quote! { #(#checks)* #(#children)* }
}

/// One line per check for the docs.
fn describe(n: &CheckNode, path: &str, out: &mut Vec<String>) {
    for c in &n.checks {
        let p = format!("{path}.{}", c.label);
        let what = match &c.kind {
            CheckKind::Count { min, max, .. } => format!("{min}..{}", max.map_or("*".to_owned(), |m| m.to_string())),
            CheckKind::Fixed(v) => format!("= `{v}`"),
            CheckKind::Pattern { codings, .. } => format!("has `{}`", pattern_text(codings)),
            CheckKind::CodeIn { value_set, .. } => format!("code from <{value_set}>"),
            CheckKind::CodingIn { value_set, .. } => format!("coded from <{value_set}>"),
            CheckKind::ChoiceType { allowed, .. } => format!("type {}", join_names(allowed, " | ")),
            CheckKind::Reference { targets, .. } => format!("references {}", join_names(targets, " | ")),
        };
        // The element's short definition once, with its first check.
        let first = !out.iter().any(|l: &String| l.starts_with(&format!("- `{p}`:")));
        match (first, c.doc.trim()) {
            (true, short) if !short.is_empty() => out.push(format!("- `{p}`: {what} ({})", short.trim_end_matches('.'))),
            _ => out.push(format!("- `{p}`: {what}")),
        }
    }
    for ch in &n.children {
        let seg = match &ch.variant {
            Some(v) => format!("{}{}", ch.field.json, v.variant),
            None => ch.label.clone(),
        };
        describe(&ch.node, &format!("{path}.{seg}"), out);
    }
}

fn profile(cx: &Cx, model: &VersionModel, p: &ProfileDef) -> TokenStream {
    let name = ident(&p.name);
    let base = ident(&p.base);
    let url = p.url();
    let mut lines = Vec::new();
    describe(&p.root, &p.base, &mut lines);
    // The line with the intra-doc link is written as is: `doc` treats its text as FHIR markdown.
    let link = format!(
        " Profile <{url}> (version {}) on [`{}`]: converting from it (`TryFrom`, `from_json`) checks the profile; \
         converting back (`into_inner`, `From`) is free.",
        p.version(), p.base
    );
    let mut text = format!("Checked ({} checks):\n\n{}", lines.len(), lines.join("\n"));
    text.push_str(
        "\n\nWith the `validate` feature the validator checks the profile instead (everything its snapshot says, \
         invariants included; see `fhir_models::validation`). Without it, never checked: FHIRPath invariants, `mustSupport`, bindings weaker than required, `CodeableConcept`s \
         with text only (against a required binding).",
    );
    if !p.unchecked.is_empty() {
        text.push_str(&format!("\n\nAlso not checked:\n\n{}", p.unchecked.iter().map(|u| format!("- {u}")).collect::<Vec<_>>().join("\n")));
    }
    let (intro, d) = (doc(&p.doc), doc(&text));
    let d = quote! { #intro #[doc = " "] #[doc = #link] #[doc = " "] #d };
    let r = ident("r");
    let body = node(&p.root, &r, 0);
    let version = p.version();
    let accessors = p.accessors.iter().map(|a| accessor(cx, model, a));
    let writers = p.accessors.iter().map(|a| profile_build::writers(&cx.ext_choice, a));
    let constructor = profile_build::constructor(model, p);
    quote! {
        #d
        #[derive(Debug, Clone, PartialEq)]
        #[repr(transparent)]
        pub struct #name(#base);

        profile_view!(#name, #base, #url, #version);

        impl #name {
            /// The profile's checks, reported into `c`.
            fn check_into(r: &#base, c: &mut Checker) { #body }
            #constructor
            #(#accessors)*
            #(#writers)*
        }
    }
}

/// The Rust type and extraction of an extension value of variant `variant` (binding `v`, a value of the
/// version's `Extension.value[x]` enum): (borrowed return type, expression giving `Option<that>`).
fn extension_value(cx: &Cx, variant: &str, ty: &FieldType, code_enum: &Option<CodeEnumName>, x: &Ident) -> (TokenStream, TokenStream) {
    let e = ident(&cx.ext_choice);
    let vn = ident(variant);
    match (ty, code_enum) {
        (_, Some(ce)) => {
            let ce = ident(ce);
            (
                quote!(#ce),
                quote! {
                    match #x.value.as_ref() {
                        Some(#e::#vn(p)) => p.value.as_deref().map(|s| #ce::from_code(s).unwrap_or_else(|| #ce::unrecognized(s.to_owned()))),
                        _ => None,
                    }
                },
            )
        }
        (FieldType::Primitive(_) | FieldType::Code(_), None) => {
            let t = types_value(ty);
            (quote!(&'_ #t), quote! { match #x.value.as_ref() { Some(#e::#vn(p)) => Some(p), _ => None } })
        }
        _ => {
            let t = types_value(ty);
            (quote!(&'_ #t), quote! { match #x.value.as_ref() { Some(#e::#vn(b)) => Some(b.as_ref()), _ => None } })
        }
    }
}

fn types_value(ty: &FieldType) -> TokenStream {
    match ty {
        FieldType::Primitive(p) => {
            let v = prim(*p);
            quote!(Primitive<#v>)
        }
        FieldType::Complex(n) => {
            let n = ident(n);
            quote!(#n)
        }
        FieldType::Code(n) => {
            let n = ident(n);
            quote!(#n)
        }
        _ => quote!(String),
    }
}

pub(super) fn prim(p: Prim) -> TokenStream {
    match p {
        Prim::Bool => quote!(bool),
        Prim::Integer => quote!(i32),
        Prim::Unsigned => quote!(u32),
        Prim::Integer64 => quote!(i64),
        Prim::Decimal => quote!(::fhir_models::Decimal),
        Prim::String => quote!(::fhir_models::FhirString),
        Prim::Date => quote!(::fhir_models::Date),
        Prim::DateTime => quote!(::fhir_models::DateTime),
        Prim::Instant => quote!(::fhir_models::Instant),
        Prim::Time => quote!(::fhir_models::Time),
    }
}

fn accessor(cx: &Cx, _model: &VersionModel, a: &Accessor) -> TokenStream {
    match a {
        Accessor::Extension { method, doc: text, url, cardinality, value } => {
            let m = ident(method);
            let x = ident("x");
            let (ret, get) = match value {
                ExtensionValueKind::Value { variant, ty, code_enum } => extension_value(cx, variant, ty, code_enum, &x),
                ExtensionValueKind::Complex(s) => {
                    let s = ident(s);
                    (quote!(#s), quote!(Some(#s::from_extension(#x))))
                }
            };
            let d = doc(text);
            if cardinality.is_many() {
                quote! {
                    #d
                    pub fn #m(&self) -> Vec<#ret> {
                        self.0.extension.iter().filter(|#x| #x.url.as_deref() == Some(#url)).filter_map(|#x| #get).collect()
                    }
                }
            } else {
                quote! {
                    #d
                    pub fn #m(&self) -> Option<#ret> {
                        self.0.extension.iter().find(|#x| #x.url.as_deref() == Some(#url)).and_then(|#x| #get)
                    }
                }
            }
        }
        Accessor::Slice { method, doc: text, owner, field, item, predicate: p, .. } => {
            let m = ident(method);
            let item = ident(item);
            let v = ident("v");
            let pred = predicate(p, field, &v);
            let d = doc(text);
            // The slice's test, once: the read accessor and the writers (`profile_build::writers`) use it.
            let is = ident(&crate::naming::write_accessor("is", method));
            let is_fn = quote! {
                /// Whether an item belongs to the slice.
                fn #is(#v: &#item) -> bool { #pred }
            };
            match owner {
                None => {
                    let it = values(field, &ident("r"));
                    quote! {
                        #is_fn
                        #d
                        pub fn #m(&self) -> Vec<&#item> { let r = &self.0; #it.filter(|v| Self::#is(v)).collect() }
                    }
                }
                Some(o) => {
                    let o = ident(o);
                    let it = values(field, &ident("parent"));
                    quote! {
                        #is_fn
                        #d
                        pub fn #m(parent: &#o) -> Vec<&#item> { #it.filter(|v| Self::#is(v)).collect() }
                    }
                }
            }
        }
    }
}

fn extension_struct(cx: &Cx, x: &ExtensionStruct) -> TokenStream {
    let name = ident(&x.name);
    let e = ident(&cx.ext_choice);
    let url = &x.url;
    let intro = doc(&x.doc);
    let link = format!(
        " Read from the extension <{url}> by [`{0}::from_extension`], written by [`{0}::to_extension`] (or a view's setter).",
        x.name
    );
    let d = quote! { #intro #[doc = " "] #[doc = #link] };
    let value_ty = profile_build::extension_field_type;
    let plain = |f: &ExtensionField| {
        f.coding_enum.is_none()
            && matches!(f.ty, FieldType::Complex(_) | FieldType::Primitive(Prim::String | Prim::Bool | Prim::Integer | Prim::Unsigned))
    };
    let fields = x.fields.iter().map(|f| {
        let n = ident(&f.rust);
        let t = value_ty(f);
        let ty = if f.cardinality.is_many() {
            quote!(Vec<#t>)
        } else if f.cardinality.is_required() && plain(f) {
            quote!(#t)
        } else {
            quote!(Option<#t>)
        };
        let d = doc(&format!("{} (sub-extension `{}`)", f.doc, f.url));
        quote! { #d pub #n: #ty, }
    });
    let writes = profile_build::extension_struct_writes(&cx.ext_choice, x, plain);
    let arms = x.fields.iter().map(|f| {
        let n = ident(&f.rust);
        let vn = ident(&f.variant);
        let sub_url = &f.url;
        let val = match (&f.coding_enum, &f.ty) {
            (Some(ce), _) => {
                let ce = ident(ce);
                quote!(Some(#ce::from_coding(v)))
            }
            (None, FieldType::Primitive(_)) => quote!(v.value.clone()),
            _ => quote!(Some((**v).clone())),
        };
        let store = if f.cardinality.is_many() {
            quote!(out.#n.extend(#val))
        } else if f.cardinality.is_required() && plain(f) {
            quote!(if let Some(v) = #val { out.#n = v; })
        } else {
            quote!(out.#n = #val)
        };
        quote! { Some(#sub_url) => if let Some(#e::#vn(v)) = &sub.value { #store; }, }
    });
    quote! {
        #d
        #[derive(Debug, Clone, PartialEq, Default)]
        pub struct #name { #(#fields)* }

        impl #name {
            /// The extension's URL.
            pub const URL: &'static str = #url;
            /// Reads the sub-extensions of the extension (unknown ones are ignored; the profile check reports
            /// them when they break its cardinalities).
            pub fn from_extension(x: &Extension) -> Self {
                let mut out = Self::default();
                for sub in &x.extension {
                    match sub.url.as_deref() {
                        #(#arms)*
                        _ => {}
                    }
                }
                out
            }

            #writes
        }
    }
}
