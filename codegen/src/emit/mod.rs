//! Emitting: the intermediate model → formatted Rust files. Never reads JSON.
//!
//! How generated code names the runtime: profile views (the only code generated outside `fhir-models`, into a
//! user's `OUT_DIR`) use absolute paths (`::fhir_models::__private::...`, `::fhir_models::r4::...`) in both
//! layouts, so one body serves both; inside `fhir-models` these resolve through `extern crate self as
//! fhir_models`. The core types (`src/r4/*.rs`) keep `crate::json`, `crate::primitives`, `crate::search`: a FHIR
//! version's `Resource` enum, its `FhirResource` impls and its readers can live only in `fhir-models` (they are
//! never emitted elsewhere), and the in-crate paths keep those files shorter; changing them would rewrite every
//! generated file for no user-visible effect.

mod profile_build;
mod profiles;
pub use profiles::{profile_module, Layout};
mod search;
mod types;

use crate::model::*;
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// A file to write, relative to the `fhir-models` crate root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Path relative to the model crate (`src/r4/patient.rs`).
    pub path: String,
    /// Full content.
    pub content: String,
}

/// Errors while emitting.
#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    /// The tokens do not form a Rust file (a bug in the emitter).
    #[error("generated code for {file} does not parse: {source}")]
    Syntax {
        /// The file.
        file: String,
        /// The parser's message.
        source: syn::Error,
    },
    /// Profile views need the version's `Extension.value[x]` enum, and the version module has none.
    #[error("profile modules of `{0}` need the `Extension.value[x]` choice enum, which that version does not have")]
    NoExtensionValue(String),
    /// A generated name would clash with another item of the module.
    #[error("name clash: `{0}` would be generated twice")]
    NameClash(String),
}

/// The `fhir-models` version the generated code is made for: generator and runtime are released together, with
/// the workspace's version. Code generated outside `fhir-models` asserts it at compile time.
pub const FHIR_MODELS_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The command that regenerates, named in every header.
pub const REGENERATE: &str = "cargo run -p fhir-codegen --release";

/// A canonical URL is emitted as its string literal (as a `String` would be).
impl quote::ToTokens for CanonicalUrl {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.as_str().to_tokens(tokens)
    }
}

/// Typed names (resource types, choice variants) as text, joined by `sep` (for docs: `Patient, Group`).
pub(crate) fn join_names<T: std::ops::Deref<Target = str>>(names: &[T], sep: &str) -> String {
    names.iter().map(|n| &**n).collect::<Vec<_>>().join(sep)
}

/// The identifier of a name: the one place the emitter makes an `Ident`. Every name it is given comes from the
/// model (made by the loader with [`crate::naming`]), from a `naming` function, or is a fixed local binding of a
/// generated body (`r`, `x`, `v`); a raw name (`r#type`) becomes a raw identifier.
pub(crate) fn ident(name: &str) -> Ident {
    match name.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(name, Span::call_site()),
    }
}

pub(crate) fn doc(text: &str) -> TokenStream {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let text = text.trim();
    if text.is_empty() {
        return TokenStream::new();
    }
    // FHIR definitions are markdown; lines are trimmed so that indented text never becomes a code block (which
    // rustdoc would compile as a doc test), and fences are neutralised for the same reason.
    let lines = text.lines().map(|l| format!(" {}", rustdoc_markdown(&l.trim().replace("```", "` ` `"))));
    quote! { #( #[doc = #lines] )* }
}

/// FHIR markdown as rustdoc reads it without warnings: links to pages of the specification (`[text](page.html)`)
/// become their text, other brackets are escaped (`value[x]` is no intra-doc link), and bare URLs become
/// autolinks (`<http://...>`). Text in backticks is left as it is.
fn rustdoc_markdown(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut rest = line;
    let mut in_code = false;
    while let Some(c) = rest.chars().next() {
        if c == '`' {
            in_code = !in_code;
        } else if !in_code {
            if c == '[' {
                if let Some((text, target, after)) = markdown_link(rest) {
                    if target.starts_with("http://") || target.starts_with("https://") {
                        out.push_str(&format!("[{}]({target})", text.replace('[', "\\[").replace(']', "\\]")));
                    } else {
                        out.push_str(&text.replace('[', "\\[").replace(']', "\\]"));
                    }
                    rest = after;
                    continue;
                }
            }
            if c == '[' || c == ']' {
                out.push('\\');
            } else if (rest.starts_with("http://") || rest.starts_with("https://"))
                && !out.ends_with('<')
            {
                let end = rest.find(|c: char| c.is_whitespace() || "<>()[]\"'`".contains(c)).unwrap_or(rest.len());
                let url = rest[..end].trim_end_matches(['.', ',', ';', ':', '!', '?']);
                out.push_str(&format!("<{url}>"));
                rest = &rest[url.len()..];
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// `[text](target)` at the start of `s`: the text, the target and what follows.
fn markdown_link(s: &str) -> Option<(&str, &str, &str)> {
    let close = s.find("](")?;
    let text = &s[1..close];
    if text.contains('[') || text.contains(']') {
        return None;
    }
    let after_paren = &s[close + 2..];
    let end = after_paren.find(')')?;
    let target = &after_paren[..end];
    if target.contains(char::is_whitespace) {
        return None;
    }
    Some((text, target, &after_paren[end + 1..]))
}

pub(crate) fn format_file(name: &str, header: &str, tokens: TokenStream) -> Result<GeneratedFile, EmitError> {
    let file = syn::parse2::<syn::File>(tokens).map_err(|source| EmitError::Syntax { file: name.to_owned(), source })?;
    Ok(GeneratedFile { path: name.to_owned(), content: format!("{header}{}", prettyplease::unparse(&file)) })
}

/// All files of one version module.
pub fn emit_version(model: &VersionModel) -> Result<Vec<GeneratedFile>, EmitError> {
    let header = format!(
        "// @generated by fhir-codegen from {}.\n// Do not edit by hand: regenerate with `{REGENERATE}` (see README.md).\n\n",
        model.sources.join(", ")
    );
    let dir = format!("src/{}", model.module);
    let mut files = Vec::new();
    let prelude = quote! {
        #![allow(unused_imports, unreachable_patterns, clippy::all)]
        use super::*;
        use crate::json::{Choice, FhirJson, FhirStruct, ParseError, Reader, Writer};
        use crate::primitives::{CodeEnum, Date, DateTime, Decimal, Instant, Time};
        use crate::FhirString;
    };

    let datatypes: Vec<TokenStream> = model.datatypes.iter().map(|t| types::type_def(model, t)).collect();
    files.push(format_file(&format!("{dir}/datatypes.rs"), &header, quote! { #prelude #(#datatypes)* })?);

    let enums: Vec<TokenStream> = model.code_enums.iter().map(|e| types::code_enum(model, e)).collect();
    files.push(format_file(&format!("{dir}/codes.rs"), &header, quote! { #prelude #(#enums)* })?);

    for t in &model.resources {
        let body = types::type_def(model, t);
        let search = search::resource_search(model, t)?;
        files.push(format_file(&format!("{dir}/{}.rs", t.file), &header, quote! { #prelude #body #search })?);
    }
    files.push(format_file(&format!("{dir}/mod.rs"), &header, types::module_root(model))?);
    files.extend(profiles::version_check_profile(model, &header)?);
    files.extend(profiles::shared_items(model, &header)?);
    for m in &model.profiles {
        let header = format!(
            "// @generated by fhir-codegen from {}, as views over the `{}` models.\n// Do not edit by hand: regenerate with `{REGENERATE}` (see README.md).\n\n",
            m.package,
            model.module
        );
        files.extend(profiles::profile_module(model, m, &header, Layout::InModels)?);
    }
    Ok(files)
}

/// The generated `[features]` lines of `fhir-models/Cargo.toml` for all versions.
pub fn features(models: &[VersionModel]) -> String {
    let mut out = String::new();
    for m in models {
        let base = format!("{}-base", m.module);
        let all: Vec<String> = std::iter::once(format!("\"{base}\""))
            .chain(m.resources.iter().filter_map(|r| r.feature.as_ref()).map(|f| format!("\"{f}\"")))
            .collect();
        out.push_str(&format!("# All FHIR {} ({}) resources.\n{} = [{}]\n", m.marker, m.fhir_version, m.module, all.join(", ")));
        out.push_str(&format!(
            "# The `{}` module with its datatypes, code enums, {} and the `Resource` enum.\n{base} = []\n",
            m.module,
            m.base_resources.join(" and ")
        ));
        for r in &m.resources {
            if let Some(f) = &r.feature {
                out.push_str(&format!("{f} = [\"{base}\"]\n"));
            }
        }
        for p in &m.profiles {
            let deps: Vec<String> = ["\"profile\"".to_owned(), format!("\"{base}\"")]
                .into_iter()
                .chain(
                    p.resources
                        .iter()
                        .filter_map(|r| m.resources.iter().find(|t| &t.name == r)?.feature.clone())
                        .map(|f| format!("\"{f}\"")),
                )
                .collect();
            out.push_str(&format!(
                "# Profiles of {} (`{}::{}`) and the resources they constrain; not part of `{}`.\n{} = [{}]\n",
                p.package,
                m.module,
                p.module,
                m.module,
                p.feature,
                deps.join(", ")
            ));
        }
    }
    out
}

/// Markers around the generated part of `fhir-models/Cargo.toml`.
pub const FEATURES_BEGIN: &str = "# BEGIN GENERATED FEATURES (fhir-codegen: do not edit by hand)\n";
/// End marker.
pub const FEATURES_END: &str = "# END GENERATED FEATURES\n";

/// `Cargo.toml` text with its generated feature block replaced (or appended after `[features]`).
pub fn splice_features(cargo_toml: &str, block: &str) -> String {
    if let (Some(b), Some(e)) = (cargo_toml.find(FEATURES_BEGIN), cargo_toml.find(FEATURES_END)) {
        return format!("{}{FEATURES_BEGIN}{block}{}", &cargo_toml[..b], &cargo_toml[e..]);
    }
    match cargo_toml.find("[features]\n") {
        Some(at) => {
            let end = at + "[features]\n".len();
            let after = &cargo_toml[end..];
            let next = after.find("\n[").map(|i| end + i + 1).unwrap_or(cargo_toml.len());
            format!("{}{FEATURES_BEGIN}{block}{FEATURES_END}{}", &cargo_toml[..next], &cargo_toml[next..])
        }
        None => format!("{cargo_toml}\n[features]\n{FEATURES_BEGIN}{block}{FEATURES_END}"),
    }
}

#[cfg(test)]
mod tests {
    use super::rustdoc_markdown;

    #[test]
    fn fhir_markdown_reads_cleanly_in_rustdoc() {
        assert_eq!(rustdoc_markdown("see [Narrative](narrative.html#x) now"), "see Narrative now");
        assert_eq!(rustdoc_markdown("[HL7](http://hl7.org) site"), "[HL7](http://hl7.org) site");
        assert_eq!(rustdoc_markdown("value[x] and a[0]"), "value\\[x\\] and a\\[0\\]");
        assert_eq!(rustdoc_markdown("at http://hl7.org/fhir/x.html."), "at <http://hl7.org/fhir/x.html>.");
        assert_eq!(rustdoc_markdown("(see https://a.b/c)"), "(see <https://a.b/c>)");
        assert_eq!(rustdoc_markdown("<http://a.b> `[x] http://c.d`"), "<http://a.b> `[x] http://c.d`");
        assert_eq!(rustdoc_markdown("\"http://a.b\" (http://c.d)"), "\"<http://a.b>\" (<http://c.d>)");
    }
}
