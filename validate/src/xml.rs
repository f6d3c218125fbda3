//! FHIR XML read into FHIR JSON, so definitions and documents written in XML (many hand-written profiles are)
//! validate like JSON ones.
//!
//! The XML form does not say which elements repeat or which are primitives; the StructureDefinitions do, so
//! the conversion walks the definitions of the loaded [`Definitions`] as validation does: repeating elements
//! become arrays, primitives become JSON values (numbers and booleans by their type) with their `id` and
//! extensions in the `_name` partner (arrays padded with `null`), `<div>` narrative becomes its XHTML text, and
//! resources inside `contained`, `Bundle.entry.resource` and `Parameters.parameter.resource` are unwrapped. An
//! element the definitions do not know is kept as an object (or a string for a `value` attribute), so
//! validation then reports it as an unknown element instead of it vanishing.

use crate::definitions::Definitions;
use crate::primitives::is_primitive;
use crate::snapshot::snapshot_elements;
use crate::structure::Structure;
use roxmltree::{Document, Node};
use serde_json::{Map, Number, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Why an XML document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum XmlError {
    /// Not well-formed XML.
    #[error("not well-formed XML: {0}")]
    Syntax(#[from] roxmltree::Error),
    /// The root element is not a resource the definitions know.
    #[error("<{0}> is not a FHIR resource type of the loaded definitions")]
    UnknownResource(String),
}

const XHTML_NS: &str = "http://www.w3.org/1999/xhtml";

struct Converter<'d> {
    defs: &'d Definitions,
    cache: HashMap<String, Option<Arc<Structure>>>,
}

impl Converter<'_> {
    fn structure(&mut self, ty: &str) -> Option<Arc<Structure>> {
        if let Some(s) = self.cache.get(ty) {
            return s.clone();
        }
        let s = self
            .defs
            .type_definition(ty)
            .and_then(|sd| Structure::compile(&sd, &snapshot_elements(self.defs, &sd, 0)?))
            .map(Arc::new);
        self.cache.insert(ty.to_owned(), s.clone());
        s
    }

    fn resource(&mut self, node: Node<'_, '_>) -> Result<Value, XmlError> {
        let rt = node.tag_name().name().to_owned();
        let st = self
            .structure(&rt)
            .filter(|s| s.kind == "resource")
            .ok_or_else(|| XmlError::UnknownResource(rt.clone()))?;
        let mut obj = Map::new();
        obj.insert("resourceType".into(), Value::String(rt));
        self.children(node, &st, 0, &mut obj)?;
        Ok(Value::Object(obj))
    }

    /// Converts the child elements of `node` (described by element `idx` of `st`) into `obj`.
    fn children(
        &mut self,
        node: Node<'_, '_>,
        st: &Arc<Structure>,
        idx: usize,
        obj: &mut Map<String, Value>,
    ) -> Result<(), XmlError> {
        // Which structure describes the children: the element's own, or its type's.
        let content = st.content_of(idx);
        let mut groups: Vec<(String, Vec<Node<'_, '_>>)> = Vec::new();
        for c in node.children().filter(Node::is_element) {
            let name = c.tag_name().name().to_owned();
            match groups.iter_mut().find(|(n, _)| *n == name) {
                Some((_, list)) => list.push(c),
                None => groups.push((name, vec![c])),
            }
        }
        for (name, nodes) in groups {
            let found = st.element(content).children.iter().copied().find_map(|c| {
                let e = st.element(c);
                if e.name == name {
                    Some((c, e.types.first().map(|t| t.code.clone()).unwrap_or_else(|| "BackboneElement".into())))
                } else if e.is_choice() {
                    let stem = &e.name[..e.name.len() - 3];
                    let suffix = name.strip_prefix(stem)?;
                    e.types.iter().find(|t| upper_first(&t.code) == suffix).map(|t| (c, t.code.clone()))
                } else {
                    None
                }
            });
            let (repeats, target) = match &found {
                Some((c, ty)) => (st.element(*c).repeats(), Some((*c, ty.clone()))),
                None => (nodes.len() > 1, None),
            };
            let mut values = Vec::new();
            let mut exts = Vec::new();
            for n in &nodes {
                let (v, x) = self.element(*n, st, target.as_ref())?;
                values.push(v);
                exts.push(x);
            }
            let any_ext = exts.iter().any(Option::is_some);
            if repeats {
                if values.iter().any(|v| !v.is_null()) {
                    obj.insert(name.clone(), Value::Array(values));
                }
                if any_ext {
                    obj.insert(
                        format!("_{name}"),
                        Value::Array(exts.into_iter().map(|x| x.unwrap_or(Value::Null)).collect()),
                    );
                }
            } else {
                // A single element written more than once stays an array, which validation reports.
                let one = nodes.len() == 1;
                let v = if one { values.pop().unwrap_or(Value::Null) } else { Value::Array(values) };
                if !v.is_null() {
                    obj.insert(name.clone(), v);
                }
                if any_ext {
                    let x = if one {
                        exts.pop().flatten().unwrap_or(Value::Null)
                    } else {
                        Value::Array(exts.into_iter().map(|x| x.unwrap_or(Value::Null)).collect())
                    };
                    obj.insert(format!("_{name}"), x);
                }
            }
        }
        Ok(())
    }

    /// One element: its JSON value and, for a primitive, its `_name` partner.
    fn element(
        &mut self,
        n: Node<'_, '_>,
        st: &Arc<Structure>,
        target: Option<&(usize, String)>,
    ) -> Result<(Value, Option<Value>), XmlError> {
        let Some((c, ty)) = target else {
            // Unknown to the definitions: keep what is there.
            if let Some(v) = n.attribute("value") {
                return Ok((Value::String(v.to_owned()), None));
            }
            let mut obj = Map::new();
            for a in n.attributes() {
                obj.insert(a.name().to_owned(), Value::String(a.value().to_owned()));
            }
            return Ok((Value::Object(obj), None));
        };
        if ty == "xhtml" {
            return Ok((Value::String(outer_xml(n)), None));
        }
        if ty == "Resource"
            || n.tag_name().name() == "contained"
            || (ty.starts_with(char::is_uppercase) && self.structure(ty).is_some_and(|s| s.kind == "resource"))
        {
            if let Some(inner) = n.children().find(Node::is_element) {
                return Ok((self.resource(inner)?, None));
            }
            return Ok((Value::Object(Map::new()), None));
        }
        if is_primitive(ty) {
            let value = n.attribute("value").map(|v| primitive(ty, v)).unwrap_or(Value::Null);
            let mut ext = Map::new();
            if let Some(id) = n.attribute("id") {
                ext.insert("id".into(), Value::String(id.to_owned()));
            }
            if let Some(prim) = self.structure(ty) {
                self.children(n, &prim, 0, &mut ext)?;
            }
            return Ok((value, (!ext.is_empty()).then_some(Value::Object(ext))));
        }
        let mut obj = Map::new();
        for attr in ["id", "url"] {
            if let Some(v) = n.attribute(attr) {
                obj.insert(attr.into(), Value::String(v.to_owned()));
            }
        }
        let own = st.content_of(*c);
        if !st.element(own).children.is_empty() {
            self.children(n, st, own, &mut obj)?;
        } else {
            let profile = st.element(*c).types.iter().find(|t| &t.code == ty).and_then(|t| t.profiles.first().cloned());
            let tst = profile.and_then(|p| self.structure(&p)).or_else(|| self.structure(ty));
            if let Some(tst) = tst {
                self.children(n, &tst, 0, &mut obj)?;
            }
        }
        Ok((Value::Object(obj), None))
    }
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
}

/// A primitive's `value` attribute as JSON: booleans and numbers by type (kept as text when they do not parse,
/// so validation reports them).
fn primitive(ty: &str, v: &str) -> Value {
    match ty {
        "boolean" => match v {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(v.to_owned()),
        },
        "integer" | "unsignedInt" | "positiveInt" => {
            v.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::String(v.to_owned()))
        }
        "decimal" => v
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(v.to_owned())),
        _ => Value::String(v.to_owned()),
    }
}

/// The XHTML of a `<div>`, as the JSON form carries it.
fn outer_xml(n: Node<'_, '_>) -> String {
    let text = n.document().input_text();
    let raw = &text[n.range()];
    if raw.contains("xmlns=") || n.tag_name().namespace() != Some(XHTML_NS) {
        raw.to_owned()
    } else {
        raw.replacen("<div", &format!("<div xmlns=\"{XHTML_NS}\""), 1)
    }
}

/// Reads a FHIR XML resource into FHIR JSON, using the definitions to know which elements repeat and which
/// are primitives.
///
/// ```no_run
/// use fhir_validate::{xml_to_json, Definitions, FhirVersion};
/// let defs = Definitions::core(FhirVersion::R4, None)?;
/// let json = xml_to_json(&defs, r#"<Patient xmlns="http://hl7.org/fhir"><active value="true"/></Patient>"#)?;
/// assert_eq!(json, serde_json::json!({"resourceType": "Patient", "active": true}));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn xml_to_json(defs: &Definitions, text: &str) -> Result<Value, XmlError> {
    let doc = Document::parse(text)?;
    let mut conv = Converter { defs, cache: HashMap::new() };
    conv.resource(doc.root_element())
}
