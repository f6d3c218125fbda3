//! ViewDefinitions: reading and checking one, and evaluating it over a resource.

use std::sync::Arc;

use fhir_path::{Args, Collection, Env, Expression, Functions, Value};
use serde_json::Value as Json;

use crate::Error;

/// A column of a view's output, in output order.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    /// The FHIR type the view declares (`id`, `boolean`, `decimal`, ...), if any.
    pub fhir_type: Option<String>,
    /// `collection: true`: the column holds an array of all values.
    pub collection: bool,
}

#[derive(Debug)]
enum Iteration {
    Once,
    ForEach(Expression),
    ForEachOrNull(Expression),
    Repeat(Vec<Expression>),
}

#[derive(Debug)]
struct Select {
    iteration: Iteration,
    /// (index in the view's columns, path)
    columns: Vec<(usize, Expression)>,
    selects: Vec<Select>,
    union_all: Vec<Select>,
}

/// A checked, compiled ViewDefinition: run it with [`View::rows`].
///
/// ```
/// use serde_json::json;
/// let view = fhir_sql::View::from_json(&json!({
///     "resourceType": "ViewDefinition", "name": "patient_names", "resource": "Patient",
///     "select": [{"column": [{"name": "id", "path": "getResourceKey()"}]},
///                {"forEach": "name", "column": [{"name": "family", "path": "family"}]}]
/// }))?;
/// let patient = json!({"resourceType": "Patient", "id": "p1", "name": [{"family": "Doe"}, {"family": "Roe"}]});
/// let rows = view.rows(&patient)?;
/// assert_eq!(rows, vec![vec![json!("p1"), json!("Doe")], vec![json!("p1"), json!("Roe")]]);
/// # Ok::<(), fhir_sql::Error>(())
/// ```
#[derive(Debug)]
pub struct View {
    name: String,
    resource: String,
    columns: Vec<Column>,
    root: Select,
    filters: Vec<Expression>,
    env: Env<'static>,
}

/// One output row: the values of the view's columns, in order (`null` when a path yields nothing).
pub type Row = Vec<Json>;

/// A value with the FHIR type the engine knew for it, for type inference of undeclared columns.
pub(crate) struct Typed {
    pub json: Json,
    pub fhir_type: Option<&'static str>,
}

impl View {
    /// Reads a ViewDefinition (JSON) and checks it: a resource type, valid FHIRPath everywhere, unique column
    /// names, `unionAll` branches with the same columns in the same order, defined constants.
    pub fn from_json(def: &Json) -> Result<View, Error> {
        let name = def
            .get("name")
            .and_then(Json::as_str)
            .unwrap_or("view")
            .to_string();
        let invalid = |m: String| Error::InvalidView {
            view: name.clone(),
            message: m,
        };
        let obj = def
            .as_object()
            .ok_or_else(|| invalid("a ViewDefinition is a JSON object".into()))?;
        let resource = obj
            .get("resource")
            .and_then(Json::as_str)
            .ok_or_else(|| {
                invalid("`resource` (the resource type the view reads) is missing".into())
            })?
            .to_string();
        let mut env = Env::new().with_functions(Arc::new(SqlOnFhirFunctions));
        for c in obj
            .get("constant")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            let cname = c
                .get("name")
                .and_then(Json::as_str)
                .ok_or_else(|| invalid("a constant has no name".into()))?;
            let value = constant_value(c)
                .ok_or_else(|| invalid(format!("constant `{cname}` has no value[x]")))?;
            env.set_variable(cname, vec![value]);
        }
        let mut columns = Vec::new();
        let selects = obj
            .get("select")
            .and_then(Json::as_array)
            .ok_or_else(|| invalid("`select` is missing".into()))?;
        let mut cx = Compile {
            view: &name,
            columns: &mut columns,
        };
        let root = Select {
            iteration: Iteration::Once,
            columns: vec![],
            selects: selects
                .iter()
                .map(|s| cx.select(s))
                .collect::<Result<_, _>>()?,
            union_all: vec![],
        };
        let mut filters = Vec::new();
        for w in obj
            .get("where")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            let p = w
                .get("path")
                .and_then(Json::as_str)
                .ok_or_else(|| invalid("a `where` has no path".into()))?;
            filters.push(parse(&name, p)?);
        }
        let mut seen = std::collections::HashSet::new();
        for c in &columns {
            if !seen.insert(c.name.as_str()) {
                return Err(invalid(format!("column name `{}` is used twice", c.name)));
            }
        }
        let view = View {
            name,
            resource,
            columns,
            root,
            filters,
            env,
        };
        view.check_variables(def)?;
        Ok(view)
    }

    /// The view's name (`name`, or `view` when it has none).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The resource type the view reads.
    pub fn resource_type(&self) -> &str {
        &self.resource
    }

    /// The output columns, in order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The rows of one resource (none when it is of another type or a `where` excludes it).
    pub fn rows(&self, resource: &Json) -> Result<Vec<Row>, Error> {
        Ok(self
            .typed_rows(resource)?
            .into_iter()
            .map(|r| r.into_iter().map(|t| t.json).collect())
            .collect())
    }

    pub(crate) fn typed_rows(&self, resource: &Json) -> Result<Vec<Vec<Typed>>, Error> {
        if resource.get("resourceType").and_then(Json::as_str) != Some(self.resource.as_str()) {
            return Ok(vec![]);
        }
        for f in &self.filters {
            let out = f
                .evaluate(resource, &self.env)
                .map_err(|e| self.fhirpath_error(resource, e))?;
            match out.as_slice() {
                [] => return Ok(vec![]),
                [v] => match v.to_system() {
                    Value::Boolean(true) => {}
                    Value::Boolean(false) => return Ok(vec![]),
                    other => {
                        return Err(self.eval_error(
                            resource,
                            format!("where `{}` gave {other}, not a boolean", f.text()),
                        ))
                    }
                },
                _ => {
                    return Err(self.eval_error(
                        resource,
                        format!(
                            "where `{}` gave {} items, not a boolean",
                            f.text(),
                            out.len()
                        ),
                    ))
                }
            }
        }
        let focus = Value::Node(fhir_path::Node::new(resource));
        self.select_rows(&self.root, &focus, resource)
    }

    fn select_rows(
        &self,
        sel: &Select,
        focus: &Value<'_>,
        resource: &Json,
    ) -> Result<Vec<Vec<Typed>>, Error> {
        let foci: Collection<'_> = match &sel.iteration {
            Iteration::Once => vec![focus.clone()],
            Iteration::ForEach(e) | Iteration::ForEachOrNull(e) => {
                self.eval_on(e, focus, resource)?
            }
            Iteration::Repeat(paths) => {
                let mut out = Vec::new();
                self.repeat(paths, focus, resource, &mut out, 0)?;
                out
            }
        };
        if foci.is_empty() {
            return Ok(if matches!(sel.iteration, Iteration::ForEachOrNull(_)) {
                vec![self.null_row()]
            } else {
                vec![]
            });
        }
        let mut rows = Vec::new();
        for f in &foci {
            let mut partial = vec![self.null_row()];
            for (idx, path) in &sel.columns {
                let out = self.eval_on(path, f, resource)?;
                let value = self.column_value(*idx, path, out, resource)?;
                partial[0][*idx] = value;
            }
            for s in &sel.selects {
                let sub = self.select_rows(s, f, resource)?;
                partial = cross(partial, sub);
            }
            if !sel.union_all.is_empty() {
                let mut u = Vec::new();
                for b in &sel.union_all {
                    u.extend(self.select_rows(b, f, resource)?);
                }
                partial = cross(partial, u);
            }
            rows.extend(partial);
        }
        Ok(rows)
    }

    fn repeat<'a>(
        &self,
        paths: &[Expression],
        focus: &Value<'a>,
        resource: &'a Json,
        out: &mut Collection<'a>,
        depth: usize,
    ) -> Result<(), Error> {
        if depth > 64 {
            return Err(self.eval_error(resource, "repeat nests deeper than 64 levels".into()));
        }
        for p in paths {
            for child in self.eval_on(p, focus, resource)? {
                out.push(child.clone());
                self.repeat(paths, &child, resource, out, depth + 1)?;
            }
        }
        Ok(())
    }

    fn eval_on<'a>(
        &self,
        e: &Expression,
        focus: &Value<'a>,
        resource: &'a Json,
    ) -> Result<Collection<'a>, Error> {
        e.evaluate_on(std::slice::from_ref(focus), resource, &self.env)
            .map_err(|err| self.fhirpath_error(resource, err))
    }

    fn null_row(&self) -> Vec<Typed> {
        (0..self.columns.len())
            .map(|_| Typed {
                json: Json::Null,
                fhir_type: None,
            })
            .collect()
    }

    fn column_value(
        &self,
        idx: usize,
        path: &Expression,
        out: Collection<'_>,
        resource: &Json,
    ) -> Result<Typed, Error> {
        let col = &self.columns[idx];
        let fhir_type = out.first().and_then(value_type);
        if col.collection {
            return Ok(Typed {
                json: Json::Array(out.iter().map(to_json).collect()),
                fhir_type,
            });
        }
        match out.as_slice() {
            [] => Ok(Typed {
                json: Json::Null,
                fhir_type: None,
            }),
            [v] => Ok(Typed {
                json: to_json(v),
                fhir_type,
            }),
            _ => Err(self.eval_error(
                resource,
                format!(
                    "column `{}`: `{}` gave {} values; declare `collection: true` to keep them all",
                    col.name,
                    path.text(),
                    out.len()
                ),
            )),
        }
    }

    fn fhirpath_error(&self, resource: &Json, source: fhir_path::Error) -> Error {
        Error::Path {
            view: self.name.clone(),
            resource: resource_label(resource),
            source,
        }
    }

    fn eval_error(&self, resource: &Json, message: String) -> Error {
        Error::Evaluation {
            view: self.name.clone(),
            resource: resource_label(resource),
            message,
        }
    }

    /// Refuses `%name`s that are neither constants nor FHIRPath's own variables, before any resource is read.
    fn check_variables(&self, def: &Json) -> Result<(), Error> {
        let probe = serde_json::json!({});
        let mut paths = Vec::new();
        collect_paths(def, &mut paths);
        for p in paths {
            for var in variables_in(p) {
                let e = Expression::parse(&format!("%{var}")).map_err(|e| Error::InvalidView {
                    view: self.name.clone(),
                    message: e.to_string(),
                })?;
                if e.evaluate(&probe, &self.env).is_err() {
                    return Err(Error::InvalidView {
                        view: self.name.clone(),
                        message: format!("`{p}` uses %{var}, which is not a constant of the view"),
                    });
                }
            }
        }
        Ok(())
    }
}

fn collect_paths<'j>(j: &'j Json, out: &mut Vec<&'j str>) {
    match j {
        Json::Object(o) => {
            for (k, v) in o {
                match (k.as_str(), v) {
                    ("path" | "forEach" | "forEachOrNull", Json::String(s)) => out.push(s),
                    ("repeat", Json::Array(a)) => out.extend(a.iter().filter_map(Json::as_str)),
                    (_, v) => collect_paths(v, out),
                }
            }
        }
        Json::Array(a) => a.iter().for_each(|v| collect_paths(v, out)),
        _ => {}
    }
}

/// The `%name`s in a path (outside string literals).
fn variables_in(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_str = false;
    let mut chars = path.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if in_str => {
                chars.next();
            }
            '\'' => in_str = !in_str,
            '%' if !in_str => {
                let name: String = path[i + 1..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
                    .collect();
                if !name.is_empty() {
                    out.push(name);
                }
            }
            _ => {}
        }
    }
    out
}

fn resource_label(r: &Json) -> String {
    let t = r.get("resourceType").and_then(Json::as_str).unwrap_or("?");
    let id = r.get("id").and_then(Json::as_str).unwrap_or("(no id)");
    format!("{t}/{id}")
}

fn value_type(v: &Value<'_>) -> Option<&'static str> {
    match v {
        Value::Node(n) => n.type_name().or(match n.json {
            Json::Bool(_) => Some("boolean"),
            Json::Number(x) if x.is_i64() => Some("integer"),
            Json::Number(_) => Some("decimal"),
            Json::String(_) => Some("string"),
            _ => None,
        }),
        Value::Boolean(_) => Some("boolean"),
        Value::Integer(_) => Some("integer"),
        Value::Decimal(_) => Some("decimal"),
        Value::String(_) => Some("string"),
        Value::Date(_) => Some("date"),
        Value::DateTime(_) => Some("dateTime"),
        Value::Time(_) => Some("time"),
        Value::Quantity(_) => Some("Quantity"),
        _ => None,
    }
}

fn to_json(v: &Value<'_>) -> Json {
    match v {
        Value::Node(n) => n.json.clone(),
        other => other.to_json(),
    }
}

fn cross(left: Vec<Vec<Typed>>, right: Vec<Vec<Typed>>) -> Vec<Vec<Typed>> {
    let mut out = Vec::with_capacity(left.len() * right.len());
    for l in &left {
        for r in &right {
            out.push(
                l.iter()
                    .zip(r)
                    .map(|(a, b)| {
                        if a.json.is_null() {
                            Typed {
                                json: b.json.clone(),
                                fhir_type: b.fhir_type,
                            }
                        } else {
                            Typed {
                                json: a.json.clone(),
                                fhir_type: a.fhir_type,
                            }
                        }
                    })
                    .collect(),
            );
        }
    }
    out
}

fn parse(view: &str, path: &str) -> Result<Expression, Error> {
    Expression::parse(path).map_err(|e| Error::InvalidView {
        view: view.to_string(),
        message: e.to_string(),
    })
}

struct Compile<'c> {
    view: &'c str,
    columns: &'c mut Vec<Column>,
}

impl Compile<'_> {
    fn invalid(&self, m: impl Into<String>) -> Error {
        Error::InvalidView {
            view: self.view.to_string(),
            message: m.into(),
        }
    }

    fn path(&self, j: &Json, what: &str) -> Result<Expression, Error> {
        let p = j
            .as_str()
            .ok_or_else(|| self.invalid(format!("{what} must be a FHIRPath string, not {j}")))?;
        parse(self.view, p)
    }

    fn select(&mut self, s: &Json) -> Result<Select, Error> {
        let o = s
            .as_object()
            .ok_or_else(|| self.invalid("a select is a JSON object"))?;
        let iteration = match (o.get("forEach"), o.get("forEachOrNull"), o.get("repeat")) {
            (None, None, None) => Iteration::Once,
            (Some(e), None, None) => Iteration::ForEach(self.path(e, "forEach")?),
            (None, Some(e), None) => Iteration::ForEachOrNull(self.path(e, "forEachOrNull")?),
            (None, None, Some(Json::Array(ps))) => Iteration::Repeat(
                ps.iter()
                    .map(|p| self.path(p, "repeat"))
                    .collect::<Result<_, _>>()?,
            ),
            (None, None, Some(_)) => return Err(self.invalid("repeat must be an array of paths")),
            _ => {
                return Err(
                    self.invalid("a select has at most one of forEach, forEachOrNull and repeat")
                )
            }
        };
        let mut columns = Vec::new();
        for c in o
            .get("column")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            let name = c
                .get("name")
                .and_then(Json::as_str)
                .ok_or_else(|| self.invalid("a column has no name"))?;
            if name.is_empty()
                || !name
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
                || name.starts_with(|ch: char| ch.is_ascii_digit())
            {
                return Err(self.invalid(format!(
                    "column name `{name}` is not a database name ([A-Za-z_][A-Za-z0-9_]*)"
                )));
            }
            let path = self.path(
                c.get("path").unwrap_or(&Json::Null),
                &format!("column `{name}` path"),
            )?;
            let collection = match c.get("collection") {
                None | Some(Json::Null) => false,
                Some(Json::Bool(b)) => *b,
                Some(other) => {
                    return Err(self.invalid(format!(
                        "column `{name}`: collection must be a boolean, not {other}"
                    )))
                }
            };
            let fhir_type = c.get("type").and_then(Json::as_str).map(str::to_string);
            self.columns.push(Column {
                name: name.to_string(),
                fhir_type,
                collection,
            });
            columns.push((self.columns.len() - 1, path));
        }
        let mut selects = Vec::new();
        for sub in o
            .get("select")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            selects.push(self.select(sub)?);
        }
        let mut union_all = Vec::new();
        let mut first: Option<(usize, Vec<String>)> = None;
        for branch in o
            .get("unionAll")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            let start = self.columns.len();
            let b = self.select(branch)?;
            let names: Vec<String> = self.columns[start..]
                .iter()
                .map(|c| c.name.clone())
                .collect();
            match &first {
                None => {
                    first = Some((start, names));
                    union_all.push(b);
                }
                Some((first_start, first_names)) => {
                    if *first_names != names {
                        return Err(self.invalid(format!(
                            "unionAll branches must have the same columns in the same order: {first_names:?} vs {names:?}"
                        )));
                    }
                    // later branches write into the first branch's columns
                    self.columns.truncate(start);
                    union_all.push(remap(b, start, *first_start));
                }
            }
        }
        Ok(Select {
            iteration,
            columns,
            selects,
            union_all,
        })
    }
}

/// Moves a select's column indexes from `from..` to `to..`.
fn remap(mut s: Select, from: usize, to: usize) -> Select {
    for (i, _) in &mut s.columns {
        *i = *i - from + to;
    }
    s.selects = s.selects.into_iter().map(|x| remap(x, from, to)).collect();
    s.union_all = s
        .union_all
        .into_iter()
        .map(|x| remap(x, from, to))
        .collect();
    s
}

fn constant_value(c: &Json) -> Option<Value<'static>> {
    let o = c.as_object()?;
    let (key, v) = o.iter().find(|(k, _)| k.starts_with("value"))?;
    let ty = &key["value".len()..];
    Some(match (ty, v) {
        ("Boolean", Json::Bool(b)) => Value::Boolean(*b),
        ("Integer" | "PositiveInt" | "UnsignedInt" | "Integer64", Json::Number(n)) => {
            Value::Integer(n.as_i64()?)
        }
        ("Decimal", Json::Number(n)) => Value::Decimal(fhir_path::Decimal::parse(&n.to_string())?),
        ("Date", Json::String(s)) => Value::Date(fhir_path::Temporal::parse_date(s)?),
        ("DateTime" | "Instant", Json::String(s)) => {
            Value::DateTime(fhir_path::Temporal::parse_datetime(s)?)
        }
        ("Time", Json::String(s)) => Value::Time(fhir_path::Temporal::parse_time(s)?),
        (_, Json::String(s)) => Value::String(s.clone()),
        _ => return None,
    })
}

/// SQL on FHIR's functions: `getResourceKey()` (the resource's `id`) and `getReferenceKey([type])` (the id a
/// Reference points to, when it points to a resource of `type`).
struct SqlOnFhirFunctions;

impl Functions for SqlOnFhirFunctions {
    fn call<'a>(
        &self,
        name: &str,
        focus: &[Value<'a>],
        args: &Args<'_, 'a>,
    ) -> Option<Result<Collection<'a>, fhir_path::Error>> {
        match name {
            "getResourceKey" => Some(Ok(focus
                .iter()
                .filter_map(|v| {
                    v.as_node()?
                        .json
                        .get("id")?
                        .as_str()
                        .map(|s| Value::String(s.to_string()))
                })
                .collect())),
            "getReferenceKey" => {
                let want = args.type_name(0);
                Some(Ok(focus
                    .iter()
                    .filter_map(|v| {
                        let r = v.as_node()?.json.get("reference")?.as_str()?;
                        let r = r.split("/_history/").next().unwrap_or(r);
                        let mut parts = r.rsplit('/');
                        let id = parts.next()?;
                        let ty = parts.next()?;
                        if want.as_deref().is_some_and(|w| w != ty) {
                            return None;
                        }
                        Some(Value::String(id.to_string()))
                    })
                    .collect()))
            }
            _ => None,
        }
    }
}
