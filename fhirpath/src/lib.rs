//! FHIRPath for FHIR JSON: parse an expression once, evaluate it over any number of `serde_json::Value`s.
//!
//! ```
//! use fhir_path::{Env, Expression, Value};
//! use serde_json::json;
//!
//! let patient = json!({"resourceType": "Patient", "name": [{"given": ["Ann", "Jo"]}], "birthDate": "1970-03"});
//! let given = Expression::parse("Patient.name.given.first()")?;
//! let env = Env::new();
//! let out = given.evaluate(&patient, &env)?;
//! assert_eq!(out[0].to_string(), "Ann");
//!
//! // invariants: one boolean (None when the expression yields nothing)
//! let born = Expression::parse("birthDate < @2000-01-01")?;
//! assert_eq!(born.evaluate_boolean(&patient, &env)?, Some(true));
//! // typed results: the birth date is a Date with month precision
//! let out = Expression::parse("birthDate")?.evaluate(&patient, &env)?;
//! assert!(matches!(out[0].to_system(), Value::Date(d) if d.precision == fhir_path::Precision::Month));
//! # Ok::<(), fhir_path::Error>(())
//! ```
//!
//! # Variables and extra functions
//!
//! [`Env`] supplies `%resource`, `%rootResource` and `%context` (all default to the evaluated value), the fixed
//! `%ucum`, `%sct`, `%loinc`, `%vs-*`, `%ext-*`, user variables (`%name`, SQL on FHIR's constants) and a
//! [`Functions`] hook for functions the library does not define (SQL on FHIR's `getResourceKey()`).
//!
//! # Why our own engine
//!
//! Issue 9 suggests `rh-fhirpath` 0.3. It was measured on the same official R4 suite with the same pass rule (a
//! scratch runner outside the workspace, 2026-12-01): 887 of 935 pass, against 906 for this engine. It is a good
//! crate, and it even ships `getResourceKey()`; it was not chosen because:
//! - `EvaluationContext::new` takes the resource by value: a deep clone of every resource for every evaluation,
//!   which a view over millions of resources (SQL on FHIR) or every invariant of every element (validation) pays
//!   again and again. Here results borrow the input ([`Value::Node`] points into it).
//! - Its function registry is private to the evaluator: callers cannot add functions (SQL on FHIR's next
//!   functions, the validator's `memberOf()` / `conformsTo()` backed by loaded packages). Here [`Functions`] is the
//!   hook.
//! - It depends on `rh-hl7-fhir-r4-core`, a 13 MB serde-generated R4 model crate (minutes of release compile on
//!   this 2-core machine; the compile-time cost this workspace's own models avoid) and is R4-only, while the
//!   workspace also reads DSTU2.
//!
//! This engine has no dependency on the generated models (only `serde_json`, `regex`, `thiserror`), takes its
//! type information from a table derived from the R4 StructureDefinitions ([`types`]), keeps decimals exact, and
//! its pass rate is pinned in `tests/fhirpath_r4_suite.rs` with every failure category listed.
//!
//! # Limits
//!
//! - `serde_json` without `arbitrary_precision` (this workspace does not force it) reads `1.50` as the float
//!   1.5, so the trailing zero of a JSON decimal is gone before the engine sees it; decimal literals and
//!   arithmetic in expressions are exact.
//! - `memberOf()`, `conformsTo()`, `subsumes()` need a terminology or profile service: they return an error.
//! - UCUM conversion covers common mass, length, volume and time units.

mod eval;
mod functions;
mod parser;
pub mod types;
mod value;

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value as Json;

pub use functions::Args;
pub use value::{Collection, Decimal, Node, Precision, Quantity, Temporal, Value};

/// A parse or evaluation failure, naming the expression.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The expression is not valid FHIRPath.
    #[error("FHIRPath syntax error in `{expression}` at {position}: {message}")]
    Parse {
        expression: String,
        position: usize,
        message: String,
    },
    /// Evaluation failed (a function on a collection of several items, an unknown function, a type error ...).
    #[error("FHIRPath evaluation of `{expression}` failed: {message}")]
    Evaluation { expression: String, message: String },
}

impl Error {
    fn with_expression(self, text: &str) -> Error {
        match self {
            Error::Evaluation {
                expression,
                message,
            } if expression.is_empty() => Error::Evaluation {
                expression: text.to_string(),
                message,
            },
            e => e,
        }
    }

    /// An evaluation error with a message, for [`Functions`] hooks.
    pub fn evaluation(message: impl Into<String>) -> Error {
        Error::Evaluation {
            expression: String::new(),
            message: message.into(),
        }
    }
}

/// A parsed FHIRPath expression: parse once, evaluate many times, from any thread.
#[derive(Debug, Clone, PartialEq)]
pub struct Expression {
    text: String,
    ast: parser::Expr,
}

impl Expression {
    /// Parses an expression.
    ///
    /// ```
    /// assert!(fhir_path::Expression::parse("name.where(use = 'official').given").is_ok());
    /// assert!(fhir_path::Expression::parse("name.(").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Expression, Error> {
        Ok(Expression {
            text: text.to_string(),
            ast: parser::Parser::parse(text)?,
        })
    }

    /// The expression's text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Evaluates the expression with `input` as its focus (`$this`, and `%context`, `%resource` unless the
    /// environment says otherwise).
    pub fn evaluate<'a>(&self, input: &'a Json, env: &Env<'a>) -> Result<Collection<'a>, Error> {
        let cx = eval::Ctx {
            env,
            root: input,
            this: None,
            index: None,
            total: None,
        };
        let focus = [Value::Node(Node::new(input))];
        eval::eval(&self.ast, &focus, &cx).map_err(|e| e.with_expression(&self.text))
    }

    /// Evaluates the expression over an already-evaluated collection (a node of a resource, a `forEach` item);
    /// `root` is what `%resource`/`%context` default to.
    ///
    /// ```
    /// use fhir_path::{Env, Expression, Node, Value};
    /// let patient = serde_json::json!({"resourceType": "Patient", "name": [{"family": "Doe"}]});
    /// let name = Value::Node(Node::of_type(&patient["name"][0], "HumanName"));
    /// let inv = Expression::parse("family.exists() or given.exists()")?;
    /// let out = inv.evaluate_on(&[name], &patient, &Env::new().with_resource(&patient))?;
    /// assert_eq!(out, vec![Value::Boolean(true)]);
    /// # Ok::<(), fhir_path::Error>(())
    /// ```
    pub fn evaluate_on<'a>(
        &self,
        focus: &[Value<'a>],
        root: &'a Json,
        env: &Env<'a>,
    ) -> Result<Collection<'a>, Error> {
        let cx = eval::Ctx {
            env,
            root,
            this: None,
            index: None,
            total: None,
        };
        eval::eval(&self.ast, focus, &cx).map_err(|e| e.with_expression(&self.text))
    }

    /// Evaluates to one boolean, as FHIR invariants are: `Some(b)` for a single boolean (a single item of another
    /// type counts as `true`, FHIRPath's singleton evaluation), `None` for an empty result, an error for several
    /// items.
    ///
    /// ```
    /// use fhir_path::{Env, Expression};
    /// let p = serde_json::json!({"resourceType": "Patient", "name": [{}]});
    /// let us_core_8 = Expression::parse("name.all(family.exists() or given.exists())")?;
    /// assert_eq!(us_core_8.evaluate_boolean(&p, &Env::new())?, Some(false));
    /// # Ok::<(), fhir_path::Error>(())
    /// ```
    pub fn evaluate_boolean<'a>(
        &self,
        input: &'a Json,
        env: &Env<'a>,
    ) -> Result<Option<bool>, Error> {
        let out = self.evaluate(input, env)?;
        eval::to_bool(&out, "a boolean result").map_err(|e| e.with_expression(&self.text))
    }
}

/// Functions a caller adds to the language (SQL on FHIR's `getResourceKey()`), consulted for names the library
/// does not define.
///
/// ```
/// use fhir_path::{Args, Collection, Env, Error, Expression, Functions, Value};
/// use std::sync::Arc;
///
/// struct Twice;
/// impl Functions for Twice {
///     fn call<'a>(&self, name: &str, focus: &[Value<'a>], _args: &Args<'_, 'a>) -> Option<Result<Collection<'a>, Error>> {
///         (name == "twice").then(|| Ok(focus.iter().chain(focus).cloned().collect()))
///     }
/// }
/// let env = Env::new().with_functions(Arc::new(Twice));
/// let input = serde_json::json!({});
/// let out = Expression::parse("(1 | 2).twice().count()")?.evaluate(&input, &env)?;
/// assert_eq!(out, vec![Value::Integer(4)]);
/// # Ok::<(), Error>(())
/// ```
pub trait Functions: Send + Sync {
    /// Calls function `name` on `focus`; `None` when this hook does not define `name`.
    fn call<'a>(
        &self,
        name: &str,
        focus: &[Value<'a>],
        args: &Args<'_, 'a>,
    ) -> Option<Result<Collection<'a>, Error>>;
}

/// The environment of an evaluation: `%resource`, `%rootResource`, `%context`, user variables and extra functions.
#[derive(Clone, Default)]
pub struct Env<'a> {
    resource: Option<&'a Json>,
    root_resource: Option<&'a Json>,
    context: Option<&'a Json>,
    vars: HashMap<String, Collection<'a>>,
    functions: Option<Arc<dyn Functions>>,
}

impl std::fmt::Debug for Env<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl<'a> Env<'a> {
    /// An environment where `%resource`, `%rootResource` and `%context` are the evaluated value.
    pub fn new() -> Env<'a> {
        Env::default()
    }

    /// Sets `%resource` (the resource containing the evaluated element).
    pub fn with_resource(mut self, resource: &'a Json) -> Self {
        self.resource = Some(resource);
        self
    }

    /// Sets `%rootResource` (the container of a contained resource; defaults to `%resource`).
    pub fn with_root_resource(mut self, root: &'a Json) -> Self {
        self.root_resource = Some(root);
        self
    }

    /// Sets `%context` (the element an invariant is evaluated on).
    pub fn with_context(mut self, context: &'a Json) -> Self {
        self.context = Some(context);
        self
    }

    /// Sets a user variable, read as `%name`.
    pub fn with_variable(mut self, name: impl Into<String>, value: Collection<'a>) -> Self {
        self.set_variable(name, value);
        self
    }

    /// Sets a user variable in place.
    pub fn set_variable(&mut self, name: impl Into<String>, value: Collection<'a>) {
        self.vars.insert(name.into(), value);
    }

    /// Adds functions the library does not define.
    pub fn with_functions(mut self, functions: Arc<dyn Functions>) -> Self {
        self.functions = Some(functions);
        self
    }

    fn variable(&self, name: &str, input: &'a Json) -> Result<Collection<'a>, Error> {
        if let Some(v) = self.vars.get(name) {
            return Ok(v.clone());
        }
        let node = |j: &'a Json| vec![Value::Node(Node::new(j))];
        let s = |s: &str| vec![Value::String(s.to_string())];
        Ok(match name {
            "resource" => node(self.resource.unwrap_or(input)),
            "rootResource" => node(self.root_resource.or(self.resource).unwrap_or(input)),
            "context" => node(self.context.unwrap_or(input)),
            "ucum" => s("http://unitsofmeasure.org"),
            "sct" => s("http://snomed.info/sct"),
            "loinc" => s("http://loinc.org"),
            _ => {
                if let Some(vs) = name.strip_prefix("vs-") {
                    s(&format!("http://hl7.org/fhir/ValueSet/{vs}"))
                } else if let Some(ext) = name.strip_prefix("ext-") {
                    s(&format!("http://hl7.org/fhir/StructureDefinition/{ext}"))
                } else {
                    return Err(Error::evaluation(format!("unknown variable %{name}")));
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval_str(expr: &str, input: &Json) -> Vec<String> {
        let e = Expression::parse(expr).unwrap_or_else(|e| panic!("{e}"));
        e.evaluate(input, &Env::new())
            .unwrap_or_else(|e| panic!("{e}"))
            .iter()
            .map(|v| v.to_string())
            .collect()
    }

    #[test]
    fn expression_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Expression>();
        check::<Env<'static>>();
    }

    #[test]
    fn primitive_extensions_are_reached_through_the_underscore_sibling() {
        let p = json!({"resourceType": "Patient", "birthDate": "1970-01-01",
            "_birthDate": {"extension": [{"url": "http://x/time", "valueDateTime": "1970-01-01T10:00:00Z"}]},
            "name": [{"given": ["A", null], "_given": [null, {"extension": [{"url": "u", "valueString": "only ext"}]}]}]});
        assert_eq!(
            eval_str("birthDate.extension('http://x/time').value", &p),
            ["1970-01-01T10:00:00Z"]
        );
        // a primitive with only an extension is an element without a value
        assert_eq!(eval_str("name.given.count()", &p), ["2"]);
        assert_eq!(eval_str("name.given.where(hasValue()).count()", &p), ["1"]);
        assert_eq!(
            eval_str("name.given[1].extension('u').value", &p),
            ["only ext"]
        );
    }

    #[test]
    fn choice_elements_and_types() {
        let o = json!({"resourceType": "Observation", "valueQuantity": {"value": 185, "unit": "lbs"},
            "effectiveDateTime": "2020-01-01"});
        assert_eq!(eval_str("value.ofType(Quantity).unit", &o), ["lbs"]);
        assert_eq!(eval_str("value is Quantity", &o), ["true"]);
        assert_eq!(eval_str("effective.ofType(dateTime) < @2021", &o), ["true"]);
        assert_eq!(eval_str("value.type().name", &o), ["Quantity"]);
        assert_eq!(eval_str("Observation.value.unit", &o), ["lbs"]);
        assert!(eval_str("Patient.value", &o).is_empty());
    }

    #[test]
    fn decimals_are_exact() {
        let j = json!({});
        assert_eq!(eval_str("0.1 + 0.2 = 0.3", &j), ["true"]);
        assert_eq!(eval_str("1.50.toString()", &j), ["1.50"]);
        assert_eq!(eval_str("1.50 * 2", &j), ["3.00"]);
        assert_eq!(eval_str("10 / 4", &j), ["2.5"]);
        assert_eq!(eval_str("7 div 2 + 7 mod 2", &j), ["4"]);
    }

    #[test]
    fn boolean_results_and_errors_name_the_expression() {
        let p = json!({"resourceType": "Patient", "name": [{"given": ["A", "B"]}]});
        let env = Env::new();
        assert_eq!(
            Expression::parse("name.exists()")
                .unwrap()
                .evaluate_boolean(&p, &env),
            Ok(Some(true))
        );
        assert_eq!(
            Expression::parse("birthDate")
                .unwrap()
                .evaluate_boolean(&p, &env),
            Ok(None)
        );
        let several = Expression::parse("name.given")
            .unwrap()
            .evaluate_boolean(&p, &env);
        assert!(
            matches!(several, Err(Error::Evaluation { ref expression, .. }) if expression == "name.given")
        );
        let err = Expression::parse("name.given.substring(1)")
            .unwrap()
            .evaluate(&p, &env)
            .unwrap_err();
        assert!(err.to_string().contains("name.given.substring(1)"), "{err}");
        match Expression::parse("name.where(given = 'A'") {
            Err(Error::Parse { position, .. }) => assert_eq!(position, 22),
            other => panic!("{other:?}"),
        }
        assert!(Expression::parse("name.nosuch()")
            .unwrap()
            .evaluate(&p, &env)
            .is_err());
    }

    #[test]
    fn environment_variables() {
        let bundle = json!({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient", "id": "p"}}]});
        let patient = &bundle["entry"][0]["resource"];
        let env = Env::new()
            .with_resource(patient)
            .with_root_resource(&bundle)
            .with_variable("wanted", vec![Value::String("p".into())]);
        let e =
            Expression::parse("%resource.id = %wanted and %rootResource.resourceType = 'Bundle'")
                .unwrap();
        assert_eq!(e.evaluate_boolean(patient, &env), Ok(Some(true)));
        assert_eq!(eval_str("%ucum", &bundle), ["http://unitsofmeasure.org"]);
        assert!(Expression::parse("%nope")
            .unwrap()
            .evaluate(&bundle, &Env::new())
            .is_err());
    }

    #[test]
    fn references_resolve_to_contained_resources() {
        let p = json!({"resourceType": "Patient", "contained": [{"resourceType": "Organization", "id": "o1", "name": "Acme"}],
            "managingOrganization": {"reference": "#o1"}});
        assert_eq!(
            eval_str("managingOrganization.resolve().name", &p),
            ["Acme"]
        );
        assert_eq!(
            eval_str("managingOrganization.resolve() is Organization", &p),
            ["true"]
        );
    }

    #[test]
    fn dates_keep_their_precision() {
        let p = json!({"resourceType": "Patient", "birthDate": "1974-12"});
        assert_eq!(eval_str("birthDate", &p), ["1974-12"]);
        // comparing with a more precise date whose month matches is unknown (empty)
        assert!(eval_str("birthDate = @1974-12-25", &p).is_empty());
        assert_eq!(eval_str("birthDate < @1975-01-01", &p), ["true"]);
        assert_eq!(eval_str("@2019-01-31 + 1 month", &p), ["2019-02-28"]);
    }
}
