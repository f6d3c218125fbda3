//! Parameter handles: what a builder's parameter method returns. The kind `K` decides which modifiers and
//! prefixes exist, so a wrong combination is a compile error ("no method named `ge` found for struct
//! `Param<Search<Patient>, StringKind>`").

use super::value::{DateArg, NumberArg, Prefix, QuantityArg, QuantityValue, Reference, Target, Token, TokenArg};
use super::{escape, Chained, Filter, Search, Select, Top};
use crate::FhirResource;
use std::marker::PhantomData;

/// One search parameter of the builder `S`, of kind `K`: pick a modifier or prefix and a value, and get the
/// builder back.
#[must_use = "a parameter does nothing until it is given a value"]
pub struct Param<S, K> {
    search: S,
    name: &'static str,
    _k: PhantomData<fn() -> K>,
}

impl<S, K> Param<S, K> {
    /// The handle for parameter `name` (used by the generated builders).
    #[doc(hidden)]
    pub fn new(search: S, name: &'static str) -> Self {
        Param { search, name, _k: PhantomData }
    }

    /// The parameter's name on the wire.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// Kind of `string` parameters: `:exact`, `:contains`, `:missing`.
#[derive(Debug)]
pub enum StringKind {}
/// Kind of `token` parameters; `C` is the bound code enum, or [`AnyCode`](super::AnyCode).
#[derive(Debug)]
pub struct TokenKind<C>(PhantomData<fn() -> C>);
/// Kind of `token` parameters on an `Identifier`: the token modifiers and `:of-type`.
#[derive(Debug)]
pub enum IdentifierKind {}
/// Kind of `date` parameters: the nine prefixes, `:missing`.
#[derive(Debug)]
pub enum DateKind {}
/// Kind of `number` parameters: the nine prefixes, `:missing`.
#[derive(Debug)]
pub enum NumberKind {}
/// Kind of `quantity` parameters: the nine prefixes, units, `:missing`.
#[derive(Debug)]
pub enum QuantityKind {}
/// Kind of `uri` parameters: `:above`, `:below`, `:missing`.
#[derive(Debug)]
pub enum UriKind {}
/// Kind of `reference` parameters whose targets are marked `M` (see [`Target`]).
#[derive(Debug)]
pub struct ReferenceKind<M>(PhantomData<fn() -> M>);
/// Kind of `composite` parameters; `C` is the tuple of the components' kinds.
#[derive(Debug)]
pub struct CompositeKind<C>(PhantomData<fn() -> C>);
/// Kind of `special` parameters (`Location.near`, ...): raw text.
#[derive(Debug)]
pub enum SpecialKind {}

impl<R, M: Filter, K> Param<Search<R, M>, K> {
    fn with(self, modifier: Option<&str>, value: String) -> Search<R, M> {
        let name = match modifier {
            Some(m) => format!("{}:{m}", self.name),
            None => self.name.to_owned(),
        };
        self.search.push(name, value)
    }

    fn join<I: IntoIterator>(values: I, render: impl Fn(I::Item) -> String) -> String {
        values.into_iter().map(render).collect::<Vec<_>>().join(",")
    }

    /// `:missing=true|false`: the element is absent (or present).
    pub fn missing(self, missing: bool) -> Search<R, M> {
        self.with(Some("missing"), missing.to_string())
    }
}

impl<R, M: Filter> Param<Search<R, M>, StringKind> {
    /// Starts with `text`, ignoring case and accents (the default match).
    pub fn is(self, text: &str) -> Search<R, M> {
        self.with(None, escape(text))
    }
    /// Any of the texts (OR, comma-joined).
    pub fn any_of<'a>(self, texts: impl IntoIterator<Item = &'a str>) -> Search<R, M> {
        let v = Self::join(texts, escape);
        self.with(None, v)
    }
    /// `:exact`: the whole text, case and accents included.
    pub fn exact(self, text: &str) -> Search<R, M> {
        self.with(Some("exact"), escape(text))
    }
    /// `:contains`: the text anywhere in the value.
    pub fn contains(self, text: &str) -> Search<R, M> {
        self.with(Some("contains"), escape(text))
    }
}

macro_rules! token_methods {
    ($arg:ident) => {
        /// The token matches `value`.
        pub fn is(self, value: impl $arg) -> Search<R, M> {
            let v = value.render_token();
            self.with(None, v)
        }
        /// Any of the values (OR, comma-joined).
        pub fn any_of<V: $arg>(self, values: impl IntoIterator<Item = V>) -> Search<R, M> {
            let v = Self::join(values, |t| t.render_token());
            self.with(None, v)
        }
        /// `:not`: no value matches.
        pub fn not(self, value: impl $arg) -> Search<R, M> {
            let v = value.render_token();
            self.with(Some("not"), v)
        }
        /// `:text`: the text of the CodeableConcept or the Coding's display matches.
        pub fn text(self, text: &str) -> Search<R, M> {
            self.with(Some("text"), escape(text))
        }
        /// `:in`: the code is in the value set with this URL.
        pub fn in_value_set(self, value_set: &str) -> Search<R, M> {
            self.with(Some("in"), escape(value_set))
        }
        /// `:not-in`: the code is not in the value set with this URL.
        pub fn not_in_value_set(self, value_set: &str) -> Search<R, M> {
            self.with(Some("not-in"), escape(value_set))
        }
    };
}

/// Token values for identifiers: a [`Token`] (`system|value`) or the value as text.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a value of an identifier parameter",
    label = "takes a `Token` (`system|value`) or the value as `&str`"
)]
pub trait IdentifierArg {
    /// The rendered value.
    fn render_token(&self) -> String;
}

impl IdentifierArg for Token {
    fn render_token(&self) -> String {
        self.render()
    }
}

impl IdentifierArg for &str {
    fn render_token(&self) -> String {
        escape(self)
    }
}

impl<R, M: Filter, C> Param<Search<R, M>, TokenKind<C>> {
    /// The token matches `value`: a code of the bound code enum, a [`Token`], or (unbound parameters) a code.
    pub fn is(self, value: impl TokenArg<C>) -> Search<R, M> {
        let v = value.render_token();
        self.with(None, v)
    }
    /// Any of the values (OR, comma-joined).
    pub fn any_of<V: TokenArg<C>>(self, values: impl IntoIterator<Item = V>) -> Search<R, M> {
        let v = Self::join(values, |t| t.render_token());
        self.with(None, v)
    }
    /// `:not`: no value matches.
    pub fn not(self, value: impl TokenArg<C>) -> Search<R, M> {
        let v = value.render_token();
        self.with(Some("not"), v)
    }
    /// `:text`: the text of the CodeableConcept or the Coding's display matches.
    pub fn text(self, text: &str) -> Search<R, M> {
        self.with(Some("text"), escape(text))
    }
    /// `:in`: the code is in the value set with this URL.
    pub fn in_value_set(self, value_set: &str) -> Search<R, M> {
        self.with(Some("in"), escape(value_set))
    }
    /// `:not-in`: the code is not in the value set with this URL.
    pub fn not_in_value_set(self, value_set: &str) -> Search<R, M> {
        self.with(Some("not-in"), escape(value_set))
    }
    /// `:above`: the code subsumes `value` (`value` or its ancestors).
    pub fn above(self, value: impl TokenArg<C>) -> Search<R, M> {
        let v = value.render_token();
        self.with(Some("above"), v)
    }
    /// `:below`: the code is subsumed by `value` (`value` or its descendants).
    pub fn below(self, value: impl TokenArg<C>) -> Search<R, M> {
        let v = value.render_token();
        self.with(Some("below"), v)
    }
}

impl<R, M: Filter> Param<Search<R, M>, IdentifierKind> {
    token_methods!(IdentifierArg);

    /// `:of-type`: an identifier of this type (a code of `http://terminology.hl7.org/CodeSystem/v2-0203`, e.g.
    /// `MR`) with this value: `type-system|type-code|value`.
    pub fn of_type(self, identifier_type: Token, value: &str) -> Search<R, M> {
        let v = format!("{}|{}", identifier_type.render(), escape(value));
        self.with(Some("of-type"), v)
    }
}

/// A value that takes a comparison [`Prefix`] in a parameter of kind `K`: dates ([`DateArg`]) for `date`,
/// numbers ([`NumberArg`]) for `number`, quantities ([`QuantityArg`]) for `quantity`. No other kind has
/// prefixes, so `eq` ... `ap` on a string or token parameter do not compile.
#[diagnostic::on_unimplemented(
    message = "a `{K}` parameter cannot compare with a `{Self}` value (`eq`, `ge`, `lt`, ... take a value of the parameter's kind)",
    label = "not a value for this parameter's prefixes",
    note = "prefixes take: a `Date`, `DateTime` or `Instant` on a `DateKind` parameter (text must be parsed first: `Date::new(\"2023-01-01\")?`); an integer or `Decimal` on a `NumberKind` parameter; a `QuantityValue` or number on a `QuantityKind` parameter",
    note = "string, token, reference and uri parameters have no prefixes; see their methods for the modifiers they allow"
)]
pub trait PrefixArg<K> {
    /// The value as sent, without prefix.
    fn render_prefixed(&self) -> String;
}

impl<D: DateArg> PrefixArg<DateKind> for D {
    fn render_prefixed(&self) -> String {
        self.render_date()
    }
}

impl<N: NumberArg> PrefixArg<NumberKind> for N {
    fn render_prefixed(&self) -> String {
        self.render_number()
    }
}

impl<Q: QuantityArg> PrefixArg<QuantityKind> for Q {
    fn render_prefixed(&self) -> String {
        self.render_quantity()
    }
}

/// The nine prefixes; they compile only for date, number and quantity parameters (see [`PrefixArg`]).
impl<R, M: Filter, K> Param<Search<R, M>, K> {
    /// `eq`: equal to the value (sent without prefix). For a partial date: within its period.
    pub fn eq(self, v: impl PrefixArg<K>) -> Search<R, M> {
        self.prefixed(Prefix::Eq, v)
    }
    /// `ne`: not equal to the value.
    pub fn ne(self, v: impl PrefixArg<K>) -> Search<R, M> {
        self.prefixed(Prefix::Ne, v)
    }
    /// `gt`: greater than the value.
    pub fn gt(self, v: impl PrefixArg<K>) -> Search<R, M> {
        self.prefixed(Prefix::Gt, v)
    }
    /// `lt`: less than the value.
    pub fn lt(self, v: impl PrefixArg<K>) -> Search<R, M> {
        self.prefixed(Prefix::Lt, v)
    }
    /// `ge`: greater than or equal to the value.
    pub fn ge(self, v: impl PrefixArg<K>) -> Search<R, M> {
        self.prefixed(Prefix::Ge, v)
    }
    /// `le`: less than or equal to the value.
    pub fn le(self, v: impl PrefixArg<K>) -> Search<R, M> {
        self.prefixed(Prefix::Le, v)
    }
    /// `sa`: starts after the value.
    pub fn sa(self, v: impl PrefixArg<K>) -> Search<R, M> {
        self.prefixed(Prefix::Sa, v)
    }
    /// `eb`: ends before the value.
    pub fn eb(self, v: impl PrefixArg<K>) -> Search<R, M> {
        self.prefixed(Prefix::Eb, v)
    }
    /// `ap`: approximately the value.
    pub fn ap(self, v: impl PrefixArg<K>) -> Search<R, M> {
        self.prefixed(Prefix::Ap, v)
    }
    /// The value with any prefix (`eq` is sent without one).
    pub fn prefixed(self, prefix: Prefix, v: impl PrefixArg<K>) -> Search<R, M> {
        let text = prefix.render(&v.render_prefixed());
        self.with(None, text)
    }
}

macro_rules! prefixed_any_of {
    ($($kind:ty),*) => {$(
        impl<R, M: Filter> Param<Search<R, M>, $kind> {
            /// Any of the prefixed values (OR, comma-joined).
            pub fn any_of<V: PrefixArg<$kind>>(self, values: impl IntoIterator<Item = (Prefix, V)>) -> Search<R, M> {
                let v = Self::join(values, |(p, v)| p.render(&v.render_prefixed()));
                self.with(None, v)
            }
        }
    )*};
}
prefixed_any_of!(DateKind, NumberKind, QuantityKind);

impl<R, M: Filter> Param<Search<R, M>, UriKind> {
    /// The URI, exactly.
    pub fn is(self, uri: &str) -> Search<R, M> {
        self.with(None, escape(uri))
    }
    /// Any of the URIs (OR, comma-joined).
    pub fn any_of<'a>(self, uris: impl IntoIterator<Item = &'a str>) -> Search<R, M> {
        let v = Self::join(uris, escape);
        self.with(None, v)
    }
    /// `:above`: the value is `uri` or a prefix of it (path-wise).
    pub fn above(self, uri: &str) -> Search<R, M> {
        self.with(Some("above"), escape(uri))
    }
    /// `:below`: `uri` is the value or a prefix of it (path-wise).
    pub fn below(self, uri: &str) -> Search<R, M> {
        self.with(Some("below"), escape(uri))
    }
}

impl<R, M: Filter> Param<Search<R, M>, SpecialKind> {
    /// The value in the parameter's own syntax, sent as given (not escaped).
    pub fn is(self, raw: &str) -> Search<R, M> {
        self.with(None, raw.to_owned())
    }
}

impl<R, M: Filter, T> Param<Search<R, M>, ReferenceKind<T>> {
    /// Points at this resource (`Patient/123`); `X` must be one of the parameter's targets.
    pub fn is<X: FhirResource + Target<T>>(self, reference: Reference<X>) -> Search<R, M> {
        self.with(None, reference.render())
    }
    /// Points at any of these resources (OR, comma-joined).
    pub fn any_of<X: FhirResource + Target<T>>(self, references: impl IntoIterator<Item = Reference<X>>) -> Search<R, M> {
        let v = Self::join(references, |r| r.render());
        self.with(None, v)
    }
    /// `:Type` with a bare id: points at the `X` with this id.
    pub fn typed<X: FhirResource + Target<T>>(self, id: &str) -> Search<R, M> {
        self.with(Some(X::RESOURCE_TYPE), escape(id))
    }
    /// A bare logical id (of any target type) or an absolute URL.
    pub fn id_or_url(self, id_or_url: &str) -> Search<R, M> {
        self.with(None, escape(id_or_url))
    }
    /// `:identifier`: the reference's `identifier` matches.
    pub fn identifier(self, identifier: Token) -> Search<R, M> {
        self.with(Some("identifier"), identifier.render())
    }
    /// Chaining: the referenced `X` matches the search built by `f` (`subject:Patient.name=peter`). Only along
    /// declared targets: `X` must be one of the parameter's targets.
    pub fn chain<X: FhirResource + Target<T>>(
        self,
        f: impl FnOnce(Search<X, Chained>) -> Search<X, Chained>,
    ) -> Search<R, M> {
        let prefix = format!("{}:{}.", self.name, X::RESOURCE_TYPE);
        let inner = f(Search::empty());
        let mut search = self.search;
        for (name, value) in inner.into_pairs() {
            search = search.push(format!("{prefix}{name}"), value);
        }
        search
    }
}

impl<R: FhirResource, T> Param<Search<R, Top>, ReferenceKind<T>> {
    /// `_include=Resource:param`: also return the resources this parameter points at.
    pub fn include(self) -> Search<R, Top> {
        let v = format!("{}:{}", R::RESOURCE_TYPE, self.name);
        self.search.push("_include".into(), v)
    }
    /// `_include=Resource:param:X`: also return the `X` resources this parameter points at.
    pub fn include_only<X: FhirResource + Target<T>>(self) -> Search<R, Top> {
        let v = format!("{}:{}:{}", R::RESOURCE_TYPE, self.name, X::RESOURCE_TYPE);
        self.search.push("_include".into(), v)
    }
}

/// Parameter kinds that `_sort` accepts.
pub trait Sortable {}
impl Sortable for StringKind {}
impl<C> Sortable for TokenKind<C> {}
impl Sortable for IdentifierKind {}
impl Sortable for DateKind {}
impl Sortable for NumberKind {}
impl Sortable for QuantityKind {}
impl Sortable for UriKind {}
impl<T> Sortable for ReferenceKind<T> {}

impl<R, K: Sortable> Param<Search<R, Top>, K> {
    /// Adds the parameter to `_sort`, ascending.
    pub fn sort_asc(self) -> Search<R, Top> {
        let name = self.name.to_owned();
        self.search.sort_key(name)
    }
    /// Adds the parameter to `_sort`, descending (`-name`).
    pub fn sort_desc(self) -> Search<R, Top> {
        let name = format!("-{}", self.name);
        self.search.sort_key(name)
    }
}

impl<R: FhirResource> Search<R, Top> {
    /// `_revinclude=Source:param`: also return the `S` resources whose reference parameter (picked with
    /// `SSearch::select()`) points at the matches. The parameter must have `R` among its targets.
    ///
    /// ```
    /// # #[cfg(all(feature = "r4-patient", feature = "r4-observation"))] {
    /// use fhir_models::r4::{ObservationSearch, PatientSearch};
    /// let q = PatientSearch::new()._revinclude(ObservationSearch::select().subject());
    /// assert_eq!(q.pairs()[0], ("_revinclude".to_owned(), "Observation:subject".to_owned()));
    /// # }
    /// ```
    pub fn _revinclude<S: FhirResource, T>(self, param: Param<Search<S, Select>, ReferenceKind<T>>) -> Self
    where
        R: Target<T>,
    {
        let v = format!("{}:{}", S::RESOURCE_TYPE, param.name);
        self.push("_revinclude".into(), v)
    }
    /// `_revinclude:iterate`: like [`_revinclude`](Self::_revinclude), also for the resources included so far
    /// (DSTU2 writes `_revinclude:recurse`).
    pub fn _revinclude_iterate<S: FhirResource, T>(self, param: Param<Search<S, Select>, ReferenceKind<T>>) -> Self {
        let v = format!("{}:{}", S::RESOURCE_TYPE, param.name);
        self.push(format!("_revinclude:{}", super::iterate_modifier::<R>()), v)
    }
    /// `_include:iterate=Source:param`: follow a reference parameter of any resource type among the results so far
    /// (`Patient:general-practitioner` on an Observation search that includes the subject; DSTU2 writes
    /// `_include:recurse`).
    pub fn _include_iterate<S: FhirResource, T>(self, param: Param<Search<S, Select>, ReferenceKind<T>>) -> Self {
        let v = format!("{}:{}", S::RESOURCE_TYPE, param.name);
        self.push(format!("_include:{}", super::iterate_modifier::<R>()), v)
    }
}

/// The value of one component of a composite parameter of kind `K`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a value for a `{K}` component",
    note = "token components take a Token or the bound code enum; quantity/date/number components take a value or `(Prefix, value)`"
)]
pub trait ComponentArg<K> {
    /// The rendered component (escaped).
    fn render_component(&self) -> String;
}

impl<C, T: TokenArg<C>> ComponentArg<TokenKind<C>> for T {
    fn render_component(&self) -> String {
        self.render_token()
    }
}
impl<T: IdentifierArg> ComponentArg<IdentifierKind> for T {
    fn render_component(&self) -> String {
        self.render_token()
    }
}
impl ComponentArg<StringKind> for &str {
    fn render_component(&self) -> String {
        escape(self)
    }
}
impl ComponentArg<UriKind> for &str {
    fn render_component(&self) -> String {
        escape(self)
    }
}
impl<Q: QuantityArg> ComponentArg<QuantityKind> for (Prefix, Q) {
    fn render_component(&self) -> String {
        self.0.render(&self.1.render_quantity())
    }
}
impl ComponentArg<QuantityKind> for QuantityValue {
    fn render_component(&self) -> String {
        self.render()
    }
}
impl<D: DateArg> ComponentArg<DateKind> for (Prefix, D) {
    fn render_component(&self) -> String {
        self.0.render(&self.1.render_date())
    }
}
impl<N: NumberArg> ComponentArg<NumberKind> for (Prefix, N) {
    fn render_component(&self) -> String {
        self.0.render(&self.1.render_number())
    }
}
impl<X: FhirResource + Target<T>, T> ComponentArg<ReferenceKind<T>> for Reference<X> {
    fn render_component(&self) -> String {
        self.render()
    }
}

impl<R, M: Filter, A, B> Param<Search<R, M>, CompositeKind<(A, B)>> {
    /// Both components match, on the same element (`code$value`).
    pub fn is(self, a: impl ComponentArg<A>, b: impl ComponentArg<B>) -> Search<R, M> {
        let v = format!("{}${}", a.render_component(), b.render_component());
        self.with(None, v)
    }
}

impl<R, M: Filter, A, B, C> Param<Search<R, M>, CompositeKind<(A, B, C)>> {
    /// All three components match, on the same element (`a$b$c`).
    pub fn is(self, a: impl ComponentArg<A>, b: impl ComponentArg<B>, c: impl ComponentArg<C>) -> Search<R, M> {
        let v = format!("{}${}${}", a.render_component(), b.render_component(), c.render_component());
        self.with(None, v)
    }
}
