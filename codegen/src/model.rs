//! The intermediate model between loading and emitting. Version-agnostic: the loader turns each FHIR
//! version's (or profile's) StructureDefinitions into these types; the emitter turns them into Rust.
//! Names here are already Rust names (the loader applies the naming rules in [`crate::naming`]).
//!
//! One item refers to another by a typed name ([`TypeName`], [`ChoiceName`], [`VariantName`], [`CodeEnumName`],
//! [`CodingEnumName`], [`ExtensionStructName`], [`ResourceName`]) or canonical ([`Canonical`], [`CanonicalUrl`]),
//! which only the loader makes, once it has found what is named ([`crate::load::refs`]). Where a reference is not
//! resolved against a definition, its doc comment says why.

use std::collections::BTreeSet;

pub use crate::load::refs::{
    Canonical, CanonicalUrl, ChoiceName, CodeEnumName, CodingEnumName, ExtensionStructName, ResourceName, TypeName, VariantName,
};

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
    pub base_resources: Vec<ResourceName>,
    /// Resources the core package defines that the configuration leaves out (sorted): not generated, but still
    /// resource types of the version (in `RESOURCE_TYPES`, read into `Resource::Other`).
    pub omitted_resources: Vec<ResourceName>,
    /// Search parameters by resource name (from the packages' SearchParameter resources); a resource
    /// without parameters of its own has no entry. Filled by [`crate::load::search`].
    pub search_params: std::collections::BTreeMap<ResourceName, Vec<SearchParamDef>>,
    /// Profile modules of implementation guides (`us_core`), each behind its own feature.
    pub profiles: Vec<ProfileModule>,
    /// Items several profile modules share.
    pub profile_shared: SharedProfileItems,
    /// What the loader could not do and did not fail on (a dependency package that is not there), for the
    /// generator to report.
    pub warnings: Vec<String>,
}

impl VersionModel {
    /// The choice enum of `Extension.value[x]` (`ExtensionValue`), through which profile views read and write
    /// extension values; `None` when the version has no `Extension` datatype with a value.
    pub fn extension_value(&self) -> Option<&ChoiceName> {
        let extension = self.datatypes.iter().flat_map(|t| &t.structs).find(|s| s.name == "Extension")?;
        match &extension.fields.iter().find(|f| f.json == "value")?.ty {
            FieldType::Choice(n) => Some(n),
            _ => None,
        }
    }
}

/// One FHIR resource or datatype, with the structs of its backbone elements and its choice enums.
#[derive(Debug, Clone)]
pub struct TypeDef {
    /// FHIR type name (`Patient`, `HumanName`), also the Rust name.
    pub name: String,
    /// The StructureDefinition's canonical URL.
    pub url: CanonicalUrl,
    /// Resource or datatype.
    pub kind: TypeKind,
    /// File name of the emitted module (`patient`, `explanation_of_benefit`).
    pub file: String,
    /// Cargo feature, for resources (`r4-patient`).
    pub feature: Option<String>,
    /// The type's own struct first, then backbone elements in document order.
    pub structs: Vec<StructDef>,
    /// Choice enums of all its elements.
    pub choices: Vec<ChoiceDef>,
}

/// What a [`TypeDef`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeKind {
    /// A resource: behind its own feature, a variant of the version's `Resource` enum.
    Resource,
    /// A complex datatype: always compiled with the module.
    Datatype,
}

/// How many values an element takes (its `min` and `max`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cardinality {
    /// `0..1`.
    Optional,
    /// `1..1`.
    Required,
    /// `0..*` (or a `max` above 1).
    Many,
    /// `1..*` (or `min` 1 and a `max` above 1).
    ManyRequired,
}

impl Cardinality {
    /// From whether more than one value is allowed and whether at least one is required.
    ///
    /// ```
    /// use fhir_codegen::model::Cardinality;
    /// assert_eq!(Cardinality::new(true, false), Cardinality::Many);
    /// assert!(Cardinality::new(false, true).is_required());
    /// assert!(!Cardinality::Required.is_many());
    /// ```
    pub fn new(many: bool, required: bool) -> Self {
        match (many, required) {
            (false, false) => Cardinality::Optional,
            (false, true) => Cardinality::Required,
            (true, false) => Cardinality::Many,
            (true, true) => Cardinality::ManyRequired,
        }
    }

    /// More than one value allowed: a list.
    pub fn is_many(self) -> bool {
        matches!(self, Cardinality::Many | Cardinality::ManyRequired)
    }

    /// At least one value required.
    pub fn is_required(self) -> bool {
        matches!(self, Cardinality::Required | Cardinality::ManyRequired)
    }
}

/// How a single value is stored in its struct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// In place (`Option<T>`, or a `Vec<T>` for lists).
    Inline,
    /// As `Option<Box<T>>`, because the type contains itself (only single-valued complex fields).
    Boxed,
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
    /// `min` and `max` (a `min` above 0 is documented; reading stays lenient about it).
    pub cardinality: Cardinality,
    /// The element's Rust shape.
    pub ty: FieldType,
    /// Boxed because the type contains itself.
    pub storage: Storage,
}

/// The shape of a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType {
    /// A plain string without extensions (`Element.id`, `Extension.url`, `Resource.id` in R4).
    PlainString,
    /// A FHIR primitive with its value type.
    Primitive(Prim),
    /// A `code` with a required binding, as the named code enum.
    Code(CodeEnumName),
    /// A complex datatype or backbone struct.
    Complex(TypeName),
    /// Any resource (`contained`, `Bundle.entry.resource`): the version's `Resource` enum.
    Resource,
    /// A choice element, by its enum.
    Choice(ChoiceName),
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

/// One variant of a choice enum, by name: the enum (`ObservationValue`) and its variant (`Quantity`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChoiceVariantRef {
    /// The choice enum.
    pub choice: ChoiceName,
    /// The variant (the type's suffix of the JSON name, `valueQuantity`).
    pub variant: VariantName,
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
    pub alias_of: Option<ChoiceName>,
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
    pub value_set: CanonicalUrl,
    /// Value set title or description.
    pub doc: String,
    /// The codes.
    pub codes: Vec<CodeValue>,
    /// Name of the fallback variant holding codes outside the value set (`Unrecognized`).
    pub fallback: String,
    /// When it is compiled.
    pub usage: CodeEnumUsage,
}

/// Who uses a code enum, which decides when it is compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeEnumUsage {
    /// A datatype (or a resource compiled with the module) uses it: always compiled.
    Always,
    /// Only these resources use it: compiled with any of their features.
    Resources(BTreeSet<ResourceName>),
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
    /// The value set's display text, when it has one (`CodeEnum::display`).
    pub display: Option<String>,
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
    /// For references: the target resource types (generated resources only: each names a Rust type), sorted;
    /// empty when any resource may be the target.
    pub targets: Vec<ResourceName>,
    /// For tokens on a `code` element with a required binding: the generated code enum.
    pub bound_code_enum: Option<CodeEnumName>,
    /// For composites: the components in order (kind and bound code enum each).
    pub components: Vec<SearchComponentDef>,
    /// The first sentence of the SearchParameter's description.
    pub doc: String,
    /// The SearchParameter's canonical URL.
    pub url: CanonicalUrl,
}

/// One component of a composite search parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchComponentDef {
    /// The component's kind (never `Composite`).
    pub kind: SearchKind,
    /// For token components on a bound `code`: the code enum.
    pub bound_code_enum: Option<CodeEnumName>,
}

/// The profiles of one implementation guide, generated into a submodule of the version module
/// (`r4::us_core`) behind one cargo feature.
#[derive(Debug, Clone)]
pub struct ProfileModule {
    /// Rust module name (`us_core`).
    pub module: String,
    /// Cargo feature (`r4-us-core`).
    pub feature: String,
    /// The package read, `id#version`.
    pub package: String,
    /// The core resources the profiles constrain (their features are enabled by the module's feature).
    pub resources: BTreeSet<ResourceName>,
    /// The profiles, by name.
    pub profiles: Vec<ProfileDef>,
    /// Structs of complex extensions with typed accessors (`UsCoreRace`).
    pub extensions: Vec<ExtensionStruct>,
    /// Code enums of extension values bound to a listable value set (`BirthSex`).
    pub code_enums: Vec<CodeEnum>,
    /// Coding enums of sub-extension `Coding` values bound to a listable value set (`OmbRaceCategories`).
    pub coding_enums: Vec<CodingEnum>,
    /// The extension structs and code enums this module re-exports from the version's shared profile items
    /// ([`VersionModel::profile_shared`]) instead of generating its own copy, sorted by name.
    pub shared: Vec<SharedItem>,
}

impl ProfileModule {
    /// Whether the module re-exports the shared item of this name.
    pub fn shares(&self, name: &str) -> bool {
        self.shared.iter().any(|s| s.name() == name)
    }
}

/// One item of [`SharedProfileItems`] a profile module re-exports, by kind and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SharedItem {
    /// An extension struct ([`SharedProfileItems::extensions`]).
    Extension(ExtensionStructName),
    /// A code enum ([`SharedProfileItems::code_enums`]).
    CodeEnum(CodeEnumName),
    /// A coding enum ([`SharedProfileItems::coding_enums`]).
    CodingEnum(CodingEnumName),
}

impl SharedItem {
    /// The item's Rust name.
    pub fn name(&self) -> &str {
        match self {
            SharedItem::Extension(n) => n,
            SharedItem::CodeEnum(n) => n,
            SharedItem::CodingEnum(n) => n,
        }
    }
}

/// Extension structs and code enums that several profile modules of a version generate identically (US Core
/// 3.1.1's race, read by US Core 3.1.1 and both CARIN BB releases): generated once, compiled with any of the
/// modules, re-exported by each.
#[derive(Debug, Clone, Default)]
pub struct SharedProfileItems {
    /// Extension structs, each with the features of the modules using it.
    pub extensions: Vec<Shared<ExtensionStruct>>,
    /// Code enums, each with the features of the modules using it.
    pub code_enums: Vec<Shared<CodeEnum>>,
    /// Coding enums, each with the features of the modules using it.
    pub coding_enums: Vec<Shared<CodingEnum>>,
}

/// An item several profile modules share, with the features of the modules using it.
#[derive(Debug, Clone)]
pub struct Shared<T> {
    /// The item.
    pub item: T,
    /// The cargo features of the modules that use it (compiled with any of them).
    pub features: Vec<String>,
}

/// An enum of the codings of a value set a `Coding` is bound to (required), for a sub-extension value
/// (`OmbRaceCategories`): one variant per coding (system and code), and one holding any other `Coding` whole.
#[derive(Debug, Clone)]
pub struct CodingEnum {
    /// Rust name.
    pub name: CodingEnumName,
    /// Value set canonical URL.
    pub value_set: CanonicalUrl,
    /// Value set title or description.
    pub doc: String,
    /// The codings, in the value set's order.
    pub codes: Vec<CodingValue>,
}

/// One coding of a [`CodingEnum`].
#[derive(Debug, Clone)]
pub struct CodingValue {
    /// The code system, when the value set names one.
    pub system: Option<String>,
    /// The code.
    pub code: String,
    /// Variant name.
    pub variant: String,
    /// The value set's display text, when it has one.
    pub display: Option<String>,
}

/// One profile (a StructureDefinition with `derivation: constraint` on a resource): a checked view of its base
/// resource.
#[derive(Debug, Clone)]
pub struct ProfileDef {
    /// Rust name of the view (`UsCorePatient`).
    pub name: String,
    /// File name of its module (`us_core_patient`).
    pub file: String,
    /// Canonical URL and business version of the profile (`…/us-core-patient|3.1.1`).
    pub canonical: Canonical,
    /// The constrained core resource (`Patient`).
    pub base: ResourceName,
    /// Title and description.
    pub doc: String,
    /// What is checked, as a tree over the resource's elements.
    pub root: CheckNode,
    /// Typed accessors of extensions and slices.
    pub accessors: Vec<Accessor>,
    /// Constraints of the definition that are not checked (documented on the type).
    pub unchecked: Vec<String>,
}

impl ProfileDef {
    /// The canonical URL without the version, as `meta.profile` names the profile.
    pub fn url(&self) -> &CanonicalUrl {
        self.canonical.url()
    }

    /// The business version, empty when the definition has none.
    pub fn version(&self) -> &str {
        self.canonical.version().unwrap_or_default()
    }
}

/// A coding pattern: a `Coding` matches when it has this system (when given) and this code (when given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodingPattern {
    /// The system, if the pattern has one.
    pub system: Option<String>,
    /// The code, if the pattern has one.
    pub code: Option<String>,
}

/// One element of a struct, as reached from a check (a resolved FHIR path segment).
#[derive(Debug, Clone)]
pub struct FieldRef {
    /// JSON name (`identifier`, `value` for `value[x]`).
    pub json: String,
    /// Rust field name.
    pub rust: String,
    /// FHIR path segment (`identifier`, `value[x]`).
    pub path_name: String,
    /// `min` and `max` of the element.
    pub cardinality: Cardinality,
    /// Stored boxed.
    pub storage: Storage,
    /// The field's type.
    pub ty: FieldType,
}

/// How the items of a slice are told apart from the other items of the sliced list.
#[derive(Debug, Clone)]
pub enum SlicePredicate {
    /// An extension: `url` equals. The URL the extensions carry, from the slice's type profile or its fixed
    /// `url`; not resolved against a definition, because items are matched by URL alone and an extension whose
    /// definition is in no package read can still be sliced (its definition's checks are then noted as not
    /// checked).
    Url(CanonicalUrl),
    /// A primitive child equals the value.
    FieldEquals {
        /// The child.
        field: FieldRef,
        /// The value's text.
        value: String,
    },
    /// A `CodeableConcept` or `Coding` child has every one of the codings.
    FieldCodings {
        /// The child.
        field: FieldRef,
        /// The codings.
        codings: Vec<CodingPattern>,
    },
    /// A `CodeableConcept` or `Coding` child has a coding among these (a required binding as discriminator).
    FieldCodingIn {
        /// The child.
        field: FieldRef,
        /// The value set's URL.
        value_set: CanonicalUrl,
        /// Its codings.
        codings: Vec<CodingPattern>,
    },
    /// The item itself (a primitive) equals the value.
    SelfEquals(String),
    /// The item itself (a `CodeableConcept` or `Coding`) has every one of the codings.
    SelfCodings {
        /// `CodeableConcept` or `Coding`.
        type_name: TypeName,
        /// The codings.
        codings: Vec<CodingPattern>,
    },
    /// Every one of these holds (a pattern on a complex item, e.g. an `Identifier` with a `system` and a `type`).
    All(Vec<SlicePredicate>),
}

/// What is checked at one node: the node's value is a struct (or an `Extension`) reached at a FHIR path.
#[derive(Debug, Clone, Default)]
pub struct CheckNode {
    /// Checks on the fields of the value.
    pub checks: Vec<Check>,
    /// Fields (or slices of them) whose values have checks of their own.
    pub children: Vec<CheckChild>,
}

/// A check on one field of a node's value.
#[derive(Debug, Clone)]
pub struct Check {
    /// The field.
    pub field: FieldRef,
    /// Path segment reported (`identifier`, `extension:race`, `adjudication:denialreason`).
    pub label: String,
    /// The element's short definition (for the docs).
    pub doc: String,
    /// What is checked.
    pub kind: CheckKind,
}

/// The kinds of checks.
#[derive(Debug, Clone)]
pub enum CheckKind {
    /// The number of values (of the slice, when a predicate is given) is within `min..=max`.
    Count {
        /// Only the items of a slice are counted.
        slice: Option<SlicePredicate>,
        /// Fewest.
        min: u32,
        /// Most, `None` for unbounded.
        max: Option<u32>,
    },
    /// Every value (a primitive) equals this text (a fixed or pattern value).
    Fixed(String),
    /// Every value (`CodeableConcept` or `Coding`) has every one of the codings.
    Pattern {
        /// `CodeableConcept` or `Coding`.
        type_name: TypeName,
        /// The codings.
        codings: Vec<CodingPattern>,
    },
    /// Every value (a `code`) is one of these codes (a required binding of the profile).
    CodeIn {
        /// Value set URL.
        value_set: CanonicalUrl,
        /// The codes.
        codes: Vec<String>,
    },
    /// Every value (`CodeableConcept` or `Coding`, by type name) that has codings has one from the value set (a
    /// required binding of the profile). A concept with only text is not checked.
    CodingIn {
        /// `CodeableConcept` or `Coding`.
        type_name: TypeName,
        /// Value set URL.
        value_set: CanonicalUrl,
        /// Its codings.
        codings: Vec<CodingPattern>,
    },
    /// The choice value is one of these variants (the choice enum and variant names).
    ChoiceType {
        /// The choice enum.
        choice: ChoiceName,
        /// Allowed variants.
        allowed: Vec<VariantName>,
    },
    /// Every reference (of the `Reference` variant of a choice, when given) points at one of these resource
    /// types, when its `reference` shows the type.
    Reference {
        /// The choice enum and its `Reference` variant, for choice elements.
        choice: Option<ChoiceName>,
        /// Allowed resource types.
        targets: Vec<ResourceName>,
    },
}

/// A field whose values (or the items of one slice of it, or one variant of a choice) have checks.
#[derive(Debug, Clone)]
pub struct CheckChild {
    /// The field.
    pub field: FieldRef,
    /// Path segment in docs (`extension:race`).
    pub label: String,
    /// Only the items of a slice.
    pub slice: Option<SlicePredicate>,
    /// For a choice narrowed to one complex type: the choice enum and variant.
    pub variant: Option<ChoiceVariantRef>,
    /// The checks of each value.
    pub node: CheckNode,
}

/// A typed accessor on a profile view.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // a few dozen per run, never moved in bulk
pub enum Accessor {
    /// An extension slice on the resource (`race()`, `birth_sex()`).
    Extension {
        /// Method name.
        method: String,
        /// Doc text.
        doc: String,
        /// Extension URL.
        url: CanonicalUrl,
        /// The slice's cardinality: the method returns a `Vec` when more than one is allowed.
        cardinality: Cardinality,
        /// What each extension gives.
        value: ExtensionValueKind,
    },
    /// A named slice of a list (`adjudication_denialreason()`); on a nested list, an associated function taking
    /// the owning element.
    Slice {
        /// Method name.
        method: String,
        /// FHIR path of the slice, as violations name it (`ExplanationOfBenefit.adjudication:denialreason`).
        path: String,
        /// Doc text.
        doc: String,
        /// The owning struct for nested lists (`ExplanationOfBenefitItem`), `None` on the resource itself.
        owner: Option<TypeName>,
        /// The sliced list.
        field: FieldRef,
        /// Rust type of its items.
        item: TypeName,
        /// How the slice's items are found.
        predicate: SlicePredicate,
    },
}

/// What an extension accessor returns.
#[derive(Debug, Clone)]
pub enum ExtensionValueKind {
    /// `value[x]` of one type: the variant of the version's `ExtensionValue` and its field type.
    Value {
        /// Variant (`Coding`, `Code`).
        variant: VariantName,
        /// Its type.
        ty: FieldType,
        /// For a bound code: the generated code enum.
        code_enum: Option<CodeEnumName>,
    },
    /// A complex extension, read into the named struct.
    Complex(ExtensionStructName),
}

/// A struct read from a complex extension (`UsCoreRace`): one field per sub-extension.
#[derive(Debug, Clone)]
pub struct ExtensionStruct {
    /// Rust name.
    pub name: ExtensionStructName,
    /// Extension URL.
    pub url: CanonicalUrl,
    /// Doc text.
    pub doc: String,
    /// One per sub-extension.
    pub fields: Vec<ExtensionField>,
}

/// One sub-extension of a complex extension.
#[derive(Debug, Clone)]
pub struct ExtensionField {
    /// Rust field name.
    pub rust: String,
    /// Sub-extension URL (`ombCategory`): usually relative, a name within its extension rather than a canonical,
    /// so text (the fixed `url` of the sub-extension, else its slice name).
    pub url: String,
    /// Doc text.
    pub doc: String,
    /// How many: a list when more than one is allowed; not optional when exactly one is required.
    pub cardinality: Cardinality,
    /// Variant of `ExtensionValue`.
    pub variant: VariantName,
    /// Its type.
    pub ty: FieldType,
    /// For a `Coding` bound (required) to a listable value set: the generated [`CodingEnum`].
    pub coding_enum: Option<CodingEnumName>,
}
