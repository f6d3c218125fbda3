//! The values search parameters take: tokens, prefixes, quantities, dates, numbers and typed references.

use super::escape;
use crate::primitives::{CodeEnum, Date, DateTime, Decimal, Instant};
use crate::FhirResource;
use std::fmt;
use std::marker::PhantomData;

/// A comparison prefix of `number`, `date` and `quantity` parameters (`ge2020-01-01`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prefix {
    /// `eq`: equal (the default).
    Eq,
    /// `ne`: not equal.
    Ne,
    /// `gt`: greater than.
    Gt,
    /// `lt`: less than.
    Lt,
    /// `ge`: greater or equal.
    Ge,
    /// `le`: less or equal.
    Le,
    /// `sa`: starts after.
    Sa,
    /// `eb`: ends before.
    Eb,
    /// `ap`: approximately.
    Ap,
}

impl Prefix {
    /// All prefixes.
    pub const ALL: [Prefix; 9] =
        [Prefix::Eq, Prefix::Ne, Prefix::Gt, Prefix::Lt, Prefix::Ge, Prefix::Le, Prefix::Sa, Prefix::Eb, Prefix::Ap];

    /// The two letters on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Prefix::Eq => "eq",
            Prefix::Ne => "ne",
            Prefix::Gt => "gt",
            Prefix::Lt => "lt",
            Prefix::Ge => "ge",
            Prefix::Le => "le",
            Prefix::Sa => "sa",
            Prefix::Eb => "eb",
            Prefix::Ap => "ap",
        }
    }

    /// The prefix a value starts with, and the rest.
    pub fn split(value: &str) -> (Option<Prefix>, &str) {
        for p in Prefix::ALL {
            if let Some(rest) = value.strip_prefix(p.as_str()) {
                return (Some(p), rest);
            }
        }
        (None, value)
    }

    pub(crate) fn render(self, value: &str) -> String {
        match self {
            Prefix::Eq => value.to_owned(),
            p => format!("{}{value}", p.as_str()),
        }
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A token value: `[system]|[code]`, a code alone, `|code` (no system) or `system|` (any code of the system).
/// System and code are escaped when rendered.
///
/// ```
/// use fhir_models::search::Token;
/// assert_eq!(Token::new("http://loinc.org", "29308-4").render(), "http://loinc.org|29308-4");
/// assert_eq!(Token::code("final").render(), "final");
/// assert_eq!(Token::without_system("x").render(), "|x");
/// assert_eq!(Token::system("http://snomed.info/sct").render(), "http://snomed.info/sct|");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Token {
    system: Option<String>,
    code: Option<String>,
}

impl Token {
    /// `system|code`.
    pub fn new(system: impl Into<String>, code: impl Into<String>) -> Self {
        Token { system: Some(system.into()), code: Some(code.into()) }
    }
    /// A code in any system.
    pub fn code(code: impl Into<String>) -> Self {
        Token { system: None, code: Some(code.into()) }
    }
    /// `|code`: a code that has no system.
    pub fn without_system(code: impl Into<String>) -> Self {
        Token { system: Some(String::new()), code: Some(code.into()) }
    }
    /// `system|`: any code of the system.
    pub fn system(system: impl Into<String>) -> Self {
        Token { system: Some(system.into()), code: None }
    }
    /// The value as sent.
    pub fn render(&self) -> String {
        let code = self.code.as_deref().map(escape).unwrap_or_default();
        match &self.system {
            Some(s) => format!("{}|{code}", escape(s)),
            None => code,
        }
    }
}

impl From<&str> for Token {
    fn from(code: &str) -> Self {
        Token::code(code)
    }
}

impl From<String> for Token {
    fn from(code: String) -> Self {
        Token::code(code)
    }
}

/// Marker for token parameters without a bound code enum: they take a [`Token`] or a code as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AnyCode;

/// What a token parameter typed by `C` accepts. `C` is the generated code enum of a parameter bound to a
/// required value set (it then takes that enum, or a [`Token`] as the escape hatch), or [`AnyCode`] (a
/// [`Token`], `&str` or `String`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a value of this token parameter",
    label = "this parameter takes `{C}` (or a `Token`)",
    note = "token parameters bound to a required value set take that value set's code enum"
)]
pub trait TokenArg<C> {
    /// The rendered value (escaped).
    fn render_token(&self) -> String;
}

impl<C> TokenArg<C> for Token {
    fn render_token(&self) -> String {
        self.render()
    }
}

impl<C: CodeEnum> TokenArg<C> for C {
    fn render_token(&self) -> String {
        escape(self.code())
    }
}

impl TokenArg<AnyCode> for &str {
    fn render_token(&self) -> String {
        escape(self)
    }
}

impl TokenArg<AnyCode> for String {
    fn render_token(&self) -> String {
        escape(self)
    }
}

/// A quantity value: a number with an optional unit (`5.4|http://unitsofmeasure.org|mg`, `5.4||mg`).
///
/// ```
/// use fhir_models::search::QuantityValue;
/// use fhir_models::Decimal;
/// let q = QuantityValue::new(Decimal::new("5.40").unwrap()).unit("http://unitsofmeasure.org", "mg");
/// assert_eq!(q.render(), "5.40|http://unitsofmeasure.org|mg");
/// assert_eq!(QuantityValue::new(7).code("mm[Hg]").render(), "7||mm[Hg]");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QuantityValue {
    number: String,
    system: Option<String>,
    code: Option<String>,
}

impl QuantityValue {
    /// A number without unit.
    pub fn new(number: impl NumberArg) -> Self {
        QuantityValue { number: number.render_number(), system: None, code: None }
    }
    /// With a unit of a system (`http://unitsofmeasure.org`, `mg`).
    pub fn unit(mut self, system: impl Into<String>, code: impl Into<String>) -> Self {
        self.system = Some(system.into());
        self.code = Some(code.into());
        self
    }
    /// With a unit code or text in any system (`||mg`).
    pub fn code(mut self, code: impl Into<String>) -> Self {
        self.system = None;
        self.code = Some(code.into());
        self
    }
    /// The value as sent (without prefix).
    pub fn render(&self) -> String {
        match (&self.system, &self.code) {
            (None, None) => self.number.clone(),
            (s, c) => format!(
                "{}|{}|{}",
                self.number,
                s.as_deref().map(escape).unwrap_or_default(),
                c.as_deref().map(escape).unwrap_or_default()
            ),
        }
    }
}

/// A value of a `quantity` parameter: a [`QuantityValue`] (with unit) or a plain number.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a value of a quantity parameter",
    label = "takes a `QuantityValue` (number, system, code) or a plain integer or `Decimal`"
)]
pub trait QuantityArg {
    /// The quantity as sent (without prefix).
    fn render_quantity(&self) -> String;
}

impl QuantityArg for QuantityValue {
    fn render_quantity(&self) -> String {
        self.render()
    }
}

impl QuantityArg for &QuantityValue {
    fn render_quantity(&self) -> String {
        self.render()
    }
}

impl<N: NumberArg> QuantityArg for N {
    fn render_quantity(&self) -> String {
        self.render_number()
    }
}

/// A value of a `number` parameter: integers and exact [`Decimal`]s (no `f64`: `1.50` stays `1.50`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a value of a number parameter",
    label = "takes an integer or an exact `Decimal` (`Decimal::new(\"1.50\")?`); `f64` is not accepted, it would lose the precision"
)]
pub trait NumberArg {
    /// The number as sent.
    fn render_number(&self) -> String;
}

macro_rules! number_arg {
    ($($t:ty),*) => {$(
        impl NumberArg for $t {
            fn render_number(&self) -> String {
                self.to_string()
            }
        }
    )*};
}
number_arg!(i32, i64, u32, u64, usize);

impl NumberArg for Decimal {
    fn render_number(&self) -> String {
        self.as_str().to_owned()
    }
}

impl NumberArg for &Decimal {
    fn render_number(&self) -> String {
        self.as_str().to_owned()
    }
}

/// A value of a `date` parameter: a [`Date`], [`DateTime`] or [`Instant`], with the precision it was written
/// with (`2020`, `2020-03`, `2020-03-15T10:00:00Z`): FHIR searches a partial date as the whole period.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a value of a date parameter",
    label = "takes a `Date`, `DateTime` or `Instant`; parse text first: `Date::new(\"2023-01-01\")?`"
)]
pub trait DateArg {
    /// The date as sent.
    fn render_date(&self) -> String;
}

macro_rules! date_arg {
    ($($t:ty),*) => {$(
        impl DateArg for $t {
            fn render_date(&self) -> String {
                self.as_str().to_owned()
            }
        }
        impl DateArg for &$t {
            fn render_date(&self) -> String {
                self.as_str().to_owned()
            }
        }
    )*};
}
date_arg!(Date, DateTime, Instant);

/// A typed reference value for reference parameters: `Patient/123`. Made with [`Reference::to`]; a parameter
/// takes it only when `T` is one of its declared target types.
///
/// ```
/// # #[cfg(feature = "r4-patient")] {
/// use fhir_models::{r4::Patient, search::Reference};
/// assert_eq!(Reference::to::<Patient>("123").render(), "Patient/123");
/// # }
/// ```
pub struct Reference<T> {
    id: String,
    _t: PhantomData<fn() -> T>,
}

impl Reference<()> {
    /// A reference to the `T` with this logical id.
    pub fn to<T: FhirResource>(id: impl Into<String>) -> Reference<T> {
        Reference { id: id.into(), _t: PhantomData }
    }
}

impl<T> Reference<T> {
    /// The logical id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl<T: FhirResource> Reference<T> {
    /// `Type/id`, as sent.
    pub fn render(&self) -> String {
        format!("{}/{}", T::RESOURCE_TYPE, escape(&self.id))
    }
}

impl<T> Clone for Reference<T> {
    fn clone(&self) -> Self {
        Reference { id: self.id.clone(), _t: PhantomData }
    }
}

impl<T> PartialEq for Reference<T> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl<T: FhirResource> fmt::Debug for Reference<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reference({}/{})", T::RESOURCE_TYPE, self.id)
    }
}

/// `Self` is one of the declared target types of the reference parameters marked `M`. The generated code
/// implements it for each target of each reference parameter (`Patient: Target<ObservationSubjectTargets>`);
/// parameters that may point at any resource use [`AnyTarget`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a target type of this reference parameter",
    label = "not among the parameter's targets",
    note = "the allowed target types are listed in the documentation of `{M}`, and by the parameter method's documentation",
    note = "for a target outside that list, add the pair as it is with `Search::raw(name, value)`"
)]
pub trait Target<M> {}

/// Marker of reference parameters whose target may be any resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AnyTarget;

impl<T: FhirResource> Target<AnyTarget> for T {}
