//! The FHIRPath function library (N1 plus the FHIR additions `extension`, `hasValue`, `getValue`, `resolve`).

use regex::Regex;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};
use serde_json::Value as Json;

use crate::eval::{
    check_type_name, compare, equals, err, eval, member, singleton, to_bool, value_as, value_is,
    Ctx,
};
use crate::parser::Expr;
use crate::value::{Collection, Decimal, Node, Precision, Quantity, Temporal, Value};
use crate::Error;

/// Arguments of a function from a [`crate::Functions`] hook, evaluated on demand.
pub struct Args<'e, 'a> {
    exprs: &'e [Expr],
    focus: &'e [Value<'a>],
    cx: &'e Ctx<'a, 'e>,
}

impl<'a> Args<'_, 'a> {
    /// Number of arguments.
    pub fn len(&self) -> usize {
        self.exprs.len()
    }

    /// Whether the call has no arguments.
    pub fn is_empty(&self) -> bool {
        self.exprs.is_empty()
    }

    /// Evaluates argument `i` against the call's context.
    pub fn eval(&self, i: usize) -> Result<Collection<'a>, Error> {
        let e = self
            .exprs
            .get(i)
            .ok_or_else(|| err(format!("missing argument {}", i + 1)))?;
        eval(e, self.focus, self.cx)
    }

    /// Argument `i` read as a type name (`getReferenceKey(Patient)`), if it is a plain identifier.
    pub fn type_name(&self, i: usize) -> Option<String> {
        type_arg(self.exprs.get(i)?)
    }
}

fn type_arg(e: &Expr) -> Option<String> {
    match e {
        Expr::Ident(s) => Some(s.clone()),
        Expr::Member(r, n) => type_arg(r).map(|p| format!("{p}.{n}")),
        Expr::Literal(Value::String(s)) => Some(s.clone()),
        _ => None,
    }
}

fn arity(name: &str, args: &[Expr], min: usize, max: usize) -> Result<(), Error> {
    if args.len() < min || args.len() > max {
        let want = if min == max {
            format!("{min}")
        } else {
            format!("{min} to {max}")
        };
        return Err(err(format!(
            "{name}() takes {want} argument(s), got {}",
            args.len()
        )));
    }
    Ok(())
}

fn b<'a>(v: bool) -> Collection<'a> {
    vec![Value::Boolean(v)]
}

/// Evaluates `arg` once per item of `base`, with `$this` and `$index` set.
fn per_item<'a>(
    base: &[Value<'a>],
    arg: &Expr,
    cx: &Ctx<'a, '_>,
    mut f: impl FnMut(&Value<'a>, Collection<'a>) -> Result<bool, Error>,
) -> Result<(), Error> {
    for (i, item) in base.iter().enumerate() {
        let scx = cx.with_this(item, i as i64);
        let r = eval(arg, std::slice::from_ref(item), &scx)?;
        if !f(item, r)? {
            break;
        }
    }
    Ok(())
}

fn string_arg(
    args: &[Expr],
    i: usize,
    focus: &[Value<'_>],
    cx: &Ctx<'_, '_>,
) -> Result<Option<String>, Error> {
    let v = eval(&args[i], focus, cx)?;
    Ok(singleton(&v, "a string argument")?.map(|v| v.to_string()))
}

fn int_arg(
    args: &[Expr],
    i: usize,
    focus: &[Value<'_>],
    cx: &Ctx<'_, '_>,
) -> Result<Option<i64>, Error> {
    let v = eval(&args[i], focus, cx)?;
    match singleton(&v, "an integer argument")?.map(|v| v.to_system()) {
        None => Ok(None),
        Some(Value::Integer(i)) => Ok(Some(i)),
        Some(o) => Err(err(format!("expected an integer argument, got {o}"))),
    }
}

fn distinct<'a>(c: Collection<'a>) -> Collection<'a> {
    let mut out: Collection<'a> = Vec::new();
    for v in c {
        if !out.iter().any(|o| equals(o, &v) == Some(true)) {
            out.push(v);
        }
    }
    out
}

fn contains_item(c: &[Value<'_>], v: &Value<'_>) -> bool {
    c.iter().any(|o| equals(o, v) == Some(true))
}

/// The single string the function applies to (`None` when empty).
fn input_string(base: &[Value<'_>], name: &str) -> Result<Option<String>, Error> {
    match singleton(base, name)? {
        None => Ok(None),
        Some(v) => match v.to_system() {
            Value::String(s) => Ok(Some(s)),
            Value::Node(n) if n.json.is_null() => Ok(None),
            other => Err(err(format!("{name}() applies to a string, not {other}"))),
        },
    }
}

fn input_number<'a>(base: &[Value<'a>], name: &str) -> Result<Option<Value<'a>>, Error> {
    match singleton(base, name)? {
        None => Ok(None),
        Some(v) => match v.to_system() {
            v @ (Value::Integer(_) | Value::Decimal(_) | Value::Quantity(_)) => Ok(Some(v)),
            other => Err(err(format!("{name}() applies to a number, not {other}"))),
        },
    }
}

fn to_dec(v: &Value<'_>) -> Decimal {
    match v {
        Value::Integer(i) => Decimal::from_i64(*i),
        Value::Decimal(d) => *d,
        Value::Quantity(q) => q.value,
        _ => Decimal::from_i64(0),
    }
}

fn f64_result<'a>(f: f64) -> Collection<'a> {
    Decimal::from_f64(f)
        .map(Value::Decimal)
        .into_iter()
        .collect()
}

pub(crate) fn call<'a>(
    name: &str,
    base: Collection<'a>,
    args: &[Expr],
    focus: &[Value<'a>],
    cx: &Ctx<'a, '_>,
) -> Result<Collection<'a>, Error> {
    let n = args.len();
    Ok(match name {
        // ---- existence
        "empty" => {
            arity(name, args, 0, 0)?;
            b(base.is_empty())
        }
        "exists" => {
            arity(name, args, 0, 1)?;
            if n == 0 {
                b(!base.is_empty())
            } else {
                let mut found = false;
                per_item(&base, &args[0], cx, |_, r| {
                    found = to_bool(&r, "exists()")? == Some(true);
                    Ok(!found)
                })?;
                b(found)
            }
        }
        "all" => {
            arity(name, args, 1, 1)?;
            let mut all = true;
            per_item(&base, &args[0], cx, |_, r| {
                all = to_bool(&r, "all()")? == Some(true);
                Ok(all)
            })?;
            b(all)
        }
        "allTrue" | "anyTrue" | "allFalse" | "anyFalse" => {
            arity(name, args, 0, 0)?;
            let mut bools = Vec::new();
            for v in &base {
                match v.to_system() {
                    Value::Boolean(x) => bools.push(x),
                    other => return Err(err(format!("{name}() needs booleans, found {other}"))),
                }
            }
            b(match name {
                "allTrue" => bools.iter().all(|x| *x),
                "anyTrue" => bools.iter().any(|x| *x),
                "allFalse" => bools.iter().all(|x| !*x),
                _ => bools.iter().any(|x| !*x),
            })
        }
        "subsetOf" | "supersetOf" => {
            arity(name, args, 1, 1)?;
            let other = eval(&args[0], focus, cx)?;
            let (small, big) = if name == "subsetOf" {
                (&base, &other)
            } else {
                (&other, &base)
            };
            b(small.iter().all(|v| contains_item(big, v)))
        }
        "count" => {
            arity(name, args, 0, 0)?;
            vec![Value::Integer(base.len() as i64)]
        }
        "distinct" => {
            arity(name, args, 0, 0)?;
            distinct(base)
        }
        "isDistinct" => {
            arity(name, args, 0, 0)?;
            let len = base.len();
            b(distinct(base).len() == len)
        }
        // ---- filtering and projection
        "where" => {
            arity(name, args, 1, 1)?;
            let mut out = Vec::new();
            per_item(&base, &args[0], cx, |item, r| {
                if to_bool(&r, "where()")? == Some(true) {
                    out.push(item.clone());
                }
                Ok(true)
            })?;
            out
        }
        "select" => {
            arity(name, args, 1, 1)?;
            let mut out = Vec::new();
            per_item(&base, &args[0], cx, |_, r| {
                out.extend(r);
                Ok(true)
            })?;
            out
        }
        "repeat" => {
            arity(name, args, 1, 1)?;
            let mut out: Collection<'a> = Vec::new();
            let mut frontier = base;
            while !frontier.is_empty() {
                let mut next = Vec::new();
                per_item(&frontier, &args[0], cx, |_, r| {
                    for v in r {
                        if !contains_item(&out, &v) {
                            out.push(v.clone());
                            next.push(v);
                        }
                    }
                    Ok(true)
                })?;
                frontier = next;
            }
            out
        }
        "ofType" => {
            arity(name, args, 1, 1)?;
            let ty = type_arg(&args[0]).ok_or_else(|| err("ofType() needs a type name"))?;
            check_type_name(&ty)?;
            base.into_iter().filter(|v| value_as(v, &ty)).collect()
        }
        "is" | "as" => {
            arity(name, args, 1, 1)?;
            let ty =
                type_arg(&args[0]).ok_or_else(|| err(format!("{name}() needs a type name")))?;
            if name == "as" {
                check_type_name(&ty)?;
            }
            // as() over several items filters them, as the HL7 validator does and R4 core invariants need
            // (dom-3: `%resource.descendants().as(canonical)`); the official suite wants an error there
            if name == "is" {
                match singleton(&base, "is()")? {
                    None => vec![],
                    Some(v) => b(value_is(v, &ty)),
                }
            } else {
                base.into_iter().filter(|v| value_as(v, &ty)).collect()
            }
        }
        // ---- subsetting
        "single" => {
            arity(name, args, 0, 0)?;
            if base.len() > 1 {
                return Err(err(format!("single() on a collection of {}", base.len())));
            }
            base
        }
        "first" => {
            arity(name, args, 0, 0)?;
            base.into_iter().take(1).collect()
        }
        "last" => {
            arity(name, args, 0, 0)?;
            base.into_iter().last().into_iter().collect()
        }
        "tail" => {
            arity(name, args, 0, 0)?;
            base.into_iter().skip(1).collect()
        }
        "skip" | "take" => {
            arity(name, args, 1, 1)?;
            let k = int_arg(args, 0, focus, cx)?.unwrap_or(0).max(0) as usize;
            if name == "skip" {
                base.into_iter().skip(k).collect()
            } else {
                base.into_iter().take(k).collect()
            }
        }
        "intersect" => {
            arity(name, args, 1, 1)?;
            let other = eval(&args[0], focus, cx)?;
            distinct(
                base.into_iter()
                    .filter(|v| contains_item(&other, v))
                    .collect(),
            )
        }
        "exclude" => {
            arity(name, args, 1, 1)?;
            let other = eval(&args[0], focus, cx)?;
            base.into_iter()
                .filter(|v| !contains_item(&other, v))
                .collect()
        }
        "union" => {
            arity(name, args, 1, 1)?;
            let other = eval(&args[0], focus, cx)?;
            distinct(base.into_iter().chain(other).collect())
        }
        "combine" => {
            arity(name, args, 1, 1)?;
            let other = eval(&args[0], focus, cx)?;
            base.into_iter().chain(other).collect()
        }
        // ---- utility
        "iif" => {
            arity(name, args, 2, 3)?;
            if base.len() > 1 {
                return Err(err("iif() on a collection of several items"));
            }
            let this = base.first().cloned();
            let scx;
            let (f, c): (&[Value<'a>], &Ctx<'a, '_>) = match &this {
                Some(t) => {
                    scx = Ctx {
                        env: cx.env,
                        root: cx.root,
                        this: Some(t),
                        index: cx.index,
                        total: cx.total,
                    };
                    (std::slice::from_ref(t), &scx)
                }
                None => (focus, cx),
            };
            let cond = eval(&args[0], f, c)?;
            let cond = match cond.as_slice() {
                [] => None,
                [v] => match v.to_system() {
                    Value::Boolean(x) => Some(x),
                    other => {
                        return Err(err(format!(
                            "iif() criterion must be a boolean, got {other}"
                        )))
                    }
                },
                _ => return Err(err("iif() criterion must be a single boolean")),
            };
            if cond == Some(true) {
                eval(&args[1], f, c)?
            } else if n == 3 {
                eval(&args[2], f, c)?
            } else {
                vec![]
            }
        }
        "not" => {
            arity(name, args, 0, 0)?;
            match to_bool(&base, "not()")? {
                None => vec![],
                Some(x) => b(!x),
            }
        }
        "trace" => {
            arity(name, args, 1, 2)?;
            base
        }
        "now" | "today" | "timeOfDay" => {
            arity(name, args, 0, 0)?;
            let t = now();
            match name {
                "now" => vec![Value::DateTime(t)],
                "today" => vec![Value::Date(Temporal {
                    precision: Precision::Day,
                    tz_minutes: None,
                    has_t: false,
                    ..t
                })],
                _ => vec![Value::Time(Temporal {
                    time_only: true,
                    tz_minutes: None,
                    ..t
                })],
            }
        }
        "aggregate" => {
            arity(name, args, 1, 2)?;
            let mut total = if n == 2 {
                eval(&args[1], focus, cx)?
            } else {
                vec![]
            };
            for (i, item) in base.iter().enumerate() {
                let t = total.clone();
                let scx = Ctx {
                    env: cx.env,
                    root: cx.root,
                    this: Some(item),
                    index: Some(i as i64),
                    total: Some(&t),
                };
                total = eval(&args[0], std::slice::from_ref(item), &scx)?;
            }
            total
        }
        "children" => {
            arity(name, args, 0, 0)?;
            let mut out = Vec::new();
            for v in &base {
                children(v, &mut out);
            }
            out
        }
        "descendants" => {
            arity(name, args, 0, 0)?;
            let mut out = Vec::new();
            let mut frontier = base;
            while !frontier.is_empty() {
                let mut next = Vec::new();
                for v in &frontier {
                    children(v, &mut next);
                }
                out.extend(next.iter().cloned());
                frontier = next;
            }
            out
        }
        "type" => {
            arity(name, args, 0, 0)?;
            base.iter().filter_map(type_info_value).collect()
        }
        // ---- conversion
        "toBoolean" | "convertsToBoolean" => conv(name, &base, |v| match v {
            Value::Boolean(x) => Some(Value::Boolean(x)),
            Value::Integer(1) => Some(Value::Boolean(true)),
            Value::Integer(0) => Some(Value::Boolean(false)),
            Value::Decimal(d) if d == Decimal::from_i64(1) => Some(Value::Boolean(true)),
            Value::Decimal(d) if d.is_zero() => Some(Value::Boolean(false)),
            Value::String(s) => match s.to_ascii_lowercase().as_str() {
                "true" | "t" | "yes" | "y" | "1" | "1.0" => Some(Value::Boolean(true)),
                "false" | "f" | "no" | "n" | "0" | "0.0" => Some(Value::Boolean(false)),
                _ => None,
            },
            _ => None,
        })?,
        "toInteger" | "convertsToInteger" => conv(name, &base, |v| match v {
            Value::Integer(i) => Some(Value::Integer(i)),
            Value::Boolean(x) => Some(Value::Integer(x as i64)),
            Value::String(s) => {
                let t = s.strip_prefix('+').unwrap_or(&s);
                if !t.is_empty()
                    && t.trim_start_matches('-')
                        .bytes()
                        .all(|c| c.is_ascii_digit())
                {
                    s.parse().ok().map(Value::Integer)
                } else {
                    None
                }
            }
            _ => None,
        })?,
        "toDecimal" | "convertsToDecimal" => conv(name, &base, |v| match v {
            Value::Integer(i) => Some(Value::Decimal(Decimal::from_i64(i))),
            Value::Decimal(d) => Some(Value::Decimal(d)),
            Value::Boolean(x) => Some(Value::Decimal(Decimal::from_i64(x as i64))),
            Value::String(s) if !s.contains(['e', 'E']) => Decimal::parse(&s).map(Value::Decimal),
            _ => None,
        })?,
        "toString" | "convertsToString" => conv(name, &base, |v| match v {
            Value::Node(_) => None,
            v => Some(Value::String(v.to_string())),
        })?,
        "toDate" | "convertsToDate" => conv(name, &base, |v| match v {
            Value::Date(t) => Some(Value::Date(t)),
            Value::DateTime(t) => Some(Value::Date(Temporal {
                precision: t.precision.min(Precision::Day),
                has_t: false,
                tz_minutes: None,
                ..t
            })),
            Value::String(s) => Temporal::parse_datetime(&s).map(|t| {
                Value::Date(Temporal {
                    precision: t.precision.min(Precision::Day),
                    has_t: false,
                    tz_minutes: None,
                    ..t
                })
            }),
            _ => None,
        })?,
        "toDateTime" | "convertsToDateTime" => conv(name, &base, |v| match v {
            Value::Date(t) | Value::DateTime(t) => Some(Value::DateTime(t)),
            Value::String(s) => Temporal::parse_datetime(&s).map(Value::DateTime),
            _ => None,
        })?,
        "toTime" | "convertsToTime" => conv(name, &base, |v| match v {
            Value::Time(t) => Some(Value::Time(t)),
            Value::String(s) => Temporal::parse_time(&s).map(Value::Time),
            _ => None,
        })?,
        "toQuantity" | "convertsToQuantity" => {
            arity(name, args, 0, 1)?;
            let unit = if n == 1 {
                string_arg(args, 0, focus, cx)?
            } else {
                None
            };
            let r = conv(name, &base, |v| match v {
                Value::Integer(_) | Value::Decimal(_) => Some(Value::Quantity(Quantity {
                    value: to_dec(&v),
                    unit: "1".into(),
                })),
                Value::Quantity(q) => Some(Value::Quantity(q)),
                Value::Boolean(x) => Some(Value::Quantity(Quantity {
                    value: Decimal::from_i64(x as i64),
                    unit: "1".into(),
                })),
                Value::String(s) => parse_quantity(&s).map(Value::Quantity),
                _ => None,
            })?;
            match (unit, r.as_slice()) {
                (Some(u), [Value::Quantity(q)]) if q.unit != u => {
                    let (v, cu) = q.canonical();
                    let (f, tu) = Quantity {
                        value: Decimal::from_i64(1),
                        unit: u.clone(),
                    }
                    .canonical();
                    if cu == tu {
                        v.div(&f)
                            .map(|value| Value::Quantity(Quantity { value, unit: u }))
                            .into_iter()
                            .collect()
                    } else {
                        vec![]
                    }
                }
                (Some(u), [Value::Boolean(_)]) => {
                    let q = conv("toQuantity", &base, |v| match v {
                        Value::String(s) => parse_quantity(&s).map(Value::Quantity),
                        Value::Quantity(q) => Some(Value::Quantity(q)),
                        _ => None,
                    })?;
                    match q.as_slice() {
                        [Value::Quantity(q)] => b(q.unit == u
                            || q.canonical().1
                                == Quantity {
                                    value: Decimal::from_i64(1),
                                    unit: u,
                                }
                                .canonical()
                                .1),
                        _ => r,
                    }
                }
                _ => r,
            }
        }
        // ---- strings
        "indexOf" => {
            arity(name, args, 1, 1)?;
            let (Some(s), Some(sub)) =
                (input_string(&base, name)?, string_arg(args, 0, focus, cx)?)
            else {
                return Ok(vec![]);
            };
            let idx = s
                .find(&sub)
                .map(|i| s[..i].chars().count() as i64)
                .unwrap_or(-1);
            vec![Value::Integer(idx)]
        }
        "substring" => {
            arity(name, args, 1, 2)?;
            let Some(s) = input_string(&base, name)? else {
                return Ok(vec![]);
            };
            let Some(start) = int_arg(args, 0, focus, cx)? else {
                return Ok(vec![]);
            };
            let chars: Vec<char> = s.chars().collect();
            if start < 0 || start as usize >= chars.len() {
                return Ok(vec![]);
            }
            let len = if n == 2 {
                int_arg(args, 1, focus, cx)?
            } else {
                None
            };
            let end = match len {
                Some(l) => (start + l.max(0)).min(chars.len() as i64) as usize,
                None => chars.len(),
            };
            vec![Value::String(chars[start as usize..end].iter().collect())]
        }
        "startsWith" | "endsWith" | "contains" => {
            arity(name, args, 1, 1)?;
            let (Some(s), Some(sub)) =
                (input_string(&base, name)?, string_arg(args, 0, focus, cx)?)
            else {
                return Ok(vec![]);
            };
            b(match name {
                "startsWith" => s.starts_with(&sub),
                "endsWith" => s.ends_with(&sub),
                _ => s.contains(&sub),
            })
        }
        "upper" | "lower" | "trim" | "length" | "toChars" => {
            arity(name, args, 0, 0)?;
            let Some(s) = input_string(&base, name)? else {
                return Ok(vec![]);
            };
            match name {
                "upper" => vec![Value::String(s.to_uppercase())],
                "lower" => vec![Value::String(s.to_lowercase())],
                "trim" => vec![Value::String(s.trim().to_string())],
                "length" => vec![Value::Integer(s.chars().count() as i64)],
                _ => s.chars().map(|c| Value::String(c.to_string())).collect(),
            }
        }
        "replace" => {
            arity(name, args, 2, 2)?;
            let Some(s) = input_string(&base, name)? else {
                return Ok(vec![]);
            };
            let (Some(p), Some(r)) = (
                string_arg(args, 0, focus, cx)?,
                string_arg(args, 1, focus, cx)?,
            ) else {
                return Ok(vec![]);
            };
            if p.is_empty() {
                let mut out = r.clone();
                for c in s.chars() {
                    out.push(c);
                    out.push_str(&r);
                }
                return Ok(vec![Value::String(out)]);
            }
            vec![Value::String(s.replace(&p, &r))]
        }
        "matches" | "replaceMatches" => {
            arity(
                name,
                args,
                if name == "matches" { 1 } else { 2 },
                if name == "matches" { 1 } else { 2 },
            )?;
            let Some(s) = input_string(&base, name)? else {
                return Ok(vec![]);
            };
            let Some(re) = string_arg(args, 0, focus, cx)? else {
                return Ok(vec![]);
            };
            if name == "replaceMatches" && re.is_empty() {
                return Ok(vec![Value::String(s)]);
            }
            let pattern = if name == "matches" {
                format!("(?s){re}")
            } else {
                re.clone()
            };
            let rx = compiled(&pattern).map_err(|e| err(format!("bad regular expression '{re}': {e}")))?;
            if name == "matches" {
                b(rx.is_match(&s))
            } else {
                let Some(sub) = string_arg(args, 1, focus, cx)? else {
                    return Ok(vec![]);
                };
                // FHIRPath uses $1 for groups, as the regex crate does
                vec![Value::String(rx.replace_all(&s, sub.as_str()).into_owned())]
            }
        }
        "matchesFull" => {
            arity(name, args, 1, 1)?;
            let Some(s) = input_string(&base, name)? else {
                return Ok(vec![]);
            };
            let Some(re) = string_arg(args, 0, focus, cx)? else {
                return Ok(vec![]);
            };
            let rx = compiled(&format!("(?s)^(?:{re})$"))
                .map_err(|e| err(format!("bad regular expression '{re}': {e}")))?;
            b(rx.is_match(&s))
        }
        "escape" | "unescape" => {
            arity(name, args, 1, 1)?;
            let Some(s) = input_string(&base, name)? else {
                return Ok(vec![]);
            };
            let fmt = string_arg(args, 0, focus, cx)?.unwrap_or_default();
            vec![Value::String(escape(name == "escape", &fmt, &s)?)]
        }
        "sort" => sort(base, args, cx)?,
        "lowBoundary" | "highBoundary" => {
            arity(name, args, 0, 1)?;
            let Some(v) = singleton(&base, name)?.map(|v| v.to_system()) else {
                return Ok(vec![]);
            };
            let p = if n == 1 {
                int_arg(args, 0, focus, cx)?
            } else {
                None
            };
            boundary(&v, p, name == "highBoundary")
                .into_iter()
                .collect()
        }
        "precision" => {
            arity(name, args, 0, 0)?;
            let Some(v) = singleton(&base, name)?.map(|v| v.to_system()) else {
                return Ok(vec![]);
            };
            match v {
                Value::Decimal(d) => vec![Value::Integer(d.scale() as i64)],
                Value::Integer(_) => vec![Value::Integer(0)],
                Value::Date(t) | Value::DateTime(t) | Value::Time(t) => {
                    vec![Value::Integer(digits_of(&t) as i64)]
                }
                _ => vec![],
            }
        }
        "comparable" => {
            arity(name, args, 1, 1)?;
            let other = eval(&args[0], focus, cx)?;
            match (
                singleton(&base, name)?.map(|v| v.to_system()),
                singleton(&other, name)?.map(|v| v.to_system()),
            ) {
                (Some(Value::Quantity(x)), Some(Value::Quantity(y))) => {
                    b(x.canonical().1 == y.canonical().1)
                }
                (None, _) | (_, None) => vec![],
                _ => return Err(err("comparable() compares two quantities")),
            }
        }
        "split" => {
            arity(name, args, 1, 1)?;
            let (Some(s), Some(sep)) =
                (input_string(&base, name)?, string_arg(args, 0, focus, cx)?)
            else {
                return Ok(vec![]);
            };
            s.split(sep.as_str())
                .map(|p| Value::String(p.to_string()))
                .collect()
        }
        "join" => {
            arity(name, args, 0, 1)?;
            let sep = if n == 1 {
                string_arg(args, 0, focus, cx)?.unwrap_or_default()
            } else {
                String::new()
            };
            let parts: Vec<String> = base.iter().map(|v| v.to_string()).collect();
            vec![Value::String(parts.join(&sep))]
        }
        "encode" | "decode" => {
            arity(name, args, 1, 1)?;
            let Some(s) = input_string(&base, name)? else {
                return Ok(vec![]);
            };
            let fmt = string_arg(args, 0, focus, cx)?.unwrap_or_default();
            codec(name == "encode", &fmt, &s)?
                .map(Value::String)
                .into_iter()
                .collect()
        }
        // ---- math
        "abs" | "ceiling" | "floor" | "truncate" | "exp" | "ln" | "sqrt" => {
            arity(name, args, 0, 0)?;
            let Some(v) = input_number(&base, name)? else {
                return Ok(vec![]);
            };
            let d = to_dec(&v);
            match (name, &v) {
                ("abs", Value::Integer(i)) => vec![Value::Integer(i.abs())],
                ("abs", Value::Quantity(q)) => vec![Value::Quantity(Quantity {
                    value: q.value.abs(),
                    unit: q.unit.clone(),
                })],
                ("abs", _) => vec![Value::Decimal(d.abs())],
                ("ceiling", _) => d
                    .ceil()
                    .trunc_i64()
                    .map(Value::Integer)
                    .into_iter()
                    .collect(),
                ("floor", _) => d
                    .floor()
                    .trunc_i64()
                    .map(Value::Integer)
                    .into_iter()
                    .collect(),
                ("truncate", _) => d.trunc_i64().map(Value::Integer).into_iter().collect(),
                ("exp", _) => f64_result(d.to_f64().exp()),
                ("ln", _) => f64_result(d.to_f64().ln()),
                _ => f64_result(d.to_f64().sqrt()),
            }
        }
        "log" | "power" => {
            arity(name, args, 1, 1)?;
            let Some(v) = input_number(&base, name)? else {
                return Ok(vec![]);
            };
            let a = eval(&args[0], focus, cx)?;
            let Some(x) = singleton(&a, name)?.map(|v| v.to_system()) else {
                return Ok(vec![]);
            };
            let (d, e) = (to_dec(&v), to_dec(&x));
            if name == "log" {
                f64_result(d.to_f64().ln() / e.to_f64().ln())
            } else if let (Value::Integer(base), Value::Integer(exp)) = (&v, &x) {
                if *exp >= 0 {
                    base.checked_pow(*exp as u32)
                        .map(Value::Integer)
                        .into_iter()
                        .collect()
                } else {
                    f64_result((*base as f64).powf(*exp as f64))
                }
            } else {
                f64_result(d.to_f64().powf(e.to_f64()))
            }
        }
        "round" => {
            arity(name, args, 0, 1)?;
            let Some(v) = input_number(&base, name)? else {
                return Ok(vec![]);
            };
            let p = if n == 1 {
                int_arg(args, 0, focus, cx)?.unwrap_or(0)
            } else {
                0
            };
            if p < 0 {
                return Err(err("round() precision must be >= 0"));
            }
            vec![Value::Decimal(to_dec(&v).rescale_round(p as u32))]
        }
        // ---- FHIR
        "extension" => {
            arity(name, args, 1, 1)?;
            let Some(url) = string_arg(args, 0, focus, cx)? else {
                return Ok(vec![]);
            };
            let mut out = Vec::new();
            for v in &base {
                let Value::Node(n) = v else { continue };
                let mut exts = Vec::new();
                member(n, "extension", &mut exts);
                if let Some(e) = n.ext {
                    member(
                        &Node {
                            json: e,
                            ext: None,
                            type_info: n.type_info,
                        },
                        "extension",
                        &mut exts,
                    );
                }
                out.extend(exts.into_iter().filter(|e| {
                    e.as_node()
                        .and_then(|n| n.json.get("url"))
                        .and_then(Json::as_str)
                        == Some(url.as_str())
                }));
            }
            out
        }
        "hasValue" => {
            arity(name, args, 0, 0)?;
            b(
                matches!(base.as_slice(), [Value::Node(n)] if !n.json.is_null() && !n.json.is_object() && !n.json.is_array()),
            )
        }
        "getValue" => {
            arity(name, args, 0, 0)?;
            match base.as_slice() {
                [Value::Node(n)] if !n.json.is_null() && !n.json.is_object() => {
                    vec![base[0].to_system()]
                }
                _ => vec![],
            }
        }
        "resolve" => {
            arity(name, args, 0, 0)?;
            let mut out = Vec::new();
            for v in &base {
                let reference = match v {
                    Value::Node(n) => n
                        .json
                        .get("reference")
                        .and_then(Json::as_str)
                        .or(n.json.as_str()),
                    Value::String(s) => Some(s.as_str()),
                    _ => None,
                };
                if let Some(r) = reference {
                    if let Some(found) = resolve(cx, r) {
                        out.push(Value::Node(Node::new(found)));
                    }
                }
            }
            out
        }
        "memberOf" | "conformsTo" | "subsumes" | "subsumedBy" => {
            // a Functions hook (the validator, with loaded value sets and profiles) may provide them
            if let Some(r) = call_hook(name, &base, args, focus, cx) {
                return r;
            }
            return Err(err(format!(
                "{name}() needs a terminology or profile service: add one with Env::with_functions"
            )));
        }
        "htmlChecks" => {
            arity(name, args, 0, 0)?;
            b(base.iter().all(|v| {
                v.as_str()
                    .is_some_and(|s| s.trim_start().starts_with("<div") && !s.contains("<script"))
            }))
        }
        _ => {
            if let Some(r) = call_hook(name, &base, args, focus, cx) {
                return r;
            }
            return Err(err(format!("unknown function {name}()")));
        }
    })
}

/// Calls the environment's [`crate::Functions`] hook, if it has one and it defines `name`.
fn call_hook<'a>(
    name: &str,
    base: &[Value<'a>],
    args: &[Expr],
    focus: &[Value<'a>],
    cx: &Ctx<'a, '_>,
) -> Option<Result<Collection<'a>, Error>> {
    let hook = cx.env.functions.as_ref()?;
    let cx = Ctx {
        env: cx.env,
        root: cx.root,
        this: cx.this,
        index: cx.index,
        total: cx.total,
    };
    let a = Args {
        exprs: args,
        focus,
        cx: &cx,
    };
    hook.call(name, base, &a)
}

/// Resolves a reference within the resource being evaluated (`#contained`) or its Bundle (`fullUrl`,
/// `Type/id`).
fn resolve<'a>(cx: &Ctx<'a, '_>, reference: &str) -> Option<&'a Json> {
    let roots = [cx.env.resource, cx.env.root_resource, Some(cx.root)];
    for root in roots.into_iter().flatten() {
        if let Some(id) = reference.strip_prefix('#') {
            if let Some(c) = root.get("contained").and_then(Json::as_array) {
                if let Some(found) = c
                    .iter()
                    .find(|r| r.get("id").and_then(Json::as_str) == Some(id))
                {
                    return Some(found);
                }
            }
        }
        if let Some(entries) = root.get("entry").and_then(Json::as_array) {
            for e in entries {
                let full = e.get("fullUrl").and_then(Json::as_str);
                let res = e.get("resource");
                let local = res.and_then(|r| {
                    Some(format!(
                        "{}/{}",
                        r.get("resourceType")?.as_str()?,
                        r.get("id")?.as_str()?
                    ))
                });
                if full == Some(reference)
                    || local
                        .as_deref()
                        .is_some_and(|l| reference == l || reference.ends_with(&format!("/{l}")))
                {
                    return res;
                }
            }
        }
    }
    None
}

fn conv<'a>(
    name: &str,
    base: &[Value<'a>],
    f: impl Fn(Value<'a>) -> Option<Value<'a>>,
) -> Result<Collection<'a>, Error> {
    let Some(v) = singleton(base, name)? else {
        return Ok(vec![]);
    };
    let r = f(v.to_system());
    Ok(if name.starts_with("convertsTo") {
        b(r.is_some())
    } else {
        r.into_iter().collect()
    })
}

fn parse_quantity(s: &str) -> Option<Quantity> {
    let s = s.trim();
    let (num, unit) = match s.find([' ', '\'']) {
        Some(i) => (&s[..i], s[i..].trim()),
        None => (s, ""),
    };
    let value = Decimal::parse(num)?;
    let unit = if unit.is_empty() {
        "1".to_string()
    } else if let Some(u) = unit.strip_prefix('\'').and_then(|u| u.strip_suffix('\'')) {
        u.to_string()
    } else if Quantity::calendar_unit(unit, false).is_some() {
        unit.to_string()
    } else {
        return None;
    };
    Some(Quantity { value, unit })
}

fn children<'a>(v: &Value<'a>, out: &mut Vec<Value<'a>>) {
    let Value::Node(n) = v else { return };
    let Json::Object(obj) = n.json else { return };
    for key in obj.keys() {
        if key.starts_with('_') || key == "resourceType" {
            continue;
        }
        member(n, key, out);
    }
}

fn type_info_value<'a>(v: &Value<'a>) -> Option<Value<'a>> {
    let (namespace, name) = v.type_name();
    Some(Value::TypeInfo {
        namespace,
        name: name?.to_string(),
    })
}

fn now() -> Temporal {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs() as i64;
    let epoch = Temporal {
        year: 1970,
        precision: Precision::Millisecond,
        tz_minutes: Some(0),
        has_t: true,
        ..Temporal::empty()
    };
    let t = epoch.add(secs.div_euclid(86400), "day").unwrap_or(epoch);
    t.add(
        secs.rem_euclid(86400) * 1000 + d.subsec_millis() as i64,
        "millisecond",
    )
    .unwrap_or(t)
}

fn codec(encode: bool, fmt: &str, s: &str) -> Result<Option<String>, Error> {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let url = fmt == "urlbase64";
    let alphabet = |i: u8| -> char {
        let c = B64[i as usize] as char;
        match (url, c) {
            (true, '+') => '-',
            (true, '/') => '_',
            (_, c) => c,
        }
    };
    Ok(match (fmt, encode) {
        ("hex", true) => Some(s.bytes().map(|b| format!("{b:02x}")).collect()),
        ("hex", false) => {
            let bytes: Option<Vec<u8>> = (0..s.len())
                .step_by(2)
                .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
                .collect();
            bytes.and_then(|b| String::from_utf8(b).ok())
        }
        ("base64" | "urlbase64", true) => {
            let mut out = String::new();
            for chunk in s.as_bytes().chunks(3) {
                let n = chunk
                    .iter()
                    .enumerate()
                    .fold(0u32, |acc, (i, b)| acc | (*b as u32) << (16 - 8 * i));
                for i in 0..4 {
                    if i <= chunk.len() {
                        out.push(alphabet(((n >> (18 - 6 * i)) & 63) as u8));
                    } else {
                        out.push('=');
                    }
                }
            }
            Some(out)
        }
        ("base64" | "urlbase64", false) => {
            let mut bits = 0u32;
            let mut nbits = 0;
            let mut out = Vec::new();
            for c in s.chars().filter(|c| *c != '=') {
                let c = match (url, c) {
                    (true, '-') => '+',
                    (true, '_') => '/',
                    (_, c) => c,
                };
                let Some(v) = B64.iter().position(|b| *b as char == c) else {
                    return Ok(None);
                };
                bits = (bits << 6) | v as u32;
                nbits += 6;
                if nbits >= 8 {
                    nbits -= 8;
                    out.push((bits >> nbits) as u8);
                    bits &= (1 << nbits) - 1;
                }
            }
            String::from_utf8(out).ok()
        }
        _ => return Err(err(format!("unknown encoding '{fmt}'"))),
    })
}

/// `sort()` and `sort(key, -key, ...)`: ascending by each key, descending for a key written with a leading `-`.
fn sort<'a>(
    base: Collection<'a>,
    args: &[Expr],
    cx: &Ctx<'a, '_>,
) -> Result<Collection<'a>, Error> {
    let keys: Vec<(bool, &Expr)> = args
        .iter()
        .map(|a| match a {
            Expr::Neg(inner) => (true, inner.as_ref()),
            other => (false, other),
        })
        .collect();
    let mut keyed = Vec::with_capacity(base.len());
    for (i, item) in base.into_iter().enumerate() {
        let mut ks = Vec::new();
        if keys.is_empty() {
            ks.push(vec![item.clone()]);
        }
        for (_, k) in &keys {
            let scx = cx.with_this(&item, i as i64);
            ks.push(eval(k, std::slice::from_ref(&item), &scx)?);
        }
        keyed.push((ks, item));
    }
    let mut failure = None;
    keyed.sort_by(|(a, _), (b, _)| {
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            let desc = keys.get(i).is_some_and(|k| k.0);
            let o = match (x.first(), y.first()) {
                (None, None) => std::cmp::Ordering::Equal,
                // an empty key sorts after every value
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (Some(_), None) => std::cmp::Ordering::Less,
                (Some(x), Some(y)) => match compare(x, y) {
                    Ok(o) => o.unwrap_or(std::cmp::Ordering::Equal),
                    Err(e) => {
                        failure.get_or_insert(e);
                        std::cmp::Ordering::Equal
                    }
                },
            };
            let o = if desc { o.reverse() } else { o };
            if o != std::cmp::Ordering::Equal {
                return o;
            }
        }
        std::cmp::Ordering::Equal
    });
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(keyed.into_iter().map(|(_, v)| v).collect())
}

fn escape(escape: bool, fmt: &str, s: &str) -> Result<String, Error> {
    const HTML: [(&str, &str); 5] = [
        ("&", "&amp;"),
        ("<", "&lt;"),
        (">", "&gt;"),
        ("\"", "&quot;"),
        ("'", "&#39;"),
    ];
    Ok(match (fmt, escape) {
        ("html", true) => HTML
            .iter()
            .fold(s.to_string(), |acc, (c, e)| acc.replace(c, e)),
        ("html", false) => HTML
            .iter()
            .rev()
            .fold(s.to_string(), |acc, (c, e)| acc.replace(e, c)),
        ("json", true) => {
            let j = Json::String(s.to_string()).to_string();
            j[1..j.len() - 1].to_string()
        }
        ("json", false) => serde_json::from_str::<String>(&format!("\"{s}\""))
            .map_err(|e| err(format!("unescape('json'): {e}")))?,
        _ => return Err(err(format!("unknown escape format '{fmt}' (html or json)"))),
    })
}

/// Digits of precision of a date/time (`@2014` 4, `@2014-01-05T10:30:00.000` 17, `@T10:30` 4).
fn digits_of(t: &Temporal) -> u32 {
    let time = match t.precision {
        Precision::Hour => 2,
        Precision::Minute => 4,
        Precision::Second => 6,
        Precision::Millisecond => 9,
        _ => 0,
    };
    if t.time_only {
        return time;
    }
    match t.precision {
        Precision::Year => 4,
        Precision::Month => 6,
        Precision::Day => 8,
        _ => 8 + time,
    }
}

/// `lowBoundary()` / `highBoundary()`: the least / greatest value the given value could stand for, at precision
/// `p` (decimal places, or digits of a date/time).
fn boundary<'a>(v: &Value<'a>, p: Option<i64>, high: bool) -> Option<Value<'a>> {
    let dec = |d: Decimal, p: Option<i64>| -> Option<Decimal> {
        let p = p.unwrap_or(8);
        if !(0..=28).contains(&p) {
            return None;
        }
        let half = Decimal::parse(&format!("0.{}5", "0".repeat(d.scale() as usize)))?;
        let edge = if high { d.add(&half)? } else { d.sub(&half)? };
        let p = p as u32;
        let shifted = edge.mul(&Decimal::parse(&format!("1{}", "0".repeat(p as usize)))?)?;
        let rounded = if high {
            shifted.ceil()
        } else {
            shifted.floor()
        };
        let back = rounded.div_exact_pow10(p);
        Some(back)
    };
    match v {
        Value::Integer(i) => dec(Decimal::from_i64(*i), p).map(Value::Decimal),
        Value::Decimal(d) => dec(*d, p).map(Value::Decimal),
        Value::Quantity(q) => dec(q.value, p).map(|value| {
            Value::Quantity(Quantity {
                value,
                unit: q.unit.clone(),
            })
        }),
        Value::Date(t) | Value::DateTime(t) | Value::Time(t) => {
            let digits = p.unwrap_or(if t.time_only { 9 } else { 17 });
            let precision = if t.time_only {
                match digits {
                    2 => Precision::Hour,
                    4 => Precision::Minute,
                    6 => Precision::Second,
                    9 => Precision::Millisecond,
                    _ => return None,
                }
            } else {
                match digits {
                    4 => Precision::Year,
                    6 => Precision::Month,
                    8 => Precision::Day,
                    10 => Precision::Hour,
                    12 => Precision::Minute,
                    14 => Precision::Second,
                    17 => Precision::Millisecond,
                    _ => return None,
                }
            };
            let mut r = *t;
            // an hour alone is read as hh:00
            let given = if t.precision == Precision::Hour {
                Precision::Minute
            } else {
                t.precision
            };
            if given < Precision::Month {
                r.month = if high { 12 } else { 1 };
            }
            if given < Precision::Day {
                r.day = if high {
                    crate::value::days_in_month(r.year, r.month)
                } else {
                    1
                };
            }
            if given < Precision::Hour {
                r.hour = if high { 23 } else { 0 };
            }
            if given < Precision::Minute {
                r.minute = if high { 59 } else { 0 };
            }
            if given < Precision::Second {
                r.second = if high { 59 } else { 0 };
            }
            if given < Precision::Millisecond {
                r.millis = if high { 999 } else { 0 };
            }
            r.precision = precision;
            r.has_t = false;
            if !t.time_only && precision >= Precision::Hour && r.tz_minutes.is_none() {
                r.tz_minutes = Some(if high { -12 * 60 } else { 14 * 60 });
            }
            Some(match v {
                Value::Time(_) => Value::Time(r),
                _ if precision <= Precision::Day && matches!(v, Value::Date(_)) => Value::Date(r),
                _ if precision <= Precision::Day => Value::Date(r),
                _ => Value::DateTime(r),
            })
        }
        _ => None,
    }
}

/// The compiled form of a regular expression of `matches`, `matchesFull` or `replaceMatches`. Invariants and
/// views evaluate the same few patterns on every element (`id`, `oid`, `uuid` formats, ...), so each pattern is
/// compiled once per process; the cache holds at most `MAX` patterns and starts over when full, so expressions
/// built from data cannot grow it without bound. (`Regex` clones share the compiled program.)
fn compiled(pattern: &str) -> Result<Regex, regex::Error> {
    const MAX: usize = 512;
    static CACHE: OnceLock<Mutex<HashMap<String, Regex>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(rx) = cache.lock().unwrap_or_else(PoisonError::into_inner).get(pattern) {
        return Ok(rx.clone());
    }
    let rx = Regex::new(pattern)?;
    let mut map = cache.lock().unwrap_or_else(PoisonError::into_inner);
    if map.len() >= MAX {
        map.clear();
    }
    map.insert(pattern.to_owned(), rx.clone());
    Ok(rx)
}
