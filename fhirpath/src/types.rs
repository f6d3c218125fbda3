//! FHIR R4 type information: the type of each element, for `is`, `as`, `ofType`, `type()` and choice elements.
//!
//! The table (`r4-types.tsv`, 217 kB, parsed once on first use) is derived from the R4 core StructureDefinitions by
//! `fhirpath/scripts/gen-r4-types.py`; the engine does not depend on the generated models. A node whose type is not
//! known (an element the table does not list, data of another FHIR version) still navigates; only type tests on
//! it answer "no".

use std::collections::HashMap;
use std::sync::OnceLock;

static TABLE_TEXT: &str = include_str!("r4-types.tsv");

/// What the engine knows of a node's type: its type name and the table path of its element definitions (the same
/// as the name, except for a backbone element, whose children are defined under its own path, `Patient.contact`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypeInfo {
    pub name: &'static str,
    pub path: &'static str,
}

struct Table {
    /// type name -> (kind, base type)
    kinds: HashMap<&'static str, (&'static str, &'static str)>,
    /// element path -> types
    elements: HashMap<&'static str, &'static str>,
    /// lower-cased type name -> type name, for choice suffixes (`valueString` -> `string`)
    by_lower: HashMap<String, &'static str>,
}

fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| {
        let mut kinds = HashMap::new();
        let mut elements = HashMap::new();
        let mut by_lower = HashMap::new();
        for line in TABLE_TEXT.lines() {
            let Some((path, types)) = line.split_once('\t') else {
                continue;
            };
            if let Some(kind) = types.strip_prefix('!') {
                let (kind, base) = kind.split_once(':').unwrap_or((kind, ""));
                kinds.insert(path, (kind, base));
                by_lower.insert(path.to_ascii_lowercase(), path);
            } else {
                elements.insert(path, types);
            }
        }
        Table {
            kinds,
            elements,
            by_lower,
        }
    })
}

/// The child of an element, as the table describes it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Child {
    /// One type (or a backbone element).
    Single(TypeInfo),
    /// A choice `name[x]`: the comma-separated allowed types.
    Choice(&'static str),
}

impl TypeInfo {
    /// The type of a resource named by its `resourceType`.
    pub fn resource(name: &str) -> Option<TypeInfo> {
        let (&name, _) = table().kinds.get_key_value(name)?;
        Some(TypeInfo { name, path: name })
    }

    /// The type with this exact name (`HumanName`, `string`, `Patient`).
    pub fn named(name: &str) -> Option<TypeInfo> {
        TypeInfo::resource(name)
    }

    /// The type a choice suffix names (`Quantity`, `String` -> `string`, `DateTime` -> `dateTime`).
    pub fn from_choice_suffix(suffix: &str) -> Option<TypeInfo> {
        let &name = table().by_lower.get(&suffix.to_ascii_lowercase())?;
        Some(TypeInfo { name, path: name })
    }

    /// Whether this is a FHIR primitive type (`string`, `date`, ...).
    pub fn is_primitive(&self) -> bool {
        table()
            .kinds
            .get(self.name)
            .is_some_and(|(k, _)| *k == "primitive-type")
    }

    /// Whether this is a resource type.
    pub fn is_resource(&self) -> bool {
        table()
            .kinds
            .get(self.name)
            .is_some_and(|(k, _)| *k == "resource")
    }

    /// The base type (`Age` -> `Quantity`, `Patient` -> `DomainResource`), if any.
    pub fn base(&self) -> Option<TypeInfo> {
        let (_, base) = table().kinds.get(self.name)?;
        TypeInfo::named(base)
    }

    /// Whether a value of this type is a `name` (the type itself or one of its bases).
    pub fn is_a(&self, name: &str) -> bool {
        let mut t = Some(*self);
        while let Some(ty) = t {
            if ty.name == name {
                return true;
            }
            t = ty.base();
        }
        false
    }

    /// The definition of child `name` of this type, looked up through the base types.
    pub(crate) fn child(&self, name: &str) -> Option<Child> {
        let t = table();
        let mut path = self.path;
        let mut current = Some(*self);
        loop {
            let key = format!("{path}.{name}");
            if let Some((&k, &types)) = t.elements.get_key_value(key.as_str()) {
                return Some(resolve_child(k, types));
            }
            let choice = format!("{path}.{name}[x]");
            if let Some(&types) = t.elements.get(choice.as_str()) {
                return Some(Child::Choice(types));
            }
            // backbone elements inherit from BackboneElement, types from their base
            let next = if path.contains('.') {
                TypeInfo::named("BackboneElement")
            } else {
                current.and_then(|c| c.base())
            };
            let next = next?;
            if next.name == current.map(|c| c.name).unwrap_or("") {
                return None;
            }
            path = next.path;
            current = Some(next);
            if name == "extension" || name == "modifierExtension" {
                return TypeInfo::named("Extension").map(Child::Single);
            }
        }
    }
}

fn resolve_child(path: &'static str, types: &'static str) -> Child {
    if let Some(target) = types.strip_prefix('#') {
        let target = table()
            .elements
            .get_key_value(target)
            .map(|(k, _)| *k)
            .unwrap_or(target);
        let name = if types.contains("@Element") {
            "Element"
        } else {
            "BackboneElement"
        };
        return Child::Single(TypeInfo { name, path: target });
    }
    if let Some(backbone) = types.strip_prefix('@') {
        let name = if backbone == "Element" {
            "Element"
        } else {
            "BackboneElement"
        };
        return Child::Single(TypeInfo { name, path });
    }
    let first = types.split(',').next().unwrap_or(types);
    let first = if first == "Resource" {
        "Resource"
    } else {
        first
    };
    match TypeInfo::named(first) {
        Some(t) => Child::Single(t),
        None => Child::Choice(types),
    }
}

/// The System type a FHIR primitive is read as (`code` -> `String`).
pub fn system_type_of_primitive(name: &str) -> Option<&'static str> {
    Some(match name {
        "boolean" => "Boolean",
        "integer" | "positiveInt" | "unsignedInt" => "Integer",
        "decimal" => "Decimal",
        "date" => "Date",
        "dateTime" | "instant" => "DateTime",
        "time" => "Time",
        "string" | "code" | "id" | "uri" | "url" | "canonical" | "oid" | "uuid" | "markdown"
        | "base64Binary" | "xhtml" => "String",
        _ => return None,
    })
}
