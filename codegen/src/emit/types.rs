//! Tokens for structs, choice enums, code enums, the `Resource` enum and the module root.

use super::{doc, ident};
use crate::model::*;
use proc_macro2::TokenStream;
use quote::quote;

fn prim_value(p: Prim) -> TokenStream {
    match p {
        Prim::Bool => quote!(bool),
        Prim::Integer => quote!(i32),
        Prim::Unsigned => quote!(u32),
        Prim::Integer64 => quote!(i64),
        Prim::Decimal => quote!(Decimal),
        Prim::String => quote!(FhirString),
        Prim::Date => quote!(Date),
        Prim::DateTime => quote!(DateTime),
        Prim::Instant => quote!(Instant),
        Prim::Time => quote!(Time),
    }
}

/// The Rust type of one value of the field (before `Option`/`Vec`).
fn value_type(ty: &FieldType) -> TokenStream {
    value_type_with(ty, prim_value)
}

/// The Rust type of one value of a field, with `prim` naming the primitive value types (the core modules name
/// them by their imports, profile views by absolute paths).
pub(super) fn value_type_with(ty: &FieldType, prim: fn(Prim) -> TokenStream) -> TokenStream {
    match ty {
        FieldType::PlainString => quote!(String),
        FieldType::Primitive(p) => {
            let v = prim(*p);
            quote!(Primitive<#v>)
        }
        FieldType::Code(name) => {
            let n = ident(name);
            quote!(Primitive<#n>)
        }
        FieldType::Complex(name) => {
            let n = ident(name);
            quote!(#n)
        }
        FieldType::Choice(name) => {
            let n = ident(name);
            quote!(#n)
        }
        FieldType::Resource => quote!(Resource),
    }
}

fn is_primitive(ty: &FieldType) -> bool {
    matches!(ty, FieldType::Primitive(_) | FieldType::Code(_))
}

fn field_decl(f: &Field) -> TokenStream {
    let name = ident(&f.rust);
    let v = value_type(&f.ty);
    let ty = if f.cardinality.is_many() {
        quote!(Vec<#v>)
    } else if f.storage == Storage::Boxed {
        quote!(Option<Box<#v>>)
    } else {
        quote!(Option<#v>)
    };
    let text = if f.cardinality.is_required() { format!("{}\n\nRequired by FHIR (min 1).", f.doc) } else { f.doc.clone() };
    let d = doc(&text);
    quote! { #d pub #name: #ty, }
}

/// Match arms of `read_json` for one field.
fn read_arms(f: &Field, choices: &[ChoiceDef]) -> TokenStream {
    let name = ident(&f.rust);
    let json = &f.json;
    let path = &f.path_name;
    let ext = format!("_{json}");
    match (&f.ty, f.cardinality.is_many()) {
        (FieldType::Choice(enum_name), _) => {
            // One guarded arm per part: the key's type suffix goes to the choice enum, which matches its own types
            // (instead of one arm per type here, repeated in every struct with the same choice).
            let Some(c) = choices.iter().find(|c| &c.name == enum_name) else { return TokenStream::new() };
            let (len, ext_len) = (json.len(), ext.len());
            let main = quote! { k if Reader::is_choice_key(k, #json) => r.choice(&mut v.#name, #path, &k[#len..], false), };
            if c.variants.iter().any(|v| is_primitive(&v.ty)) {
                quote! { #main k if Reader::is_choice_key(k, #ext) => r.choice(&mut v.#name, #path, &k[#ext_len..], true), }
            } else {
                main
            }
        }
        (FieldType::PlainString, false) => quote! { #json => r.plain_string(&mut v.#name, #path), },
        (FieldType::PlainString, true) => quote! { #json => r.plain_string_list(&mut v.#name, #path), },
        (t, false) if is_primitive(t) => quote! {
            #json => r.primitive(&mut v.#name, #path),
            #ext => r.primitive_ext(&mut v.#name, #path),
        },
        (t, true) if is_primitive(t) => quote! {
            #json => r.primitive_list(&mut v.#name, #path),
            #ext => r.primitive_list_ext(&mut v.#name, #path),
        },
        (FieldType::Resource, true) => quote! { #json => r.resource_list(&mut v.#name, #path), },
        (_, true) => quote! { #json => r.complex_list(&mut v.#name, #path), },
        (_, false) if f.storage == Storage::Boxed => quote! { #json => r.boxed(&mut v.#name, #path), },
        (_, false) => quote! { #json => r.complex(&mut v.#name, #path), },
    }
}

fn write_stmt(f: &Field) -> TokenStream {
    let name = ident(&f.rust);
    let json = &f.json;
    match (&f.ty, f.cardinality.is_many()) {
        (FieldType::Choice(_), _) => quote! { w.choice(#json, &self.#name); },
        (FieldType::PlainString, false) => quote! { w.plain_string(#json, &self.#name); },
        (FieldType::PlainString, true) => quote! { w.plain_string_list(#json, &self.#name); },
        (t, false) if is_primitive(t) => quote! { w.primitive(#json, &self.#name); },
        (t, true) if is_primitive(t) => quote! { w.primitive_list(#json, &self.#name); },
        (_, true) => quote! { w.complex_list(#json, &self.#name); },
        (_, false) if f.storage == Storage::Boxed => quote! { w.boxed(#json, &self.#name); },
        (_, false) => quote! { w.complex(#json, &self.#name); },
    }
}

fn struct_def(model: &VersionModel, s: &StructDef, choices: &[ChoiceDef], url: &str) -> TokenStream {
    let name = ident(&s.name);
    let fhir_name = &s.path;
    let mut text = format!("{}\n\nFHIR `{}`", s.doc, s.path);
    if s.resource_type.is_some() || s.path == s.name {
        text.push_str(&format!(" ({url}, FHIR {})", model.fhir_version));
    }
    text.push('.');
    let d = doc(&text);
    let fields = s.fields.iter().map(field_decl);
    // Exact keys first, then the guarded arms of choice elements (so a field such as `answerValueSet` never goes
    // to a choice `answer[x]`).
    let (choice_fields, other_fields): (Vec<&Field>, Vec<&Field>) =
        s.fields.iter().partition(|f| matches!(f.ty, FieldType::Choice(_)));
    let arms = other_fields.into_iter().chain(choice_fields).map(|f| read_arms(f, choices));
    let writes = s.fields.iter().map(write_stmt);
    let (rt_arm, rt_write) = match &s.resource_type {
        Some(rt) => (quote! { "resourceType" => r.resource_type(#rt), }, quote! { w.resource_type(#rt); }),
        None => (TokenStream::new(), TokenStream::new()),
    };
    quote! {
        #d
        #[derive(Debug, Clone, PartialEq, Default)]
        pub struct #name { #(#fields)* }

        impl FhirJson for #name {
            const TYPE_NAME: &'static str = #fhir_name;
            fn read_json_into(r: &mut Reader<'_>, slot: &mut Option<Self>) -> Result<(), ParseError> {
                r.struct_into(slot)
            }
            fn write_json(&self, w: &mut Writer) {
                w.begin_object();
                #rt_write
                #(#writes)*
                w.end_object();
            }
        }

        impl FhirStruct for #name {
            fn read_fields(r: &mut Reader<'_>, v: &mut Self) -> Result<bool, ParseError> {
                // In place: `v` already sits where the struct stays (a field, a list's item, a box). One `?`
                // for the whole match (not one per arm) keeps the generated MIR small. Keys are matched as
                // `&str`: matching them as bytes (`b"code"`, to skip the check that a key slice is text) was
                // measured slower, since byte-string patterns compile to byte-by-byte tests (+19..36 % instructions
                // in the `Coding`, `Money` and `ClaimItem` readers). A `move` closure captures `v` alone: without
                // it, it captures each field it names apart, a pointer per field stored on every call (measured
                // 2026-12-04: bench binary text -44 KB, parse instructions -0.6..-1.1 %).
                r.read_object(&mut move |r, key| {
                    match key {
                        #rt_arm
                        #(#arms)*
                        _ => return Ok(false),
                    }?;
                    Ok(true)
                })
            }
        }
    }
}

/// The FHIR type name of a choice variant's suffix (`Quantity`, `dateTime`).
fn choice_type_name(suffix: &str) -> String {
    if is_fhir_primitive_suffix(suffix) {
        let mut out = suffix[..1].to_ascii_lowercase();
        out.push_str(&suffix[1..]);
        out
    } else {
        suffix.to_owned()
    }
}

fn is_fhir_primitive_suffix(suffix: &str) -> bool {
    matches!(
        suffix,
        "Base64Binary" | "Boolean" | "Canonical" | "Code" | "Date" | "DateTime" | "Decimal" | "Id" | "Instant" | "Integer"
            | "Integer64" | "Markdown" | "Oid" | "PositiveInt" | "String" | "Time" | "UnsignedInt" | "Uri" | "Url" | "Uuid"
    )
}

/// `From` impls into a choice enum, for each variant whose Rust type no other variant shares (the boxing of
/// complex values is done for the user): `ObservationValue::from(quantity)`, `let v: ObservationValue = true.into()`.
fn choice_conversions(c: &ChoiceDef) -> TokenStream {
    let name = ident(&c.name);
    let key = |t: &TokenStream| t.to_string();
    let outer: Vec<String> = c.variants.iter().map(|v| key(&value_type(&v.ty))).collect();
    let inner_of = |ty: &FieldType| match ty {
        FieldType::Primitive(p) => Some(prim_value(*p)),
        FieldType::Code(n) => {
            let n = ident(n);
            Some(quote!(#n))
        }
        _ => None,
    };
    let inner: Vec<Option<String>> = c.variants.iter().map(|v| inner_of(&v.ty).map(|t| key(&t))).collect();
    let unique = |list: &[String], k: &str| list.iter().filter(|x| x.as_str() == k).count() == 1;
    let inner_keys: Vec<String> = inner.iter().flatten().cloned().collect();
    let impls = c.variants.iter().enumerate().map(|(i, v)| {
        let vn = ident(&v.suffix);
        let t = value_type(&v.ty);
        let mut out = TokenStream::new();
        if !unique(&outer, &outer[i]) {
            return out;
        }
        if is_primitive(&v.ty) {
            out.extend(quote! { impl From<#t> for #name { fn from(v: #t) -> Self { Self::#vn(v) } } });
            if let (Some(it), Some(k)) = (inner_of(&v.ty), &inner[i]) {
                if unique(&inner_keys, k) {
                    out.extend(quote! { impl From<#it> for #name { fn from(v: #it) -> Self { Self::#vn(Primitive::new(v)) } } });
                }
            }
        } else {
            out.extend(quote! { impl From<#t> for #name { fn from(v: #t) -> Self { Self::#vn(Box::new(v)) } } });
        }
        out
    });
    quote! { #(#impls)* }
}

fn choice_def(c: &ChoiceDef) -> TokenStream {
    let name = ident(&c.name);
    if let Some(target) = &c.alias_of {
        let target = ident(target);
        let d = doc(&format!("{}\n\nFHIR `{}`: the same types as [`{target}`], so the same enum.", c.doc, c.path));
        return quote! { #d pub type #name = #target; };
    }
    let d = doc(&format!("{}\n\nFHIR `{}`: one of its types.", c.doc, c.path));
    let element = c.path.rsplit('.').next().unwrap_or(&c.path).trim_end_matches("[x]");
    let variants = c.variants.iter().map(|v| {
        let vn = ident(&v.suffix);
        let t = value_type(&v.ty);
        let vd = doc(&format!("`{element}{}`: the value as a FHIR `{}`.", v.suffix, choice_type_name(&v.suffix)));
        if is_primitive(&v.ty) {
            quote! { #vd #vn(#t), }
        } else {
            quote! { #vd #vn(Box<#t>), }
        }
    });
    let conversions = choice_conversions(c);
    let reads = c.variants.iter().map(|v| {
        let vn = ident(&v.suffix);
        let suffix = &v.suffix;
        if is_primitive(&v.ty) {
            quote! {
                #suffix => r.choice_primitive(slot, extension_part, |c| match c { Self::#vn(p) => Some(p), _ => None }, Self::#vn),
            }
        } else {
            quote! { #suffix => r.choice_complex(slot, Self::#vn), }
        }
    });
    let writes = c.variants.iter().map(|v| {
        let vn = ident(&v.suffix);
        let suffix = &v.suffix;
        if is_primitive(&v.ty) {
            quote! { Self::#vn(p) => w.primitive_parts(name, #suffix, p), }
        } else {
            quote! { Self::#vn(x) => w.complex_parts(name, #suffix, x.as_ref()), }
        }
    });
    let ext_param = if c.variants.iter().any(|v| is_primitive(&v.ty)) { ident("extension_part") } else { ident("_extension_part") };
    quote! {
        #d
        #[derive(Debug, Clone, PartialEq)]
        pub enum #name { #(#variants)* }

        #conversions

        impl Choice for #name {
            fn read_variant(r: &mut Reader<'_>, slot: &mut Option<Self>, type_suffix: &str, #ext_param: bool) -> Result<(), ParseError> {
                match type_suffix {
                    #(#reads)*
                    _ => r.unknown_choice_type(type_suffix),
                }
            }
            fn write_variant(&self, w: &mut Writer, name: &str) {
                match self { #(#writes)* }
            }
        }
    }
}

fn resource_impl(model: &VersionModel, t: &TypeDef) -> TokenStream {
    let name = ident(&t.name);
    let rt = &t.name;
    let marker = ident(&model.marker);
    let id_field = t.structs[0].fields.iter().find(|f| f.json == "id");
    let id_expr = match id_field.map(|f| &f.ty) {
        Some(FieldType::PlainString) => quote!(self.id.as_deref()),
        Some(_) => quote!(self.id.as_ref().and_then(|p| p.value.as_deref())),
        None => quote!(None),
    };
    quote! {
        impl From<#name> for Resource {
            fn from(resource: #name) -> Self { Resource::#name(crate::ResourceBox::new(resource)) }
        }
        impl crate::FhirResource for #name {
            type Version = #marker;
            const RESOURCE_TYPE: &'static str = #rt;
            fn resource_id(&self) -> Option<&str> { #id_expr }
            fn into_resource(self) -> Resource { Resource::#name(crate::ResourceBox::new(self)) }
            fn from_resource(resource: Resource) -> Result<Self, Resource> {
                match resource { Resource::#name(x) => Ok(x.into_inner()), other => Err(other) }
            }
        }
        crate::__private::boxed_resource!(#name);
    }
}

/// All items of one resource or datatype.
pub fn type_def(model: &VersionModel, t: &TypeDef) -> TokenStream {
    let structs = t.structs.iter().map(|s| struct_def(model, s, &t.choices, &t.url));
    let choices = t.choices.iter().map(choice_def);
    let res = if t.kind == TypeKind::Resource { resource_impl(model, t) } else { TokenStream::new() };
    quote! { #(#structs)* #(#choices)* #res }
}

fn cfg_any(features: impl Iterator<Item = String>) -> TokenStream {
    let fs: Vec<String> = features.collect();
    match fs.len() {
        0 => TokenStream::new(),
        1 => {
            let f = &fs[0];
            quote! { #[cfg(feature = #f)] }
        }
        _ => quote! { #[cfg(any(#(feature = #fs),*))] },
    }
}

/// `CodeEnum::display`: the value set's display text of each code that has one.
fn code_display(e: &CodeEnum) -> TokenStream {
    let arms: Vec<TokenStream> = e
        .codes
        .iter()
        .filter_map(|c| {
            let v = ident(&c.variant);
            let d = c.display.as_deref()?;
            Some(quote! { Self::#v => #d, })
        })
        .collect();
    if arms.is_empty() {
        return TokenStream::new();
    }
    quote! {
        fn display(&self) -> Option<&'static str> {
            Some(match self { #(#arms)* _ => return None })
        }
    }
}

/// A code enum and its `CodeEnum` impl.
pub fn code_enum(model: &VersionModel, e: &CodeEnum) -> TokenStream {
    let name = ident(&e.name);
    let cfg = match &e.usage {
        CodeEnumUsage::Always => TokenStream::new(),
        CodeEnumUsage::Resources(users) => {
            cfg_any(users.iter().filter_map(|r| model.resources.iter().find(|t| &t.name == r)?.feature.clone()))
        }
    };
    let d = doc(&format!("{}\n\nCodes of the value set `{}` (a required binding).", e.doc, e.value_set));
    let fallback = ident(&e.fallback);
    let variants = e.codes.iter().map(|c| {
        let v = ident(&c.variant);
        let d = doc(&format!("`{}`: {}", c.code, c.doc));
        quote! { #d #v, }
    });
    let codes = e.codes.iter().map(|c| &c.code);
    let from = e.codes.iter().enumerate().map(|(i, c)| {
        let v = ident(&c.variant);
        quote! { #i => Self::#v, }
    });
    let to = e.codes.iter().map(|c| {
        let v = ident(&c.variant);
        let code = &c.code;
        quote! { Self::#v => #code, }
    });
    let vs = &e.value_set;
    let display = code_display(e);
    quote! {
        #d
        #cfg
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum #name {
            #(#variants)*
            /// A code outside the value set, kept as read so that nothing is lost.
            #fallback(String),
        }
        #cfg
        impl CodeEnum for #name {
            const VALUE_SET: &'static str = #vs;
            fn from_code(code: &str) -> Option<Self> {
                // A hash lookup of the variant's index, not a `match` comparing the code with each in turn.
                static CODES: ::fhir_models::__private::CodeTable =
                    ::fhir_models::__private::CodeTable::new(&[#(#codes),*]);
                Some(match CODES.index(code)? { #(#from)* _ => return None })
            }
            fn unrecognized(code: String) -> Self { Self::#fallback(code) }
            // Out of line: else its match is copied into `Display::fmt` too.
            #[inline(never)]
            fn code(&self) -> &str {
                match self { #(#to)* Self::#fallback(c) => c }
            }
            #display
        }
        #cfg
        /// The code, as on the wire.
        impl core::fmt::Display for #name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result { f.write_str(self.code()) }
        }
    }
}

/// The example of a version module's docs: read any resource, build one, convert into `Resource`.
fn module_example(m: &str) -> String {
    format!(
        r####"

 # Example

 ```
 # #[cfg(feature = "{m}-patient")] {{
 use fhir_models::FhirJson;
 use fhir_models::{m}::{{AdministrativeGender, Patient, Resource}};

 // Any resource, by its `resourceType`; written back as read.
 let json = r#"{{"resourceType":"Patient","id":"p1","gender":"female"}}"#;
 let resource = Resource::from_json(json).unwrap();
 assert_eq!((resource.resource_type(), resource.id()), ("Patient", Some("p1")));
 assert_eq!(resource.to_json(), json);

 // Built in code: public fields and `Default`; `From`/`Into` for primitives, choice values and `Resource`.
 let mut patient = Patient::default();
 patient.gender = Some(AdministrativeGender::Male.into());
 let resource: Resource = patient.into();
 assert_eq!(resource.to_json(), r#"{{"resourceType":"Patient","gender":"male"}}"#);
 # }}
 ```"####
    )
}

/// `RESOURCE_TYPES`: every resource type of the version, compiled in or not (sorted, for `binary_search`).
fn resource_types_const(model: &VersionModel) -> TokenStream {
    let mut names: Vec<&str> =
        model.resources.iter().map(|t| t.name.as_str()).chain(model.omitted_resources.iter().map(|r| r.as_str())).collect();
    names.sort_unstable();
    let d = doc(&format!(
        "Every resource type FHIR {} defines, sorted; those whose feature is off are read into `Resource::Other`.",
        model.fhir_version
    ));
    quote! { #d pub const RESOURCE_TYPES: &[&str] = &[#(#names),*]; }
}

/// `mod.rs`: module declarations, the `Primitive` alias, the version marker and the `Resource` enum.
pub fn module_root(model: &VersionModel) -> TokenStream {
    let title = module_title(model);
    let submodules = submodules(model);
    let marker = ident(&model.marker);
    let marker_doc = format!("The FHIR {} version marker, for code generic over versions.", model.marker);
    let name = &model.module;
    let resource_enum = resource_enum(model);
    let search_lookup = super::search::version_search(model);
    quote! {
        #![doc = #title]
        #![allow(clippy::all)]

        use crate::json::{FhirJson, ParseError, Reader, Writer};

        mod codes;
        pub use codes::*;
        mod datatypes;
        pub use datatypes::*;
        #submodules

        /// A primitive element of this version: value, id and extensions.
        pub type Primitive<T> = crate::primitives::Primitive<T, Extension>;

        #[doc = #marker_doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct #marker;

        crate::impl_fhir_version!(#marker, #name);

        #resource_enum

        #search_lookup
    }
}

/// The version module's documentation, with its example.
fn module_title(model: &VersionModel) -> String {
    format!(
        " FHIR {} ({}) models, generated from {}.\n\n Datatypes and code enums are always compiled; each resource has its own cargo feature \
         (`{}-patient`, ...), `{}` enables them all.",
        model.marker,
        model.fhir_version,
        model.sources.join(", "),
        model.module,
        model.module
    ) + &module_example(&model.module)
}

/// The `cfg` of a resource's items: none for a base resource, else its feature.
fn resource_cfg(model: &VersionModel, t: &TypeDef) -> TokenStream {
    if model.base_resources.iter().any(|b| b.as_str() == t.name) {
        TokenStream::new()
    } else {
        let f = t.feature.clone().unwrap_or_default();
        quote! { #[cfg(feature = #f)] }
    }
}

/// The resources' modules (each behind its feature), the IG profile modules and `check_profile`.
fn submodules(model: &VersionModel) -> TokenStream {
    let mods = model.resources.iter().map(|t| {
        let m = ident(&t.file);
        let cfg = resource_cfg(model, t);
        quote! { #cfg mod #m; #cfg pub use #m::*; }
    });
    let profile_mods = model.profiles.iter().map(|p| {
        let m = ident(&p.module);
        let f = &p.feature;
        let d = doc(&format!("Profiles of {} (feature `{f}`).", p.package));
        quote! { #[cfg(feature = #f)] #d pub mod #m; }
    });
    let check_profile = if model.profiles.is_empty() {
        TokenStream::new()
    } else {
        let shared = if model.profile_shared.extensions.is_empty() && model.profile_shared.code_enums.is_empty() {
            TokenStream::new()
        } else {
            quote! { #[cfg(feature = "profile")] mod profile_shared; }
        };
        quote! { #[cfg(feature = "profile")] mod profiles; #[cfg(feature = "profile")] pub use profiles::check_profile; #shared }
    };
    quote! { #(#mods)* #(#profile_mods)* #check_profile }
}

/// The `Resource` enum with `RESOURCE_TYPES`, its JSON impl and its accessors.
fn resource_enum(model: &VersionModel) -> TokenStream {
    let arms = |arm: &dyn Fn(&TypeDef, &proc_macro2::Ident) -> TokenStream| -> Vec<TokenStream> {
        model
            .resources
            .iter()
            .map(|t| {
                let cfg = resource_cfg(model, t);
                let body = arm(t, &ident(&t.name));
                quote! { #cfg #body }
            })
            .collect()
    };
    let variants = arms(&|t, n| {
        let d = doc(&format!("A `{}` resource.", t.name));
        quote! { #d #n(crate::ResourceBox<#n>), }
    });
    let reads = arms(&|t, n| {
        let rt = &t.name;
        quote! { #rt => { r.enter_resource(#rt); r.read_boxed::<#n>()?.map(|x| Self::#n(crate::ResourceBox::from_box(x))) } }
    });
    let writes = arms(&|_, n| quote! { Self::#n(x) => x.write_json(w), });
    let types = arms(&|t, n| {
        let rt = &t.name;
        quote! { Self::#n(_) => #rt, }
    });
    let ids = arms(&|_, n| quote! { Self::#n(x) => crate::FhirResource::resource_id(x.as_ref()), });
    let resource_types = resource_types_const(model);
    quote! {
        /// Any resource of this version, read by its `resourceType` (without buffering the object when
        /// `resourceType` comes first). A resource whose feature is off is kept whole as JSON text in
        /// [`Resource::Other`] and written back unchanged.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum Resource {
            #(#variants)*
            /// A resource whose type is not compiled in (its cargo feature is off), kept as its JSON text; or,
            /// in lenient reading only, a `resourceType` this version does not define (reported). Parse it
            /// later with [`RawResource::parse`](crate::RawResource::parse).
            Other(crate::RawResource),
        }

        #resource_types

        impl FhirJson for Resource {
            const TYPE_NAME: &'static str = "Resource";
            fn read_json_into(r: &mut Reader<'_>, slot: &mut Option<Self>) -> Result<(), ParseError> {
                let Some(resource_type) = r.peek_resource_type()? else { return Ok(()) };
                *slot = match resource_type.as_ref() {
                    #(#reads)*
                    other => {
                        let known = RESOURCE_TYPES.binary_search(&other).is_ok();
                        r.raw_resource(other, known)?.map(Self::Other)
                    }
                };
                Ok(())
            }
            fn write_json(&self, w: &mut Writer) {
                match self { #(#writes)* Self::Other(x) => x.write_json(w), }
            }
        }

        impl Resource {
            /// The `resourceType` of the resource.
            pub fn resource_type(&self) -> &str {
                match self { #(#types)* Self::Other(x) => x.resource_type(), }
            }
            /// The logical id, if set.
            pub fn id(&self) -> Option<&str> {
                match self { #(#ids)* Self::Other(x) => x.id(), }
            }
        }
    }
}
