//! The intermediate model between loading and emitting. Version-agnostic: the loader turns each FHIR
//! version's (or profile's) StructureDefinitions into these types; the emitter turns them into Rust.
//! Names here are already Rust names (the loader applies the naming rules in [`crate::naming`]).

use std::collections::BTreeSet;

/// Everything generated for one FHIR version into one module (`r4`, `dstu2`).
#[derive(Debug, Clone)]
pub struct VersionModel {
    /// Module name and feature prefix, e.g. `r4`.
    pub module: String,
    /// Name of the version marker type, e.g. `R4`.
    pub marker: String,
    /// FHIR version, e.g. `4.0.1`.
    pub fhir_version: String,
    /// The packages read, e.g. `hl7.fhir.r4.core#4.0.1`.
    pub sources: Vec<String>,
    /// Complex datatypes (always compiled with the module).
    pub datatypes: Vec<TypeDef>,
    /// Resources, each behind its own feature.
    pub resources: Vec<TypeDef>,
    /// Code enums for required bindings.
    pub code_enums: Vec<CodeEnum>,
    /// Resources compiled whenever the module is (the client needs them): `Bundle`, `OperationOutcome`.
    pub base_resources: Vec<String>,
    /// Search parameters by resource name (from the packages' SearchParameter resources); a resource
    /// without parameters of its own has no entry. Filled by [`crate::load::search`].
    pub search_params: std::collections::BTreeMap<String, Vec<SearchParamDef>>,
}

/// One FHIR resource or datatype, with the structs of its backbone elements and its choice enums.
#[derive(Debug, Clone)]
pub struct TypeDef {
    /// FHIR type name (`Patient`, `HumanName`), also the Rust name.
    pub name: String,
    /// The StructureDefinition's canonical URL.
    pub url: String,
    /// Resource or datatype.
    pub is_resource: bool,
    /// File name of the emitted module (`patient`, `explanation_of_benefit`).
    pub file: String,
    /// Cargo feature, for resources (`r4-patient`).
    pub feature: Option<String>,
    /// The type's own struct first, then backbone elements in document order.
    pub structs: Vec<StructDef>,
    /// Choice enums of all its elements.
    pub choices: Vec<ChoiceDef>,
}

/// A Rust struct: a type's root or one backbone element.
#[derive(Debug, Clone)]
pub struct StructDef {
    /// Rust name (`Patient`, `PatientContact`).
    pub name: String,
    /// FHIR path (`Patient`, `Patient.contact`).
    pub path: String,
    /// Doc text (the definition's description or the element's short definition).
    pub doc: String,
    /// `Some(resourceType)` for a resource's root struct.
    pub resource_type: Option<String>,
    /// Fields in FHIR order.
    pub fields: Vec<Field>,
}

/// One element of a struct.
#[derive(Debug, Clone)]
pub struct Field {
    /// JSON name (`birthDate`; for a choice, the name without `[x]`: `value`).
    pub json: String,
    /// Rust field name, keyword-escaped (`birth_date`, `r#type`).
    pub rust: String,
    /// Path segment used in reported problems (`birthDate`, `value[x]`).
    pub path_name: String,
    /// Element's short definition.
    pub doc: String,
    /// `max` is `*` or > 1.
    pub many: bool,
    /// `min` > 0 (documented; reading stays lenient about it).
    pub required: bool,
    /// The element's Rust shape.
    pub ty: FieldType,
    /// Stored as `Box<T>` because the type contains itself.
    pub boxed: bool,
}

/// The shape of a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType {
    /// A plain string without extensions (`Element.id`, `Extension.url`, `Resource.id` in R4).
    PlainString,
    /// A FHIR primitive with its value type.
    Primitive(Prim),
    /// A `code` with a required binding, as the named code enum.
    Code(String),
    /// A complex datatype or backbone struct, by Rust name.
    Complex(String),
    /// Any resource (`contained`, `Bundle.entry.resource`): the version's `Resource` enum.
    Resource,
    /// A choice element, by enum name.
    Choice(String),
}

/// Rust value types of the FHIR primitives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Prim {
    /// `boolean`
    Bool,
    /// `integer`
    Integer,
    /// `unsignedInt`, `positiveInt`
    Unsigned,
    /// `integer64`
    Integer64,
    /// `decimal`
    Decimal,
    /// `string`, `code`, `id`, `uri`, `url`, `canonical`, `oid`, `uuid`, `markdown`, `base64Binary`, `xhtml`
    String,
    /// `date`
    Date,
    /// `dateTime`
    DateTime,
    /// `instant`
    Instant,
    /// `time`
    Time,
}

/// A choice element's enum: one variant per allowed type.
#[derive(Debug, Clone)]
pub struct ChoiceDef {
    /// Rust name (`ObservationValue`).
    pub name: String,
    /// FHIR path (`Observation.value[x]`).
    pub path: String,
    /// Element's short definition.
    pub doc: String,
    /// Variants in the order the definition lists the types.
    pub variants: Vec<ChoiceVariant>,
    /// Another choice enum (of a datatype, so always compiled) with exactly the same variants: this one is a
    /// type alias of it instead of a copy (`TaskInputValue` = `ExtensionValue`, the open type).
    pub alias_of: Option<String>,
}

/// One type of a choice element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChoiceVariant {
    /// Variant name and JSON key suffix (`Quantity`, `DateTime`).
    pub suffix: String,
    /// `Primitive(..)` or `Complex(..)`.
    pub ty: FieldType,
}

/// A code enum generated for a required binding.
#[derive(Debug, Clone)]
pub struct CodeEnum {
    /// Rust name (`AdministrativeGender`).
    pub name: String,
    /// Value set canonical URL.
    pub value_set: String,
    /// Value set title or description.
    pub doc: String,
    /// The codes.
    pub codes: Vec<CodeValue>,
    /// Name of the fallback variant holding codes outside the value set (`Unrecognized`).
    pub fallback: String,
    /// Resources using it; empty when a datatype uses it (then it is always compiled).
    pub used_by_resources: BTreeSet<String>,
    /// Whether a datatype uses it.
    pub used_by_datatype: bool,
}

/// One code of a code enum.
#[derive(Debug, Clone)]
pub struct CodeValue {
    /// The code on the wire.
    pub code: String,
    /// Variant name.
    pub variant: String,
    /// Display or definition, for the doc comment.
    pub doc: String,
}

/// The kind of a search parameter (`SearchParameter.type`), which decides its value syntax, modifiers and
/// prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SearchKind {
    /// `number`: prefixes, a decimal.
    Number,
    /// `date`: prefixes, a (partial) date or dateTime.
    Date,
    /// `string`: `:exact`, `:contains`.
    String,
    /// `token`: `system|code`, `:text`, `:not`, `:above`, `:below`, `:in`, `:not-in`.
    Token,
    /// A `token` on an `Identifier` element: a token that also takes `:of-type`.
    Identifier,
    /// `reference`: typed by its target resources, chainable.
    Reference,
    /// `composite`: component values joined by `$`.
    Composite,
    /// `quantity`: prefixes, a number with an optional unit.
    Quantity,
    /// `uri`: `:above`, `:below`.
    Uri,
    /// `special`: a syntax of its own (e.g. `Location.near`), taken as raw text.
    Special,
}

/// One search parameter of one resource (a multi-base SearchParameter gives one per base).
#[derive(Debug, Clone)]
pub struct SearchParamDef {
    /// The name on the wire (`birthdate`, `code-value-quantity`).
    pub code: String,
    /// Rust method name (`birthdate`, `code_value_quantity`; keywords escaped like fields).
    pub method: String,
    /// The kind.
    pub kind: SearchKind,
    /// For references: the target resource types, sorted; empty when any resource may be the target.
    pub targets: Vec<String>,
    /// For tokens on a `code` element with a required binding: the generated code enum.
    pub bound_code_enum: Option<String>,
    /// For composites: the components in order (kind and bound code enum each).
    pub components: Vec<SearchComponentDef>,
    /// The first sentence of the SearchParameter's description.
    pub doc: String,
    /// The SearchParameter's canonical URL.
    pub url: String,
}

/// One component of a composite search parameter.
#[derive(Debug, Clone)]
pub struct SearchComponentDef {
    /// The component's kind (never `Composite`).
    pub kind: SearchKind,
    /// For token components on a bound `code`: the code enum.
    pub bound_code_enum: Option<String>,
}
