//! Tokens for the typed search builders: per resource an `XSearch` alias, its parameter methods (an inherent
//! impl on `fhir_models::search::Search<X, M>`), the parameter table the query parser checks against, and the
//! target markers of its reference parameters; per version the lookup of any resource's parameter table.
//!
//! Everything with behaviour is generic runtime code in `fhir_models::search`; what is generated here is one
//! small method per parameter, one `const` table and empty marker impls, so the builders cost little to compile.
//! The parameter methods are generic over the builder mode, so they are not compiled until used.

use super::{doc, ident, join_names, EmitError};
use crate::model::*;
use crate::naming;
use proc_macro2::TokenStream;
use quote::quote;
use std::collections::HashSet;

fn kind_variant(kind: SearchKind) -> TokenStream {
    match kind {
        SearchKind::Number => quote!(Number),
        SearchKind::Date => quote!(Date),
        SearchKind::String => quote!(String),
        SearchKind::Token => quote!(Token),
        SearchKind::Identifier => quote!(Identifier),
        SearchKind::Reference => quote!(Reference),
        SearchKind::Composite => quote!(Composite),
        SearchKind::Quantity => quote!(Quantity),
        SearchKind::Uri => quote!(Uri),
        SearchKind::Special => quote!(Special),
    }
}

fn kind_name(kind: SearchKind) -> &'static str {
    match kind {
        SearchKind::Number => "number",
        SearchKind::Date => "date",
        SearchKind::String => "string",
        SearchKind::Token => "token",
        SearchKind::Identifier => "token on an Identifier",
        SearchKind::Reference => "reference",
        SearchKind::Composite => "composite",
        SearchKind::Quantity => "quantity",
        SearchKind::Uri => "uri",
        SearchKind::Special => "special",
    }
}

/// The kind type of a parameter or component (`TokenKind<AdministrativeGender>`, `ReferenceKind<Marker>`).
fn kind_type(kind: SearchKind, bound: Option<&str>, targets_marker: Option<&str>, components: &[SearchComponentDef]) -> TokenStream {
    match kind {
        SearchKind::Number => quote!(crate::search::NumberKind),
        SearchKind::Date => quote!(crate::search::DateKind),
        SearchKind::String => quote!(crate::search::StringKind),
        SearchKind::Token => match bound {
            Some(e) => {
                let e = ident(e);
                quote!(crate::search::TokenKind<#e>)
            }
            None => quote!(crate::search::TokenKind<crate::search::AnyCode>),
        },
        SearchKind::Identifier => quote!(crate::search::IdentifierKind),
        SearchKind::Reference => match targets_marker {
            Some(m) => {
                let m = ident(m);
                quote!(crate::search::ReferenceKind<#m>)
            }
            None => quote!(crate::search::ReferenceKind<crate::search::AnyTarget>),
        },
        SearchKind::Composite => {
            let parts = components.iter().map(|c| kind_type(c.kind, c.bound_code_enum.as_deref(), None, &[]));
            quote!(crate::search::CompositeKind<(#(#parts,)*)>)
        }
        SearchKind::Quantity => quote!(crate::search::QuantityKind),
        SearchKind::Uri => quote!(crate::search::UriKind),
        SearchKind::Special => quote!(crate::search::SpecialKind),
    }
}

/// Every Rust type name the version module has, so generated names can avoid them.
fn taken_names(model: &VersionModel) -> HashSet<String> {
    let mut names: HashSet<String> = HashSet::new();
    for t in model.datatypes.iter().chain(&model.resources) {
        names.extend(t.structs.iter().map(|s| s.name.clone()));
        names.extend(t.choices.iter().map(|c| c.name.clone()));
    }
    names.extend(model.code_enums.iter().map(|e| e.name.clone()));
    names.extend(["Resource", "Primitive", model.marker.as_str()].map(str::to_owned));
    names
}

/// The cfg attribute for code that needs resource `name` compiled (none for the base resources).
fn cfg_for(model: &VersionModel, name: &str) -> TokenStream {
    if model.base_resources.iter().any(|b| b == name) {
        return TokenStream::new();
    }
    match model.resources.iter().find(|t| t.name == name).and_then(|t| t.feature.as_ref()) {
        Some(f) => quote!(#[cfg(feature = #f)]),
        None => TokenStream::new(),
    }
}

/// The search items of one resource, appended to the resource's generated file: the builder alias, the
/// parameter table, one method per parameter and the target markers of its reference parameters.
pub fn resource_search(model: &VersionModel, t: &TypeDef) -> Result<TokenStream, EmitError> {
    let name = ident(&t.name);
    let alias = naming::search_alias(&t.name);
    let mut taken = taken_names(model);
    if taken.contains(&alias) {
        return Err(EmitError::NameClash(alias));
    }
    taken.extend(model.resources.iter().map(|r| naming::search_alias(&r.name)));
    let alias_ident = ident(&alias);
    let params: &[SearchParamDef] = model.search_params.get(t.name.as_str()).map(Vec::as_slice).unwrap_or(&[]);

    let alias_doc = doc(&format!(
        "Search builder for `{}` resources: one method per search parameter of {} (FHIR {}), each typed by its \
         kind, plus the common parameters of every resource. See [`crate::search`].",
        t.name, t.name, model.fhir_version
    ));

    let mut methods = Vec::new();
    let mut markers = Vec::new();
    let mut infos = Vec::new();
    for p in params {
        let marker = (p.kind == SearchKind::Reference && !p.targets.is_empty()).then(|| {
            let m = naming::search_targets_marker(&t.name, &p.code, |n| taken.contains(n));
            taken.insert(m.clone());
            m
        });
        methods.push(param_method(p, marker.as_deref()));
        if let Some(m) = &marker {
            markers.push(targets_marker(model, t, p, m));
        }
        infos.push(param_info(p));
    }

    let methods_impl = if methods.is_empty() {
        TokenStream::new()
    } else {
        quote! {
            impl<M: crate::search::Mode> crate::search::Search<#name, M> {
                #(#methods)*
            }
        }
    };
    Ok(quote! {
        #alias_doc
        pub type #alias_ident = crate::search::Search<#name>;

        impl crate::search::Searchable for #name {
            const SEARCH_PARAMS: &'static [crate::search::ParamInfo] = &[#(#infos)*];
            fn search_params_of(resource_type: &str) -> Option<&'static [crate::search::ParamInfo]> {
                super::search_params(resource_type)
            }
        }

        #methods_impl
        #(#markers)*
    })
}

/// The builder method of one parameter, typed by its kind (`marker`: its targets' marker, for a reference).
fn param_method(p: &SearchParamDef, marker: Option<&str>) -> TokenStream {
    let code = &p.code;
    let method = ident(&p.method);
    let kind_ty = kind_type(p.kind, p.bound_code_enum.as_deref(), marker, &p.components);
    let mut text = format!("{}\n\nSearch parameter `{code}` ({}", p.doc, kind_name(p.kind));
    match (p.kind, &p.bound_code_enum) {
        (SearchKind::Token, Some(e)) => text.push_str(&format!(", takes [`{e}`]")),
        (SearchKind::Reference, _) if p.targets.is_empty() => text.push_str(" to any resource"),
        (SearchKind::Reference, _) => text.push_str(&format!(" to {}", join_names(&p.targets, ", "))),
        _ => {}
    }
    text.push_str(").");
    let d = doc(&text);
    quote! {
        #d
        pub fn #method(self) -> crate::search::Param<Self, #kind_ty> {
            crate::search::Param::new(self, #code)
        }
    }
}

/// The marker type of a reference parameter's targets, with a `Target` impl for each target resource.
fn targets_marker(model: &VersionModel, t: &TypeDef, p: &SearchParamDef, marker: &str) -> TokenStream {
    let m_ident = ident(marker);
    let md = doc(&format!(
        "The target types of the reference search parameter `{}` of `{}`: {}. Implements \
         [`crate::search::Target`] for each.",
        p.code,
        t.name,
        join_names(&p.targets, ", ")
    ));
    let impls = p.targets.iter().map(|target| {
        let cfg = cfg_for(model, target);
        let target = ident(target);
        // `do_not_recommend`: a wrong target's error then names this parameter's marker, not a list of
        // unrelated parameters' impls.
        quote! { #cfg #[diagnostic::do_not_recommend] impl crate::search::Target<#m_ident> for #target {} }
    });
    quote! {
        #md
        #[derive(Debug)]
        pub enum #m_ident {}
        #(#impls)*
    }
}

/// The parameter's entry in the resource's `SEARCH_PARAMS` table.
fn param_info(p: &SearchParamDef) -> TokenStream {
    let code = &p.code;
    let kind = kind_variant(p.kind);
    let targets = p.targets.iter().map(ResourceName::as_str);
    let components = p.components.iter().map(|c| kind_variant(c.kind));
    quote! {
        crate::search::ParamInfo {
            code: #code,
            kind: crate::search::ParamKind::#kind,
            targets: &[#(#targets),*],
            components: &[#(crate::search::ParamKind::#components),*],
        },
    }
}

/// The version module's lookup of any compiled resource's parameter table (for chains and includes).
pub fn version_search(model: &VersionModel) -> TokenStream {
    let arms = model.resources.iter().map(|t| {
        let cfg = cfg_for(model, &t.name);
        let rt = &t.name;
        let n = ident(&t.name);
        quote! { #cfg #rt => Some(<#n as crate::search::Searchable>::SEARCH_PARAMS), }
    });
    quote! {
        /// The search parameters of a resource type of this version, when its feature is on.
        fn search_params(resource_type: &str) -> Option<&'static [crate::search::ParamInfo]> {
            match resource_type {
                #(#arms)*
                _ => None,
            }
        }
    }
}
