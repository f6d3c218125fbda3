//! Tokens for building and writing profile views: the constructor of each profile (a JSON template of its
//! `meta.profile` and required fixed values, plus the other required elements as arguments), the write accessors
//! of its extensions and slices, the writing side of extension structs and the coding enums of their bound
//! `Coding` values. Every write goes through the runtime (`fhir_models::profile::write_checked`), which checks
//! the profile again and undoes a write that breaks it; the generated code is data and thin calls.

use super::profiles::prim;
use super::{doc, ident};
use crate::model::*;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

/// A JSON value of a template, written with the exact text of its numbers.
enum Json {
    /// A number or boolean, as written.
    Raw(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn write(&self, out: &mut String) {
        match self {
            Json::Raw(t) => out.push_str(t),
            Json::Str(s) => out.push_str(&serde_json::to_string(s).expect("a string serializes")),
            Json::Arr(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write(out);
                }
                out.push(']');
            }
            Json::Obj(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::to_string(k).expect("a string serializes"));
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }

    /// Adds a member; an object member of the same name is merged into.
    fn put(members: &mut Vec<(String, Json)>, key: &str, value: Json) {
        match (members.iter_mut().find(|(k, _)| k == key), value) {
            (Some((_, Json::Obj(old))), Json::Obj(new)) => {
                for (k, v) in new {
                    Json::put(old, &k, v);
                }
            }
            (Some((_, Json::Arr(old))), Json::Arr(new)) => {
                // A value the template has already (`meta.profile` fixed by the profile itself) is not repeated.
                let text = |v: &Json| {
                    let mut t = String::new();
                    v.write(&mut t);
                    t
                };
                for v in new {
                    if !old.iter().any(|o| text(o) == text(&v)) {
                        old.push(v);
                    }
                }
            }
            (Some(_), _) => {}
            (None, value) => members.push((key.to_owned(), value)),
        }
    }
}

/// A fixed value's JSON, by the element's type; `None` for types a template does not write (choices).
fn scalar(ty: &FieldType, text: &str) -> Option<Json> {
    match ty {
        FieldType::Primitive(Prim::Bool | Prim::Integer | Prim::Unsigned | Prim::Integer64 | Prim::Decimal) => Some(Json::Raw(text.to_owned())),
        FieldType::PlainString | FieldType::Primitive(_) | FieldType::Code(_) => Some(Json::Str(text.to_owned())),
        _ => None,
    }
}

fn coding_json(c: &CodingPattern) -> Json {
    let mut m = Vec::new();
    if let Some(s) = &c.system {
        m.push(("system".to_owned(), Json::Str(s.clone())));
    }
    if let Some(k) = &c.code {
        m.push(("code".to_owned(), Json::Str(k.clone())));
    }
    Json::Obj(m)
}

/// A pattern's JSON: a `CodeableConcept` with every coding, or the (first) `Coding`.
fn pattern(ty: &str, codings: &[CodingPattern]) -> Option<Json> {
    if ty == "Coding" {
        return codings.first().map(coding_json);
    }
    Some(Json::Obj(vec![("coding".to_owned(), Json::Arr(codings.iter().map(coding_json).collect()))]))
}

fn type_name(ty: &FieldType) -> &str {
    match ty {
        FieldType::Complex(n) => n,
        _ => "",
    }
}

/// One value of `f`, put into an object (as a list when `f` is one).
fn put_field(members: &mut Vec<(String, Json)>, f: &FieldRef, value: Json) {
    let value = if f.cardinality.is_many() { Json::Arr(vec![value]) } else { value };
    Json::put(members, &f.json, value);
}

/// An item of a slice, made from its discriminator.
fn slice_item(p: &SlicePredicate) -> Option<Json> {
    Some(match p {
        SlicePredicate::Url(url) => Json::Obj(vec![("url".to_owned(), Json::Str(url.to_string()))]),
        SlicePredicate::FieldEquals { field: f, value: v } => {
            let mut m = Vec::new();
            put_field(&mut m, f, scalar(&f.ty, v)?);
            Json::Obj(m)
        }
        SlicePredicate::FieldCodings { field: f, codings } => {
            let mut m = Vec::new();
            put_field(&mut m, f, pattern(type_name(&f.ty), codings)?);
            Json::Obj(m)
        }
        // A slice discriminated by a value set: its first coding.
        SlicePredicate::FieldCodingIn { field: f, codings, .. } => {
            let mut m = Vec::new();
            put_field(&mut m, f, pattern(type_name(&f.ty), &codings[..codings.len().min(1)])?);
            Json::Obj(m)
        }
        SlicePredicate::SelfEquals(v) => Json::Str(v.clone()),
        SlicePredicate::SelfCodings { type_name: ty, codings } => pattern(ty, codings)?,
        SlicePredicate::All(parts) => {
            let mut m = Vec::new();
            for part in parts {
                let Json::Obj(more) = slice_item(part)? else { return None };
                for (k, v) in more {
                    Json::put(&mut m, &k, v);
                }
            }
            Json::Obj(m)
        }
    })
}

/// The structs of the version, by name: which elements the core requires (`Observation.status`), which a profile
/// leaves as they are.
struct Structs<'m>(&'m VersionModel);

impl<'m> Structs<'m> {
    fn get(&self, name: &str) -> Option<&'m StructDef> {
        self.0.resources.iter().chain(&self.0.datatypes).flat_map(|t| &t.structs).find(|s| s.name == name)
    }

    /// Whether the core (`base`, the struct of the node) or the profile (`n`) requires the element `json`.
    fn required(&self, n: &CheckNode, base: &str, json: &str) -> bool {
        n.checks.iter().any(|c| c.field.json == json && matches!(c.kind, CheckKind::Count { slice: None, min, .. } if min >= 1))
            || self.get(base).is_some_and(|s| s.fields.iter().any(|f| f.json == json && f.cardinality.is_required()))
    }

    /// The fixed and pattern values of the required elements of a node (of struct `base`), its required slices (each
    /// item with the values of its own node) and its required elements whose own elements have such values, into
    /// `members`.
    fn fill(&self, n: &CheckNode, base: &str, members: &mut Vec<(String, Json)>) {
        for c in &n.checks {
            match &c.kind {
                CheckKind::Fixed(v) if self.required(n, base, &c.field.json) => {
                    if let Some(j) = scalar(&c.field.ty, v) {
                        put_field(members, &c.field, j);
                    }
                }
                CheckKind::Pattern { type_name: ty, codings } if self.required(n, base, &c.field.json) => {
                    if let Some(j) = pattern(ty, codings) {
                        put_field(members, &c.field, j);
                    }
                }
                CheckKind::Count { slice: Some(p), min, .. } if *min >= 1 && c.field.cardinality.is_many() => {
                    let child = n.children.iter().find(|ch| ch.label == c.label);
                    for _ in 0..*min {
                        let Some(mut item) = slice_item(p) else { break };
                        if let (Json::Obj(m), Some(ch)) = (&mut item, child) {
                            self.fill(&ch.node, type_name(&c.field.ty), m);
                        }
                        Json::put(members, &c.field.json, Json::Arr(vec![item]));
                    }
                }
                _ => {}
            }
        }
        for ch in n.children.iter().filter(|ch| ch.slice.is_none() && ch.variant.is_none()) {
            if members.iter().any(|(k, _)| *k == ch.field.json) || !self.required(n, base, &ch.field.json) {
                continue;
            }
            let mut m = Vec::new();
            self.fill(&ch.node, type_name(&ch.field.ty), &mut m);
            if !m.is_empty() {
                put_field(members, &ch.field, Json::Obj(m));
            }
        }
    }

    /// The required elements of a node (of struct `base`) that `members` does not fill, in element order.
    fn unfilled(&self, n: &CheckNode, base: &str, members: &[(String, Json)]) -> Vec<FieldRef> {
        let Some(s) = self.get(base) else { return Vec::new() };
        s.fields
            .iter()
            .filter(|f| self.required(n, base, &f.json) && !members.iter().any(|(k, _)| *k == f.json))
            .map(|f| FieldRef { json: f.json.clone(), rust: f.rust.clone(), path_name: f.path_name.clone(), cardinality: f.cardinality, storage: f.storage, ty: f.ty.clone() })
            .collect()
    }
}

/// A required element the constructor takes: the field, or a field of the resource's `meta`.
struct Arg<'a> {
    meta: Option<&'a FieldRef>,
    field: FieldRef,
}

impl Arg<'_> {
    fn name(&self) -> String {
        match self.meta {
            Some(m) => format!("{}_{}", m.rust, self.field.rust.trim_start_matches("r#")),
            None => self.field.rust.clone(),
        }
    }

    fn path(&self) -> String {
        match self.meta {
            Some(m) => format!("{}.{}", m.path_name, self.field.path_name),
            None => self.field.path_name.clone(),
        }
    }
}

/// The template's JSON text and the constructor's arguments.
fn template<'a>(model: &VersionModel, p: &'a ProfileDef) -> (String, Vec<Arg<'a>>) {
    let structs = Structs(model);
    let mut root = vec![("resourceType".to_owned(), Json::Str(p.base.to_string()))];
    let claim = p.canonical.to_string();
    root.push(("meta".to_owned(), Json::Obj(vec![("profile".to_owned(), Json::Arr(vec![Json::Str(claim)]))])));
    let meta = p.root.children.iter().find(|ch| ch.field.json == "meta" && ch.slice.is_none() && ch.variant.is_none());
    if let (Some(ch), Some((_, Json::Obj(m)))) = (meta, root.iter_mut().find(|(k, _)| k == "meta")) {
        structs.fill(&ch.node, "Meta", m);
    }
    structs.fill(&p.root, &p.base, &mut root);
    let mut args: Vec<Arg> =
        structs.unfilled(&p.root, &p.base, &root).into_iter().map(|field| Arg { meta: None, field }).collect();
    if let (Some(ch), Some((_, Json::Obj(m)))) = (meta, root.iter().find(|(k, _)| k == "meta")) {
        args.extend(structs.unfilled(&ch.node, "Meta", m).into_iter().map(|field| Arg { meta: Some(&ch.field), field }));
    }
    let mut text = String::new();
    Json::Obj(root).write(&mut text);
    (text, args)
}

/// The parameter type of an argument for field `f` and the expression storing parameter `x` in it.
fn param(f: &FieldRef, x: &Ident) -> (TokenStream, TokenStream) {
    let value = super::types::value_type_with(&f.ty, prim);
    let primitive = matches!(f.ty, FieldType::PlainString | FieldType::Primitive(_) | FieldType::Code(_));
    match (f.cardinality.is_many(), primitive, f.storage == Storage::Boxed) {
        (true, _, _) => (quote!(Vec<#value>), quote!(#x)),
        (false, true, false) => (quote!(impl Into<#value>), quote!(Some(#x.into()))),
        (false, true, true) => (quote!(impl Into<#value>), quote!(Some(Box::new(#x.into())))),
        (false, false, false) => (value, quote!(Some(#x))),
        (false, false, true) => (value, quote!(Some(Box::new(#x)))),
    }
}

/// The constructor of a profile view, its template and the list of its arguments.
pub fn constructor(model: &VersionModel, p: &ProfileDef) -> TokenStream {
    let base = ident(&p.base);
    let (json, args) = template(model, p);
    let mut params = Vec::new();
    let mut stores = Vec::new();
    for a in &args {
        let x = ident(&a.name());
        let (ty, value) = param(&a.field, &x);
        params.push(quote!(#x: #ty));
        let f = ident(&a.field.rust);
        stores.push(match a.meta {
            Some(m) => {
                let m = ident(&m.rust);
                quote! { r.#m.get_or_insert_with(Default::default).#f = #value; }
            }
            None => quote! { r.#f = #value; },
        });
    }
    let paths: Vec<String> = args.iter().map(Arg::path).collect();
    let mutable = if args.is_empty() { TokenStream::new() } else { quote!(mut) };
    let listed = if paths.is_empty() {
        "It takes no arguments: the profile requires nothing else.".to_owned()
    } else {
        format!(
            "The arguments are the profile's other required elements, in element order: {}.",
            paths.iter().map(|a| format!("`{}.{a}`", p.base)).collect::<Vec<_>>().join(", ")
        )
    };
    // Written as is, not through `doc` (which escapes brackets as FHIR markdown), so that the link resolves.
    let first = " A new resource of this profile: its template ([`Self::template`]: `meta.profile` with this version, \
                 and the fixed and pattern values of the required elements) with the given elements, checked like \
                 `TryFrom`.";
    let rest = format!(
        " {listed} A violation (a value that breaks the profile, or a required element inside one of them that the \
         template cannot fill) hands the resource back in the error."
    );
    let d = quote! { #[doc = #first] #[doc = ""] #[doc = #rest] };
    quote! {
        /// The template of [`Self::new`] as FHIR JSON.
        pub const TEMPLATE_JSON: &'static str = #json;

        /// The FHIR paths (below the resource) of the arguments of [`Self::new`], in order.
        pub const REQUIRED_ARGS: &'static [&'static str] = &[#(#paths),*];

        /// The resource every new one of this profile starts from: `meta.profile` (`url|version`) and the fixed and
        /// pattern values of the profile's required elements and slices. It does not conform yet when the profile
        /// requires more (see [`Self::REQUIRED_ARGS`]).
        pub fn template() -> #base {
            ::fhir_models::__private::profile_template(Self::PROFILE_URL, Self::TEMPLATE_JSON)
        }

        #d
        pub fn new(#(#params),*) -> Result<Self, ::fhir_models::__private::Nonconformant<#base>> {
            let #mutable r = Self::template();
            #(#stores)*
            Self::try_from(r)
        }
    }
}

/// The Rust type of a value of an extension and the expression making the version's `Extension.value[x]` of
/// `x`; `None` for values written by no accessor (a `code` without an enum).
fn extension_value_of(ext_choice: &Ident, variant: &str, ty: &FieldType, code_enum: &Option<CodeEnumName>, x: &Ident) -> Option<(TokenStream, TokenStream)> {
    let vn = ident(variant);
    Some(match (ty, code_enum) {
        (_, Some(ce)) => {
            let ce = ident(ce);
            (quote!(#ce), quote!(#ext_choice::#vn(Primitive::new(CodeEnum::code(&#x).into()))))
        }
        (FieldType::Primitive(p), None) => {
            let v = prim(*p);
            (quote!(impl Into<Primitive<#v>>), quote!(#ext_choice::#vn(#x.into())))
        }
        (FieldType::Complex(n), None) => {
            let n = ident(n);
            (quote!(#n), quote!(#ext_choice::#vn(Box::new(#x))))
        }
        _ => return None,
    })
}

/// The write accessors of a typed accessor of a profile view (`set_race`/`clear_race`,
/// `add_adjudication_denialreason`/`set_adjudication_denialreason`).
pub fn writers(ext_choice: &str, a: &Accessor) -> TokenStream {
    let e = ident(ext_choice);
    let err = quote!(ProfileError);
    match a {
        Accessor::Extension { method, url, cardinality, value, .. } => {
            let x = ident("value");
            let (ty, make) = match value {
                ExtensionValueKind::Value { variant, ty, code_enum } => match extension_value_of(&e, variant, ty, code_enum, &x) {
                    Some((t, v)) => (t, quote!(Extension { url: Some(#url.to_owned()), value: Some(#v), ..Default::default() })),
                    None => return TokenStream::new(),
                },
                ExtensionValueKind::Complex(s) => {
                    let s = ident(s);
                    (quote!(#s), quote!(#x.to_extension()))
                }
            };
            let (set, clear) = (ident(&crate::naming::write_accessor("set", method)), ident(&crate::naming::write_accessor("clear", method)));
            let (param, new, what) = if cardinality.is_many() {
                (quote!(values: Vec<#ty>), quote!(values.into_iter().map(|#x| #make).collect()), "these values, in order")
            } else {
                (quote!(#x: #ty), quote!(vec![#make]), "this value")
            };
            let ds = doc(&format!(
                "Sets the extension <{url}> to {what}, in place of the ones there are (where the first was), and checks \
                 the profile again: on a violation nothing is changed and the error says why."
            ));
            let dc = doc(&format!("Removes the extension <{url}> and checks the profile again (it may require the extension)."));
            quote! {
                #ds
                pub fn #set(&mut self, #param) -> Result<&mut Self, #err> {
                    let new = #new;
                    self.write_part(|r| &mut r.extension, |list| set_extensions(list, #url, new))
                }
                #dc
                pub fn #clear(&mut self) -> Result<&mut Self, #err> {
                    self.write_part(|r| &mut r.extension, |list| set_extensions(list, #url, Vec::new()))
                }
            }
        }
        Accessor::Slice { method, path, owner, field, item, .. } if field.cardinality.is_many() => {
            let item = ident(item);
            let f = ident(&field.rust);
            let is = ident(&crate::naming::write_accessor("is", method));
            let (add, set) = (ident(&crate::naming::write_accessor("add", method)), ident(&crate::naming::write_accessor("set", method)));
            match owner {
                None => {
                    let da = doc(&format!(
                        "Adds an item to the slice `{path}` and checks the profile again; an item that is not one of \
                         the slice (see its accessor) or that breaks the profile changes nothing, and the error says why."
                    ));
                    let ds = doc(&format!(
                        "Replaces the items of the slice `{path}` by these (where the first one was; the list's other \
                         items are kept) and checks the profile again; on a violation nothing is changed."
                    ));
                    quote! {
                        #da
                        pub fn #add(&mut self, item: #item) -> Result<&mut Self, #err> {
                            self.add_slice_item(|r| &mut r.#f, Self::#is, #path, item)
                        }
                        #ds
                        pub fn #set(&mut self, items: Vec<#item>) -> Result<&mut Self, #err> {
                            self.set_slice_items(|r| &mut r.#f, Self::#is, #path, items)
                        }
                    }
                }
                Some(o) => {
                    let o = ident(o);
                    let da = doc(&format!(
                        "Adds an item to the slice `{path}` of `parent` (an element to put into a resource of this \
                         profile, by `modify` or a constructor), when it is one of the slice (see its accessor)."
                    ));
                    quote! {
                        #da
                        pub fn #add(parent: &mut #o, item: #item) -> Result<(), #err> {
                            ::fhir_models::__private::push_slice_item(Self::PROFILE_URL, #path, &mut parent.#f, Self::#is, item)
                        }
                    }
                }
            }
        }
        Accessor::Slice { .. } => TokenStream::new(),
    }
}

/// The Rust type of a sub-extension's value in an extension struct.
pub fn extension_field_type(f: &ExtensionField) -> TokenStream {
    match (&f.coding_enum, &f.ty) {
        (Some(ce), _) => {
            let ce = ident(ce);
            quote!(#ce)
        }
        (None, FieldType::Primitive(p)) => prim(*p),
        (None, FieldType::Complex(n)) => {
            let n = ident(n);
            quote!(#n)
        }
        (None, FieldType::Code(n)) => {
            let n = ident(n);
            quote!(#n)
        }
        _ => quote!(String),
    }
}

/// `new` (the required sub-extensions) and `to_extension` of an extension struct.
pub fn extension_struct_writes(ext_choice: &str, x: &ExtensionStruct, plain: impl Fn(&ExtensionField) -> bool) -> TokenStream {
    let e = ident(ext_choice);
    let required: Vec<&ExtensionField> = x.fields.iter().filter(|f| f.cardinality == Cardinality::Required && plain(f)).collect();
    let params = required.iter().map(|f| {
        let n = ident(&f.rust);
        match f.ty {
            FieldType::Primitive(Prim::String) if f.coding_enum.is_none() => quote!(#n: impl Into<::fhir_models::FhirString>),
            _ => {
                let t = extension_field_type(f);
                quote!(#n: #t)
            }
        }
    });
    let inits = required.iter().map(|f| {
        let n = ident(&f.rust);
        match f.ty {
            FieldType::Primitive(Prim::String) if f.coding_enum.is_none() => quote!(#n: #n.into(),),
            _ => quote!(#n,),
        }
    });
    let subs = x.fields.iter().map(|f| {
        let n = ident(&f.rust);
        let sub_url = &f.url;
        let vn = ident(&f.variant);
        let value = match (&f.coding_enum, &f.ty) {
            (Some(_), _) => quote!(#e::#vn(Box::new(v.to_coding()))),
            (None, FieldType::Primitive(_)) => quote!(#e::#vn(Primitive::new(v.clone()))),
            _ => quote!(#e::#vn(Box::new(v.clone()))),
        };
        let values = if f.cardinality == Cardinality::Required && plain(f) { quote!(std::iter::once(&self.#n)) } else { quote!(self.#n.iter()) };
        quote! {
            x.extension.extend(#values.map(|v| Extension { url: Some(#sub_url.to_owned()), value: Some(#value), ..Default::default() }));
        }
    });
    let names: Vec<String> = required.iter().map(|f| format!("`{}`", f.url)).collect();
    let dn = doc(&if names.is_empty() {
        "A value without sub-extensions (add them by the fields).".to_owned()
    } else {
        format!("A value with the required sub-extensions ({}); add the others by the fields.", names.join(", "))
    });
    quote! {
        #dn
        pub fn new(#(#params),*) -> Self {
            Self { #(#inits)* ..Default::default() }
        }

        /// The extension: one sub-extension per value, in field order (what `from_extension` reads back).
        pub fn to_extension(&self) -> Extension {
            let mut x = Extension { url: Some(Self::URL.to_owned()), ..Default::default() };
            #(#subs)*
            x
        }
    }
}

/// A coding enum: one variant per coding of the value set, `Other` holding any other `Coding` whole.
pub fn coding_enum(e: &CodingEnum) -> TokenStream {
    let name = ident(&e.name);
    let vs = &e.value_set;
    let d = doc(&format!(
        "{}\n\nThe codings of the value set <{vs}> (a required binding), each with its system, code and display. A \
         `Coding` is read as a variant when it has exactly that system and code and nothing else but the display \
         (absent or the value set's); any other `Coding` is kept whole in `Other`, so that reading and writing \
         back lose nothing. Writing a variant writes the value set's display.",
        e.doc
    ));
    let opt = |s: &Option<String>| match s {
        Some(s) => quote!(Some(#s)),
        None => quote!(None),
    };
    let variants = e.codes.iter().map(|c| {
        let v = ident(&c.variant);
        let d = doc(&format!("`{}` ({}): {}", c.code, c.system.as_deref().unwrap_or("no system"), c.display.as_deref().unwrap_or("")));
        quote! { #d #v, }
    });
    let table = e.codes.iter().map(|c| {
        let (s, k, d) = (opt(&c.system), &c.code, opt(&c.display));
        quote!((#s, #k, #d))
    });
    let all = e.codes.iter().map(|c| {
        let v = ident(&c.variant);
        quote!(Self::#v)
    });
    let index = e.codes.iter().enumerate().map(|(i, c)| {
        let v = ident(&c.variant);
        quote!(Self::#v => Some(#i),)
    });
    let methods = coding_enum_methods();
    quote! {
        #d
        #[derive(Debug, Clone, PartialEq)]
        pub enum #name {
            #(#variants)*
            /// A coding outside the value set (or with more than its system, code and display), kept whole.
            Other(Coding),
        }

        impl #name {
            /// The value set's canonical URL.
            pub const VALUE_SET: &'static str = #vs;
            /// System, code and display of each variant, in order.
            const TABLE: &'static [(Option<&'static str>, &'static str, Option<&'static str>)] = &[#(#table),*];
            const ALL: &'static [Self] = &[#(#all),*];

            fn index(&self) -> Option<usize> {
                match self { #(#index)* Self::Other(_) => None }
            }

            #methods
        }

        /// The code, as on the wire (nothing for an `Other` coding without a code).
        impl core::fmt::Display for #name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.code().unwrap_or_default())
            }
        }
    }
}

/// The methods every coding enum has, over its `TABLE`, `ALL` and `index` (reading a `Coding`, writing one, its
/// system, code and display).
fn coding_enum_methods() -> TokenStream {
    quote! {
        /// The variant a coding is (see the type's docs).
        pub fn from_coding(c: &Coding) -> Self {
            fn text(p: &Option<Primitive<::fhir_models::FhirString>>) -> Option<&str> {
                p.as_ref().and_then(|p| p.value.as_deref())
            }
            let bare = c.id.is_none() && c.extension.is_empty() && c.version.is_none() && c.user_selected.is_none()
                && [&c.system, &c.code, &c.display].iter().all(|p| p.as_ref().map_or(true, |p| p.element.is_none()));
            match ::fhir_models::__private::coding_index(text(&c.system), text(&c.code), text(&c.display), bare, Self::TABLE) {
                Some(i) => Self::ALL[i].clone(),
                None => Self::Other(c.clone()),
            }
        }

        /// The coding: the value set's system, code and display, or the `Other` coding as it was.
        pub fn to_coding(&self) -> Coding {
            match (self.index(), self) {
                (Some(i), _) => {
                    let (system, code, display) = Self::TABLE[i];
                    Coding {
                        system: system.map(|s| Primitive::new(s.into())),
                        code: Some(Primitive::new(code.into())),
                        display: display.map(|d| Primitive::new(d.into())),
                        ..Default::default()
                    }
                }
                (None, Self::Other(c)) => c.clone(),
                (None, _) => Coding::default(),
            }
        }

        /// The code system.
        pub fn system(&self) -> Option<&str> {
            match (self.index(), self) {
                (Some(i), _) => Self::TABLE[i].0,
                (None, Self::Other(c)) => c.system.as_ref().and_then(|p| p.value.as_deref()),
                (None, _) => None,
            }
        }

        /// The code, as on the wire.
        pub fn code(&self) -> Option<&str> {
            match (self.index(), self) {
                (Some(i), _) => Some(Self::TABLE[i].1),
                (None, Self::Other(c)) => c.code.as_ref().and_then(|p| p.value.as_deref()),
                (None, _) => None,
            }
        }

        /// The display: the value set's, or the `Other` coding's.
        pub fn display(&self) -> Option<&str> {
            match (self.index(), self) {
                (Some(i), _) => Self::TABLE[i].2,
                (None, Self::Other(c)) => c.display.as_ref().and_then(|p| p.value.as_deref()),
                (None, _) => None,
            }
        }
    }
}

/// An example value for a constructor argument of a patient view (the US Core and CARIN patients), when its type
/// is one of the few a patient requires; `None` otherwise (the example then shows no patient).
fn example_arg(a: &Arg) -> Option<String> {
    Some(match (&a.field.ty, a.field.cardinality.is_many()) {
        (FieldType::Complex(n), true) if n == "Identifier" => {
            "vec![Identifier { system: Some(\"http://hospital.example.org\".into()), value: Some(\"12345\".into()), ..Default::default() }]".to_owned()
        }
        (FieldType::Complex(n), true) if n == "HumanName" => {
            "vec![HumanName { family: Some(\"Shaw\".into()), given: vec![\"Amy\".into()], ..Default::default() }]".to_owned()
        }
        (FieldType::Code(n), false) if n == "AdministrativeGender" => "AdministrativeGender::Female".to_owned(),
        (FieldType::Primitive(Prim::Instant), false) => "fhir_models::Instant::now()".to_owned(),
        _ => return None,
    })
}

/// The example of a profile module's docs: build from the template, check, read; and for a patient view with a
/// race extension, `new`, `set_race` and reading it back through JSON.
pub fn module_example(model: &VersionModel, m: &ProfileModule) -> String {
    let Some(first) = m.profiles.first() else { return String::new() };
    let (ver, module) = (&model.module, &m.module);
    let race = |p: &ProfileDef| {
        p.accessors.iter().find_map(|a| match a {
            Accessor::Extension { method, value: ExtensionValueKind::Complex(s), cardinality: Cardinality::Optional | Cardinality::Required, .. } if method == "race" => Some(s.clone()),
            _ => None,
        })
    };
    let patient = m.profiles.iter().filter(|p| p.base == "Patient").find_map(|p| {
        let s = race(p)?;
        let (json, args) = template(model, p);
        // Only a patient whose template is `meta.profile` alone: required slices (CARIN's member id) need values
        // an example cannot make up.
        if json.matches("\":").count() > 3 {
            return None;
        }
        let values = args.iter().map(example_arg).collect::<Option<Vec<_>>>()?;
        let x = m.extensions.iter().chain(model.profile_shared.extensions.iter().map(|x| &x.item)).find(|x| x.name == s)?;
        Some((p, x, values))
    });
    let (v, base, claim) = (&first.name, &first.base, first.canonical.to_string());
    let mut uses = vec![v.clone()];
    let mut text = format!(
        r####"

 # Example

 ```
 # fn main() -> Result<(), Box<dyn std::error::Error>> {{
 use fhir_models::FhirJson;
 use fhir_models::{ver}::{{{module}::{{USES}}, {base}, Resource}};

 // Build: the template holds `meta.profile` (with the version) and the profile's fixed and pattern values of its
 // required elements; `{v}::new` takes the others (`{v}::REQUIRED_ARGS`) and checks the result like `TryFrom`.
 let template: {base} = {v}::template();
 assert_eq!(template.meta.as_ref().unwrap().profile[0].value.as_deref(), Some("{claim}"));

 // Check: a resource against a profile named as in `meta.profile`; every violation has its FHIR path.
 let resource = Resource::from_json({v}::TEMPLATE_JSON).unwrap();
 let check = fhir_models::{ver}::check_profile("{claim}", &resource);
 assert!(check.was_checked());
 match {v}::try_from(template) {{
     Ok(view) => assert!({v}::from_json(&view.to_json()).is_ok()),
     Err(e) => assert!(e.error.violations.iter().all(|v| v.path.starts_with("{base}."))),
 }}"####
    );
    if let Some((p, x, values)) = patient {
        let n = &p.name;
        uses.push(n.clone());
        uses.push(x.name.to_string());
        let new_args: Vec<String> = x
            .fields
            .iter()
            .filter(|f| f.cardinality == Cardinality::Required && f.coding_enum.is_none() && matches!(f.ty, FieldType::Primitive(Prim::String)))
            .map(|_| "\"Mixed\"".to_owned())
            .collect();
        let omb = x.fields.iter().find(|f| f.url == "ombCategory" && f.cardinality.is_many());
        let categories = match omb.map(|f| (f, &f.coding_enum)) {
            Some((f, Some(ce))) => {
                let e = m.coding_enums.iter().chain(model.profile_shared.coding_enums.iter().map(|e| &e.item)).find(|e| &e.name == ce);
                let vars: Vec<String> = e.into_iter().flat_map(|e| e.codes.iter().take(2)).map(|c| format!("{ce}::{}", c.variant)).collect();
                uses.push(ce.to_string());
                format!(" race.{} = vec![{}];\n", f.rust, vars.join(", "))
            }
            Some((f, None)) => format!(
                " race.{}.push(Coding {{ system: Some(\"urn:oid:2.16.840.1.113883.6.238\".into()), code: Some(\"2106-3\".into()), ..Default::default() }});\n",
                f.rust
            ),
            None => String::new(),
        };
        let imports = "use fhir_models::r4::{AdministrativeGender, Coding, HumanName, Identifier};".replace("r4", ver);
        text.push_str(&format!(
            r####"

 // Write: `new` with the required elements, then typed setters of the extensions; each write checks the
 // profile again and changes nothing when it would break it.
 {imports}
 let mut patient = {n}::new({args})?;
 let mut race = {xn}::new({new_args});
{categories} patient.set_race(race.clone())?;
 assert_eq!(patient.race(), Some(race));
 let read = {n}::from_json(&patient.to_json())?;
 assert_eq!(read, patient);"####,
            args = values.join(", "),
            xn = x.name,
            new_args = new_args.join(", "),
        ));
    }
    text.push_str("\n # Ok(())\n # }\n ```");
    let mut seen = Vec::new();
    uses.retain(|u| !seen.contains(u) && {
        seen.push(u.clone());
        true
    });
    text.replace("USES", &uses.join(", "))
}
