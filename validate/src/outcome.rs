//! Validation issues and their conversion to an `OperationOutcome`.

use serde_json::{json, Value};
use std::fmt;

/// How bad an issue is (`OperationOutcome.issue.severity`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The document cannot be processed at all.
    Fatal,
    /// The document violates a rule: it is invalid.
    Error,
    /// Probably a problem (an extensible binding not followed, a warning invariant).
    Warning,
    /// Worth knowing (a value set that could not be checked).
    Information,
}

impl Severity {
    /// The FHIR code (`fatal`, `error`, `warning`, `information`).
    pub fn code(self) -> &'static str {
        match self {
            Severity::Fatal => "fatal",
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "information",
        }
    }

    /// Whether an issue of this severity makes the document invalid (error or fatal).
    pub fn is_error(self) -> bool {
        matches!(self, Severity::Fatal | Severity::Error)
    }
}

/// The rule an issue breaks: a stable code (see [`Rule::code`]) that tools can match on, independent of the
/// message text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// The document is not JSON, or a resource has no known `resourceType`.
    Structure,
    /// Fewer occurrences than the element's `min`.
    CardinalityMin,
    /// More occurrences than the element's `max`.
    CardinalityMax,
    /// A repeating element written as a single value, or a single one as an array.
    ArrayShape,
    /// A JSON value of the wrong kind (a number where a string belongs, an object for a primitive...).
    JsonType,
    /// A primitive whose text breaks its type's format or range (`positiveInt` 0, `id` with a space, a bad date).
    PrimitiveFormat,
    /// An empty string, object or array, or a `null` in an array without its `_x` partner.
    Empty,
    /// A key the definition has no element for.
    UnknownElement,
    /// A code outside the value set of a required binding.
    BindingRequired,
    /// A code outside the value set of an extensible binding (a warning).
    BindingExtensible,
    /// A value set of a binding that cannot be listed from the loaded packages (information: not checked).
    ValueSetNotChecked,
    /// A value different from the element's `fixed[x]`.
    Fixed,
    /// A value that does not contain the element's `pattern[x]`.
    Pattern,
    /// Too few or too many items in one slice.
    SliceCardinality,
    /// An item matching no slice of a closed slicing.
    SliceClosed,
    /// A profile (from `meta.profile`, a type's profile or the caller) that is not loaded.
    UnknownProfile,
    /// An extension whose definition is not loaded.
    UnknownExtension,
    /// A FHIRPath invariant (`constraint`) that does not hold; its key is in the message.
    Invariant,
    /// A choice element with more than one type given, or a type the element does not allow (a reference to a
    /// resource type its target profiles do not list).
    Type,
    /// A value outside the element's `minValue[x]`/`maxValue[x]` (durations for dates count from today).
    Range,
    /// A rule of a resource the definitions cannot express (Bundle `fullUrl`s, search results with ids,
    /// an Attachment `size` that is not the size of its `data`).
    Resource,
}

impl Rule {
    /// The stable code: `cardinality-min`, `primitive-format`, `binding-required`, ...
    pub fn code(self) -> &'static str {
        match self {
            Rule::Structure => "structure",
            Rule::CardinalityMin => "cardinality-min",
            Rule::CardinalityMax => "cardinality-max",
            Rule::ArrayShape => "array-shape",
            Rule::JsonType => "json-type",
            Rule::PrimitiveFormat => "primitive-format",
            Rule::Empty => "empty",
            Rule::UnknownElement => "unknown-element",
            Rule::BindingRequired => "binding-required",
            Rule::BindingExtensible => "binding-extensible",
            Rule::ValueSetNotChecked => "value-set-not-checked",
            Rule::Fixed => "fixed",
            Rule::Pattern => "pattern",
            Rule::SliceCardinality => "slice-cardinality",
            Rule::SliceClosed => "slice-closed",
            Rule::UnknownProfile => "unknown-profile",
            Rule::UnknownExtension => "unknown-extension",
            Rule::Invariant => "invariant",
            Rule::Type => "type",
            Rule::Range => "range",
            Rule::Resource => "resource-rule",
        }
    }

    /// The `OperationOutcome.issue.code` (FHIR IssueType) this rule maps to.
    pub fn issue_type(self) -> &'static str {
        match self {
            Rule::Structure | Rule::ArrayShape | Rule::JsonType | Rule::UnknownElement | Rule::Type => "structure",
            Rule::CardinalityMin | Rule::CardinalityMax | Rule::SliceCardinality | Rule::SliceClosed => "structure",
            Rule::PrimitiveFormat | Rule::Empty | Rule::Fixed | Rule::Pattern => "value",
            Rule::BindingRequired | Rule::BindingExtensible => "code-invalid",
            Rule::ValueSetNotChecked => "informational",
            Rule::UnknownProfile | Rule::UnknownExtension => "not-found",
            Rule::Invariant => "invariant",
            Rule::Range => "value",
            Rule::Resource => "invalid",
        }
    }
}

/// The system of the `details.coding` that carries an issue's [`Rule::code`].
pub const RULE_SYSTEM: &str = "https://github.com/fhir-toolkit/fhir-validate/rule";

/// One finding: where (the FHIR path, as the HL7 validator writes `issue.expression`, e.g.
/// `Patient.name[0].given[1]`, `Observation.value.ofType(Quantity)`), how bad, which rule, and a message.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Issue {
    /// The FHIR path of the element.
    pub path: String,
    /// How bad it is.
    pub severity: Severity,
    /// The rule broken.
    pub rule: Rule,
    /// A human-readable explanation.
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} [{}]: {}", self.severity.code(), self.path, self.rule.code(), self.message)
    }
}

/// The result of validating one document: its issues, in the order found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Every issue found.
    pub issues: Vec<Issue>,
}

impl Outcome {
    /// Valid means no issue of severity error or fatal.
    pub fn is_valid(&self) -> bool {
        !self.issues.iter().any(|i| i.severity.is_error())
    }

    /// The issues of severity error or fatal.
    pub fn errors(&self) -> impl Iterator<Item = &Issue> {
        self.issues.iter().filter(|i| i.severity.is_error())
    }

    /// The outcome as a FHIR `OperationOutcome` (JSON). An outcome without issues carries the one
    /// informational issue FHIR requires (`issue` is 1..*).
    ///
    /// ```
    /// use fhir_validate::{Issue, Outcome, Rule, Severity};
    /// let outcome = Outcome { issues: vec![Issue {
    ///     path: "Patient.id".into(), severity: Severity::Error, rule: Rule::PrimitiveFormat,
    ///     message: "not a valid id".into() }] };
    /// let oo = outcome.to_operation_outcome();
    /// assert_eq!(oo["issue"][0]["expression"][0], "Patient.id");
    /// assert_eq!(oo["issue"][0]["details"]["coding"][0]["code"], "primitive-format");
    /// ```
    pub fn to_operation_outcome(&self) -> Value {
        let issues: Vec<Value> = if self.issues.is_empty() {
            vec![json!({"severity": "information", "code": "informational", "details": {"text": "All OK"}})]
        } else {
            self.issues
                .iter()
                .map(|i| {
                    json!({
                        "severity": i.severity.code(),
                        "code": i.rule.issue_type(),
                        "details": {
                            "coding": [{"system": RULE_SYSTEM, "code": i.rule.code()}],
                            "text": i.message,
                        },
                        "expression": [i.path],
                    })
                })
                .collect()
        };
        json!({"resourceType": "OperationOutcome", "issue": issues})
    }
}
