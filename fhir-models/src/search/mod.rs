//! Typed FHIR search: one builder per resource, generated from the packages' SearchParameter resources.
//!
//! Every resource `X` of a version module has `XSearch` (an alias of [`Search<X>`]) with one method per search
//! parameter of `X`, named like the parameter (`birthdate`, `address_city`, `code_value_quantity`). The method
//! returns a [`Param`] typed by the parameter's kind, which offers exactly the modifiers and prefixes FHIR allows
//! for that kind; giving it a value returns the builder. So a parameter of another resource, a date prefix on a
//! string, a modifier the kind does not have, a chain through a type that is not a target, or a code of the wrong
//! value set do not compile.
//!
//! ```
//! # #[cfg(all(feature = "r4-observation", feature = "r4-patient"))] {
//! use fhir_models::r4::{ObservationSearch, ObservationStatus, Patient};
//! use fhir_models::search::{Reference, Token};
//! use fhir_models::DateTime;
//!
//! let q = ObservationSearch::new()
//!     .code().is(Token::new("http://loinc.org", "29308-4"))
//!     .status().is(ObservationStatus::Final)
//!     .subject().is(Reference::to::<Patient>("123"))
//!     .date().ge(DateTime::new("2020-01").unwrap())
//!     .date().sort_desc()
//!     ._count(50).unwrap();
//! assert_eq!(
//!     q.query_string(),
//!     "code=http://loinc.org%7C29308-4&status=final&subject=Patient/123&date=ge2020-01&_sort=-date&_count=50"
//! );
//! // Parsing gives the same builder back.
//! assert_eq!(ObservationSearch::from_query(&q.query_string()).unwrap(), q);
//! # }
//! ```
//!
//! - Values: OR with `any_of` (comma-joined), AND by naming a parameter again (the pair repeats).
//! - Common parameters on every builder, named as on the wire: [`_id`](Search::_id),
//!   [`_last_updated`](Search::_last_updated), [`_tag`](Search::_tag), [`_profile`](Search::_profile),
//!   [`_security`](Search::_security), [`_source`](Search::_source), [`_content`](Search::_content),
//!   [`_text`](Search::_text); and for the result: [`_count`](Search::_count) (checked against
//!   [`COUNT_CAP`]), `_sort` through a parameter (`.date().sort_desc()`), `_include` through a reference parameter
//!   (`.subject().include()`), [`_revinclude`](Search::_revinclude), [`_elements`](Search::_elements),
//!   [`_summary`](Search::_summary), [`_total`](Search::_total).
//! - Chaining along declared targets: `.subject().chain::<Patient>(|p| p.name().is("peter"))` gives
//!   `subject:Patient.name=peter`.
//! - Escape hatch: [`raw`](Search::raw) adds any `(name, value)` pair as it is.
//! - Values are escaped as FHIR requires (`\,` `\|` `\$` `\\`, see [`escape`]); [`query_string`](Search::query_string)
//!   percent-encodes; [`from_query`](Search::from_query) parses a query back, checking the parameters it knows.

mod encode;
mod param;
mod parse;
mod value;

pub use encode::{escape, split_unescaped, unescape};
pub use param::{
    ComponentArg, CompositeKind, DateKind, IdentifierArg, IdentifierKind, NumberKind, Param, PrefixArg, QuantityKind,
    ReferenceKind, Sortable, SpecialKind, StringKind, TokenKind, UriKind,
};
pub use parse::SearchError;
pub use value::{
    AnyCode, AnyTarget, DateArg, NumberArg, Prefix, QuantityArg, QuantityValue, Reference, Target, Token, TokenArg,
};

use crate::FhirResource;
use std::fmt;
use std::marker::PhantomData;

/// The highest `_count` [`Search::_count`] accepts; servers cap pages themselves, a larger request is a mistake.
pub const COUNT_CAP: u32 = 1000;

mod sealed {
    pub trait Sealed {}
}

/// What a builder is for: a search ([`Top`]), the inside of a chain ([`Chained`]) or picking a parameter for
/// `_revinclude` ([`Select`]).
pub trait Mode: sealed::Sealed {}
/// Modes in which parameters take values: [`Top`] and [`Chained`].
pub trait Filter: Mode {}

/// A search of its own: filters and result parameters (`_count`, `_sort`, `_include`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Top {}
/// The inside of a chain: filters only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chained {}
/// Picking a reference parameter (for `_revinclude` and `_include:iterate`): no values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Select {}

impl sealed::Sealed for Top {}
impl sealed::Sealed for Chained {}
impl sealed::Sealed for Select {}
impl Mode for Top {}
impl Mode for Chained {}
impl Mode for Select {}
impl Filter for Top {}
impl Filter for Chained {}

/// The kind of a search parameter, as the packages' SearchParameter resources say (`token` on an `Identifier`
/// is [`Identifier`](ParamKind::Identifier)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamKind {
    /// `number`
    Number,
    /// `date`
    Date,
    /// `string`
    String,
    /// `token`
    Token,
    /// `token` on an `Identifier` element
    Identifier,
    /// `reference`
    Reference,
    /// `composite`
    Composite,
    /// `quantity`
    Quantity,
    /// `uri`
    Uri,
    /// `special`
    Special,
}

impl ParamKind {
    /// The modifiers FHIR search allows for the kind (besides `:missing`, which all have; references also take
    /// `:Type` of a target).
    pub fn modifiers(self) -> &'static [&'static str] {
        match self {
            ParamKind::String => &["exact", "contains"],
            ParamKind::Token => &["text", "not", "above", "below", "in", "not-in"],
            ParamKind::Identifier => &["text", "not", "in", "not-in", "of-type"],
            ParamKind::Reference => &["identifier"],
            ParamKind::Uri => &["above", "below"],
            ParamKind::Number | ParamKind::Date | ParamKind::Quantity | ParamKind::Composite | ParamKind::Special => &[],
        }
    }

    /// Whether values take a comparison [`Prefix`].
    pub fn has_prefixes(self) -> bool {
        matches!(self, ParamKind::Number | ParamKind::Date | ParamKind::Quantity)
    }
}

/// What the parser knows of one search parameter (generated for every resource).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamInfo {
    /// The name on the wire.
    pub code: &'static str,
    /// The kind.
    pub kind: ParamKind,
    /// Reference targets; empty when any resource may be the target.
    pub targets: &'static [&'static str],
    /// The kinds of a composite's components.
    pub components: &'static [ParamKind],
}

/// The parameters of `Resource` that every builder has (R4 names; a server of an older version ignores those it
/// does not know).
pub const COMMON_PARAMS: &[ParamInfo] = &[
    ParamInfo { code: "_id", kind: ParamKind::Token, targets: &[], components: &[] },
    ParamInfo { code: "_lastUpdated", kind: ParamKind::Date, targets: &[], components: &[] },
    ParamInfo { code: "_tag", kind: ParamKind::Token, targets: &[], components: &[] },
    ParamInfo { code: "_profile", kind: ParamKind::Uri, targets: &[], components: &[] },
    ParamInfo { code: "_security", kind: ParamKind::Token, targets: &[], components: &[] },
    ParamInfo { code: "_source", kind: ParamKind::Uri, targets: &[], components: &[] },
    ParamInfo { code: "_content", kind: ParamKind::String, targets: &[], components: &[] },
    ParamInfo { code: "_text", kind: ParamKind::String, targets: &[], components: &[] },
];

/// A resource with a generated search builder: its parameters, and a way to find those of other resources of
/// the same version (for chains and includes). Implemented by the generated code for every resource.
pub trait Searchable: FhirResource {
    /// The resource's own search parameters, sorted by code (common ones are in [`COMMON_PARAMS`]).
    const SEARCH_PARAMS: &'static [ParamInfo];
    /// The search parameters of another resource type of the same version, when its feature is on.
    fn search_params_of(resource_type: &str) -> Option<&'static [ParamInfo]>;
}

/// A search of resources `R`: an ordered list of `(name, value)` query pairs built through typed methods.
/// `XSearch` is `Search<X>`; `M` is the [`Mode`].
pub struct Search<R, M = Top> {
    pairs: Vec<(String, String)>,
    _r: PhantomData<fn() -> (R, M)>,
}

impl<R, M> Clone for Search<R, M> {
    fn clone(&self) -> Self {
        Search { pairs: self.pairs.clone(), _r: PhantomData }
    }
}

impl<R, M> PartialEq for Search<R, M> {
    fn eq(&self, other: &Self) -> bool {
        self.pairs == other.pairs
    }
}

impl<R, M> Eq for Search<R, M> {}

impl<R: FhirResource, M> fmt::Debug for Search<R, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Search").field("resource_type", &R::RESOURCE_TYPE).field("pairs", &self.pairs).finish()
    }
}

impl<R: FhirResource> Default for Search<R, Top> {
    fn default() -> Self {
        Search::empty()
    }
}

impl<R, M> Search<R, M> {
    pub(crate) fn empty() -> Self {
        Search { pairs: Vec::new(), _r: PhantomData }
    }

    pub(crate) fn push(mut self, name: String, value: String) -> Self {
        self.pairs.push((name, value));
        self
    }

    pub(crate) fn sort_key(mut self, key: String) -> Self {
        match self.pairs.iter_mut().find(|(n, _)| n == "_sort") {
            Some((_, v)) => {
                v.push(',');
                v.push_str(&key);
            }
            None => self.pairs.push(("_sort".into(), key)),
        }
        self
    }

    /// The query pairs, in order, values escaped but not percent-encoded (what a client encodes and sends).
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The query pairs, owned.
    pub fn into_pairs(self) -> Vec<(String, String)> {
        self.pairs
    }

    /// The percent-encoded query string, without `?` (`name=Smith&_count=10`).
    pub fn query_string(&self) -> String {
        let mut out = String::new();
        for (i, (name, value)) in self.pairs.iter().enumerate() {
            if i > 0 {
                out.push('&');
            }
            encode::percent_encode(name, &mut out);
            out.push('=');
            encode::percent_encode(value, &mut out);
        }
        out
    }
}

impl<R: FhirResource> Search<R, Top> {
    /// An empty search: every `R`.
    pub fn new() -> Self {
        Search::empty()
    }

    /// A builder for picking a reference parameter of `R` for [`_revinclude`](Search::_revinclude) or
    /// [`_include_iterate`](Search::_include_iterate) (`ObservationSearch::select().subject()`).
    pub fn select() -> Search<R, Select> {
        Search::empty()
    }

    /// Parses a query string (with or without a leading `?`), checking every parameter against `R`'s: its
    /// name, modifier, prefixes, chain and include targets. Parameters of other kinds FHIR defines (`_has:...`,
    /// `_filter`, `_list`, `_query`, `_format`, `_pretty`) are kept as they are.
    pub fn from_query(query: &str) -> Result<Self, SearchError>
    where
        R: Searchable,
    {
        let query = query.strip_prefix('?').unwrap_or(query);
        let mut pairs = Vec::new();
        for part in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            pairs.push((encode::percent_decode(name)?, encode::percent_decode(value)?));
        }
        Self::from_pairs(pairs)
    }

    /// Like [`from_query`](Search::from_query), from decoded pairs.
    pub fn from_pairs<N: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Result<Self, SearchError>
    where
        R: Searchable,
    {
        let mut search = Search::empty();
        for (name, value) in pairs {
            let (name, value) = (name.into(), value.into());
            parse::check_pair::<R>(&name, &value)?;
            search.pairs.push((name, value));
        }
        Ok(search)
    }

    /// `_count`: results per page, at most [`COUNT_CAP`].
    pub fn _count(self, count: u32) -> Result<Self, SearchError> {
        if count > COUNT_CAP {
            return Err(SearchError::CountOverCap { count: count.to_string(), cap: COUNT_CAP });
        }
        Ok(self.push("_count".into(), count.to_string()))
    }

    /// `_elements`: return only these top-level elements (plus the mandatory ones).
    pub fn _elements<'a>(self, elements: impl IntoIterator<Item = &'a str>) -> Self {
        let v = elements.into_iter().map(escape).collect::<Vec<_>>().join(",");
        self.push("_elements".into(), v)
    }

    /// `_summary`: return a summary of each resource.
    pub fn _summary(self, summary: Summary) -> Self {
        self.push("_summary".into(), summary.as_str().into())
    }

}

impl<R, M: Filter> Search<R, M> {
    /// Adds a pair as it is: the escape hatch for anything the typed methods do not cover. The value is not
    /// escaped.
    pub fn raw(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.push(name.into(), value.into())
    }

    /// `_content`: full-text search over the whole resource (1upHealth supports it on most types).
    pub fn _content(self, text: &str) -> Self {
        self.push("_content".into(), escape(text))
    }

    /// `_text`: full-text search over the narrative.
    pub fn _text(self, text: &str) -> Self {
        self.push("_text".into(), escape(text))
    }
}

impl<R, M: Mode> Search<R, M> {
    /// `_id`: the logical id.
    pub fn _id(self) -> Param<Self, TokenKind<AnyCode>> {
        Param::new(self, "_id")
    }
    /// `_lastUpdated`: when the resource last changed on the server.
    pub fn _last_updated(self) -> Param<Self, DateKind> {
        Param::new(self, "_lastUpdated")
    }
    /// `_tag`: a tag in `meta.tag`.
    pub fn _tag(self) -> Param<Self, TokenKind<AnyCode>> {
        Param::new(self, "_tag")
    }
    /// `_profile`: a profile the resource claims in `meta.profile`.
    pub fn _profile(self) -> Param<Self, UriKind> {
        Param::new(self, "_profile")
    }
    /// `_security`: a security label in `meta.security`.
    pub fn _security(self) -> Param<Self, TokenKind<AnyCode>> {
        Param::new(self, "_security")
    }
}

/// Common parameters that FHIR R4 added (DSTU2 has neither).
#[cfg(feature = "r4-base")]
impl<R: FhirResource<Version = crate::r4::R4>, M: Mode> Search<R, M> {
    /// `_source`: where the resource came from (`meta.source`).
    pub fn _source(self) -> Param<Self, UriKind> {
        Param::new(self, "_source")
    }
}

#[cfg(feature = "r4-base")]
impl<R: FhirResource<Version = crate::r4::R4>> Search<R, Top> {
    /// `_total`: how the server should count the matches.
    pub fn _total(self, total: Total) -> Self {
        self.push("_total".into(), total.as_str().into())
    }
}

/// Whether `R` is a DSTU2 resource: DSTU2 search has no `_source` or `_total`, and names the modifier that
/// follows includes through the results so far `:recurse` (R4: `:iterate`).
pub(crate) fn is_dstu2<R: FhirResource>() -> bool {
    <R::Version as crate::FhirVersion>::NAME == "dstu2"
}

/// `_include:iterate` / `_revinclude:iterate` in R4, `:recurse` in DSTU2.
pub(crate) fn iterate_modifier<R: FhirResource>() -> &'static str {
    if is_dstu2::<R>() {
        "recurse"
    } else {
        "iterate"
    }
}

/// `_summary` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Summary {
    /// `true`: the elements marked as summary.
    True,
    /// `text`: text, id, meta and the mandatory elements.
    Text,
    /// `data`: everything but the narrative.
    Data,
    /// `count`: only the number of matches.
    Count,
    /// `false`: everything.
    False,
}

impl Summary {
    /// All values.
    pub const ALL: [Summary; 5] = [Summary::True, Summary::Text, Summary::Data, Summary::Count, Summary::False];
    /// The value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Summary::True => "true",
            Summary::Text => "text",
            Summary::Data => "data",
            Summary::Count => "count",
            Summary::False => "false",
        }
    }
}

/// `_total` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Total {
    /// `none`: no total.
    None,
    /// `estimate`: a rough total is enough.
    Estimate,
    /// `accurate`: the exact total.
    Accurate,
}

impl Total {
    /// All values.
    pub const ALL: [Total; 3] = [Total::None, Total::Estimate, Total::Accurate];
    /// The value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Total::None => "none",
            Total::Estimate => "estimate",
            Total::Accurate => "accurate",
        }
    }
}
