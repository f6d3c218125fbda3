//! Problems found while reading FHIR JSON: each one names its FHIR path and where in the text it is.

use std::fmt;

/// What kind of problem an [`Issue`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IssueKind {
    /// The text is not JSON (or ends too early). Reading cannot go on after this.
    Syntax,
    /// A JSON key that this FHIR type does not define.
    UnknownElement,
    /// A JSON value of the wrong type for the element (a string for a boolean, an object for a list...).
    WrongType,
    /// A primitive value that is not valid for its FHIR type (a date that is no date, a negative `unsignedInt`).
    InvalidValue,
    /// A code that is not in the required value set of the element. It is kept as an unrecognized code.
    UnknownCode,
    /// A `resourceType` this crate does not know, or whose feature is not enabled.
    UnknownResourceType,
    /// An element given twice, or a choice element (`value[x]`) given with two types.
    Duplicate,
    /// An empty array (`"given": []`), which FHIR JSON does not allow. Nothing is kept of it.
    EmptyArray,
}

impl IssueKind {
    fn label(self) -> &'static str {
        match self {
            IssueKind::Syntax => "invalid JSON",
            IssueKind::UnknownElement => "unknown element",
            IssueKind::WrongType => "wrong JSON type",
            IssueKind::InvalidValue => "invalid value",
            IssueKind::UnknownCode => "unknown code",
            IssueKind::UnknownResourceType => "unknown resource type",
            IssueKind::Duplicate => "duplicate element",
            IssueKind::EmptyArray => "empty array",
        }
    }
}

/// One problem found in the input, with its FHIR path (e.g. `Observation.component[2].value[x]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// What went wrong.
    pub kind: IssueKind,
    /// The FHIR path of the element, e.g. `Patient.name[0].given[1]`.
    pub path: String,
    /// A sentence saying what was expected and what was found.
    pub message: String,
    /// 0-based byte offset of the problem in the input (as given, a byte-order mark included).
    pub offset: usize,
    /// 1-based line of the problem in the input.
    pub line: usize,
    /// 1-based column (in bytes) of the problem in the input.
    pub column: usize,
    /// The JSON text of a value that lenient reading had to leave out (unknown elements, values of the wrong
    /// type), so that nothing is lost without a trace. `None` where the value was kept.
    pub dropped: Option<String>,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at {} (line {}, column {}): {}",
            self.kind.label(),
            self.path,
            self.line,
            self.column,
            self.message
        )
    }
}

/// The error of strict reading (the first problem), and of lenient reading when the text is not JSON at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{issue}")]
pub struct ParseError {
    /// The problem. (Boxed: keeps `Result<_, ParseError>` one pointer wide, which keeps the stack frames of
    /// generated readers small even in debug builds.)
    pub issue: Box<Issue>,
}

impl ParseError {
    pub(crate) fn new(issue: Issue) -> Self {
        ParseError { issue: Box::new(issue) }
    }

    /// What went wrong.
    pub fn kind(&self) -> IssueKind {
        self.issue.kind
    }
    /// The FHIR path of the problem.
    pub fn path(&self) -> &str {
        &self.issue.path
    }
}

/// The result of lenient reading: the value, and every problem found on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Lenient<T> {
    /// What could be read. Unknown codes and invalid dates are kept in it; values that could not be placed are
    /// listed in `issues` with their JSON text ([`Issue::dropped`]).
    pub value: T,
    /// Every problem, in input order.
    pub issues: Vec<Issue>,
}

impl<T> Lenient<T> {
    /// True when nothing was wrong.
    pub fn is_clean(&self) -> bool {
        self.issues.is_empty()
    }
}
