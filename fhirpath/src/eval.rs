//! The evaluator: paths, operators and type tests over [`Value`]s. Functions are in [`crate::functions`].

use std::cmp::Ordering;

use serde_json::Value as Json;

use crate::parser::{BinOp, Expr};
use crate::types::{Child, TypeInfo};
use crate::value::{Collection, Decimal, Node, Quantity, Temporal, Value, NULL};
use crate::{Env, Error};

/// Evaluation state: the environment and the `$this` / `$index` / `$total` of the innermost function argument.
pub(crate) struct Ctx<'a, 'e> {
    pub env: &'e Env<'a>,
    pub root: &'a Json,
    pub this: Option<&'e Value<'a>>,
    pub index: Option<i64>,
    pub total: Option<&'e Collection<'a>>,
}

impl<'a, 'e> Ctx<'a, 'e> {
    pub fn with_this<'f>(&'f self, this: &'f Value<'a>, index: i64) -> Ctx<'a, 'f> {
        Ctx {
            env: self.env,
            root: self.root,
            this: Some(this),
            index: Some(index),
            total: self.total,
        }
    }
}

pub(crate) fn err(msg: impl Into<String>) -> Error {
    Error::Evaluation {
        expression: String::new(),
        message: msg.into(),
    }
}

pub(crate) fn eval<'a>(
    e: &Expr,
    focus: &[Value<'a>],
    cx: &Ctx<'a, '_>,
) -> Result<Collection<'a>, Error> {
    Ok(match e {
        Expr::Empty => vec![],
        Expr::Literal(v) => vec![v.clone()],
        Expr::This => match cx.this {
            Some(t) => vec![t.clone()],
            None => focus.to_vec(),
        },
        Expr::Index => cx.index.map(Value::Integer).into_iter().collect(),
        Expr::Total => cx.total.cloned().unwrap_or_default(),
        Expr::Var(name) => cx.env.variable(name, cx.root)?,
        Expr::Ident(name) => {
            let mut out = Vec::new();
            for item in focus {
                if let Value::Node(n) = item {
                    let is_type = name.starts_with(|c: char| c.is_ascii_uppercase())
                        && n.type_info.is_some_and(|t| t.is_a(name))
                        && n.json.get(name.as_str()).is_none();
                    if is_type {
                        out.push(item.clone());
                    } else {
                        member(n, name, &mut out);
                    }
                }
            }
            out
        }
        Expr::Member(recv, name) => {
            let base = eval(recv, focus, cx)?;
            let mut out = Vec::new();
            for item in &base {
                match item {
                    Value::Node(n) => member(n, name, &mut out),
                    Value::TypeInfo {
                        namespace,
                        name: type_name,
                    } => match name.as_str() {
                        "namespace" => out.push(Value::String(namespace.to_string())),
                        "name" => out.push(Value::String(type_name.clone())),
                        _ => {}
                    },
                    _ => {}
                }
            }
            out
        }
        Expr::Call(recv, name, args) => {
            let base = match recv {
                Some(r) => eval(r, focus, cx)?,
                None => match cx.this {
                    Some(t) => vec![t.clone()],
                    None => focus.to_vec(),
                },
            };
            crate::functions::call(name, base, args, focus, cx)?
        }
        Expr::Indexer(recv, idx) => {
            let base = eval(recv, focus, cx)?;
            let i = eval(idx, focus, cx)?;
            match singleton(&i, "indexer")? {
                None => vec![],
                Some(v) => match v.to_system() {
                    Value::Integer(i) if i >= 0 => {
                        base.into_iter().nth(i as usize).into_iter().collect()
                    }
                    Value::Integer(_) => vec![],
                    other => return Err(err(format!("index must be an integer, not {other}"))),
                },
            }
        }
        Expr::Neg(inner) => {
            let v = eval(inner, focus, cx)?;
            match singleton(&v, "unary minus")?.map(|v| v.to_system()) {
                None => vec![],
                Some(Value::Integer(i)) => vec![Value::Integer(-i)],
                Some(Value::Decimal(d)) => vec![Value::Decimal(d.neg())],
                Some(Value::Quantity(mut q)) => {
                    q.value = q.value.neg();
                    vec![Value::Quantity(q)]
                }
                Some(other) => return Err(err(format!("cannot negate {other}"))),
            }
        }
        Expr::Is(inner, ty) => {
            let v = eval(inner, focus, cx)?;
            match singleton(&v, "is")? {
                None => vec![],
                Some(v) => vec![Value::Boolean(value_is(v, ty))],
            }
        }
        Expr::As(inner, ty) => {
            check_type_name(ty)?;
            let v = eval(inner, focus, cx)?;
            if v.len() > 1 {
                return Err(err("'as' needs a single item"));
            }
            v.into_iter().filter(|v| value_as(v, ty)).collect()
        }
        Expr::Binary(op, l, r) => binary(*op, l, r, focus, cx)?,
    })
}

/// Children named `name` of a JSON node, with their `_name` siblings and types; choice elements (`value` ->
/// `valueQuantity`) resolve through the type table or, for nodes of unknown type, through the key's type suffix.
pub(crate) fn member<'a>(n: &Node<'a>, name: &str, out: &mut Vec<Value<'a>>) {
    let Json::Object(obj) = n.json else { return };
    let child = n.type_info.and_then(|t| t.child(name));
    let ext_key = format!("_{name}");
    match (obj.get(name), obj.get(ext_key.as_str())) {
        (None, None) => {}
        (value, ext) => {
            let ty = match child {
                Some(Child::Single(t)) => Some(t),
                Some(Child::Choice(_)) => None,
                None => None,
            };
            push_items(value, ext, ty, out);
            return;
        }
    }
    // a choice element
    match child {
        Some(Child::Choice(types)) => {
            for t in types.split(',') {
                let key = format!("{name}{}{}", t[..1].to_ascii_uppercase(), &t[1..]);
                let ext_key = format!("_{key}");
                let (value, ext) = (obj.get(key.as_str()), obj.get(ext_key.as_str()));
                if value.is_some() || ext.is_some() {
                    push_items(value, ext, TypeInfo::named(t), out);
                    return;
                }
            }
        }
        Some(Child::Single(_)) => {}
        None => {
            for (key, value) in obj {
                if let Some(suffix) = key.strip_prefix(name) {
                    if suffix.starts_with(|c: char| c.is_ascii_uppercase()) {
                        if let Some(t) = TypeInfo::from_choice_suffix(suffix) {
                            push_items(Some(value), obj.get(&format!("_{key}")), Some(t), out);
                            return;
                        }
                    }
                }
            }
        }
    }
}

fn push_items<'a>(
    value: Option<&'a Json>,
    ext: Option<&'a Json>,
    ty: Option<TypeInfo>,
    out: &mut Vec<Value<'a>>,
) {
    let make = |json: &'a Json, ext: Option<&'a Json>| {
        let ext = ext.filter(|e| !e.is_null());
        let type_info = match json.get("resourceType").and_then(Json::as_str) {
            Some(rt) => TypeInfo::resource(rt).or(ty),
            None => ty,
        };
        Value::Node(Node {
            json,
            ext,
            type_info,
        })
    };
    match (value, ext) {
        (Some(Json::Array(items)), ext) => {
            let exts = ext.and_then(Json::as_array);
            for (i, item) in items.iter().enumerate() {
                let e = exts.and_then(|e| e.get(i));
                if item.is_null() && e.map_or(true, Json::is_null) {
                    continue;
                }
                out.push(make(item, e));
            }
        }
        (None, Some(Json::Array(exts))) => {
            for e in exts.iter().filter(|e| !e.is_null()) {
                out.push(make(&NULL, Some(e)));
            }
        }
        (Some(Json::Null), None) => {}
        (Some(v), ext) => out.push(make(v, ext)),
        (None, Some(ext)) => out.push(make(&NULL, Some(ext))),
        (None, None) => {}
    }
}

/// The single item of a collection, `None` when empty, an error when it has several.
pub(crate) fn singleton<'v, 'a>(
    c: &'v [Value<'a>],
    what: &str,
) -> Result<Option<&'v Value<'a>>, Error> {
    match c {
        [] => Ok(None),
        [v] => Ok(Some(v)),
        _ => Err(err(format!(
            "{what} needs a single item, found {}",
            c.len()
        ))),
    }
}

/// Singleton evaluation of a collection as a boolean: empty is `None`, one Boolean is itself, one other item is
/// `true`.
pub(crate) fn to_bool(c: &[Value<'_>], what: &str) -> Result<Option<bool>, Error> {
    match singleton(c, what)? {
        None => Ok(None),
        Some(v) => match v.to_system() {
            Value::Boolean(b) => Ok(Some(b)),
            Value::Node(n) if n.json.is_null() => Ok(None),
            _ => Ok(Some(true)),
        },
    }
}

fn binary<'a>(
    op: BinOp,
    l: &Expr,
    r: &Expr,
    focus: &[Value<'a>],
    cx: &Ctx<'a, '_>,
) -> Result<Collection<'a>, Error> {
    // boolean operators short-circuit as far as three-valued logic allows
    if matches!(op, BinOp::And | BinOp::Or | BinOp::Implies | BinOp::Xor) {
        let a = to_bool(&eval(l, focus, cx)?, "a boolean operand")?;
        let short = match (op, a) {
            (BinOp::And, Some(false)) => Some(false),
            (BinOp::Or, Some(true)) => Some(true),
            (BinOp::Implies, Some(false)) => Some(true),
            _ => None,
        };
        if let Some(s) = short {
            return Ok(vec![Value::Boolean(s)]);
        }
        let b = to_bool(&eval(r, focus, cx)?, "a boolean operand")?;
        let res = match op {
            BinOp::And => match (a, b) {
                (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
            BinOp::Or => match (a, b) {
                (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
            BinOp::Xor => match (a, b) {
                (Some(x), Some(y)) => Some(x != y),
                _ => None,
            },
            _ => match (a, b) {
                (_, Some(true)) => Some(true),
                (Some(true), Some(false)) => Some(false),
                (None, Some(false)) | (None, None) | (Some(true), None) => None,
                (Some(false), _) => Some(true),
            },
        };
        return Ok(res.map(Value::Boolean).into_iter().collect());
    }
    let a = eval(l, focus, cx)?;
    let b = eval(r, focus, cx)?;
    Ok(match op {
        BinOp::Union => {
            let mut out: Collection<'a> = Vec::new();
            for v in a.into_iter().chain(b) {
                if !out.iter().any(|o| equals(o, &v) == Some(true)) {
                    out.push(v);
                }
            }
            out
        }
        BinOp::Eq | BinOp::Ne => {
            let r = collection_equals(&a, &b);
            let r = if op == BinOp::Ne { r.map(|x| !x) } else { r };
            r.map(Value::Boolean).into_iter().collect()
        }
        BinOp::Equiv | BinOp::NotEquiv => {
            let r = collection_equivalent(&a, &b);
            vec![Value::Boolean(if op == BinOp::NotEquiv { !r } else { r })]
        }
        BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge => {
            let (Some(x), Some(y)) = (
                singleton(&a, "a comparison")?,
                singleton(&b, "a comparison")?,
            ) else {
                return Ok(vec![]);
            };
            match compare(x, y)? {
                None => vec![],
                Some(o) => vec![Value::Boolean(match op {
                    BinOp::Lt => o == Ordering::Less,
                    BinOp::Gt => o == Ordering::Greater,
                    BinOp::Le => o != Ordering::Greater,
                    _ => o != Ordering::Less,
                })],
            }
        }
        BinOp::In | BinOp::Contains => {
            let (item, coll) = if op == BinOp::In { (&a, &b) } else { (&b, &a) };
            match singleton(item, "membership")? {
                None => vec![],
                Some(x) => vec![Value::Boolean(
                    coll.iter().any(|c| equals(x, c) == Some(true)),
                )],
            }
        }
        BinOp::Concat => {
            let s = |c: &[Value<'_>]| -> Result<String, Error> {
                Ok(singleton(c, "&")?
                    .map(|v| v.to_string())
                    .unwrap_or_default())
            };
            vec![Value::String(s(&a)? + &s(&b)?)]
        }
        _ => {
            let (Some(x), Some(y)) = (singleton(&a, "arithmetic")?, singleton(&b, "arithmetic")?)
            else {
                return Ok(vec![]);
            };
            arithmetic(op, &x.to_system(), &y.to_system())?
                .into_iter()
                .collect()
        }
    })
}

fn as_decimal(v: &Value<'_>) -> Option<Decimal> {
    match v {
        Value::Integer(i) => Some(Decimal::from_i64(*i)),
        Value::Decimal(d) => Some(*d),
        _ => None,
    }
}

fn arithmetic<'a>(op: BinOp, x: &Value<'a>, y: &Value<'a>) -> Result<Option<Value<'a>>, Error> {
    use Value::*;
    Ok(match (op, x, y) {
        (BinOp::Add, String(a), String(b)) => Some(String(format!("{a}{b}"))),
        (BinOp::Add, Integer(a), Integer(b)) => a.checked_add(*b).map(Integer),
        (BinOp::Sub, Integer(a), Integer(b)) => a.checked_sub(*b).map(Integer),
        (BinOp::Mul, Integer(a), Integer(b)) => a.checked_mul(*b).map(Integer),
        (BinOp::IntDiv, Integer(a), Integer(b)) => a.checked_div(*b).map(Integer),
        (BinOp::Mod, Integer(a), Integer(b)) => a.checked_rem(*b).map(Integer),
        (BinOp::Add | BinOp::Sub, Date(t) | DateTime(t) | Time(t), Quantity(q)) => {
            // UCUM 'a' and 'mo' are not calendar durations: adding them to a date is an error
            let unit = crate::value::Quantity::calendar_unit(&q.unit, true)
                .filter(|_| q.unit != "a" && q.unit != "mo")
                .ok_or_else(|| {
                    err(format!(
                        "cannot add {q} to a date/time (use a calendar duration such as 1 year)"
                    ))
                })?;
            let mut amount = q.value;
            if op == BinOp::Sub {
                amount = amount.neg();
            }
            // fractional amounts are truncated
            let res = amount.trunc_i64().and_then(|a| t.add(a, unit));
            res.map(|t| match x {
                Date(_) => Date(t),
                DateTime(_) => DateTime(t),
                _ => Time(t),
            })
        }
        (_, Quantity(a), Quantity(b)) => quantity_arith(op, a, b),
        (BinOp::Mul | BinOp::Div, Quantity(a), n) if as_decimal(n).is_some() => {
            let n = as_decimal(n).unwrap_or(crate::value::Decimal::from_i64(1));
            let v = if op == BinOp::Mul {
                a.value.mul(&n)
            } else {
                a.value.div(&n)
            };
            v.map(|value| {
                Quantity(crate::value::Quantity {
                    value,
                    unit: a.unit.clone(),
                })
            })
        }
        (BinOp::Mul, n, Quantity(a)) if as_decimal(n).is_some() => {
            let n = as_decimal(n).unwrap_or(crate::value::Decimal::from_i64(1));
            a.value.mul(&n).map(|value| {
                Quantity(crate::value::Quantity {
                    value,
                    unit: a.unit.clone(),
                })
            })
        }
        (op, a, b) => match (as_decimal(a), as_decimal(b)) {
            (Some(a), Some(b)) => match op {
                BinOp::Add => a.add(&b),
                BinOp::Sub => a.sub(&b),
                BinOp::Mul => a.mul(&b),
                BinOp::Div => a.div(&b),
                BinOp::IntDiv => {
                    return Ok(a.div_trunc(&b).and_then(|d| d.trunc_i64()).map(Integer))
                }
                BinOp::Mod => a.rem(&b),
                _ => None,
            }
            .map(Decimal),
            _ => return Err(err(format!("cannot apply {op:?} to {a} and {b}"))),
        },
    })
}

fn quantity_arith<'a>(op: BinOp, a: &Quantity, b: &Quantity) -> Option<Value<'a>> {
    let (av, au) = a.canonical();
    let (bv, bu) = b.canonical();
    match op {
        BinOp::Add | BinOp::Sub if a.unit == b.unit => {
            let v = if op == BinOp::Add {
                a.value.add(&b.value)
            } else {
                a.value.sub(&b.value)
            }?;
            Some(Value::Quantity(Quantity {
                value: v,
                unit: a.unit.clone(),
            }))
        }
        BinOp::Add | BinOp::Sub if au == bu => {
            let v = if op == BinOp::Add {
                av.add(&bv)
            } else {
                av.sub(&bv)
            }?;
            Some(Value::Quantity(Quantity { value: v, unit: au }))
        }
        BinOp::Mul => {
            let unit = if au == "1" {
                bu
            } else if bu == "1" {
                au
            } else if au == bu {
                format!("{au}2")
            } else {
                format!("{au}.{bu}")
            };
            Some(Value::Quantity(Quantity {
                value: av.mul(&bv)?,
                unit,
            }))
        }
        BinOp::Div => {
            let unit = if a.unit == b.unit {
                "1".to_string()
            } else {
                format!("{}/{}", a.unit, b.unit)
            };
            Some(Value::Quantity(Quantity {
                value: a.value.div(&b.value)?,
                unit,
            }))
        }
        _ => None,
    }
}

fn temporal_of(v: &Value<'_>) -> Option<(Temporal, bool)> {
    match v {
        Value::Date(t) | Value::DateTime(t) => Some((*t, false)),
        Value::Time(t) => Some((*t, true)),
        _ => None,
    }
}

/// Converts a string operand to the temporal type of the other operand, as FHIRPath's implicit conversions do.
fn coerce_pair<'a>(x: Value<'a>, y: Value<'a>) -> (Value<'a>, Value<'a>) {
    let conv = |s: &str, like: &Value<'_>| -> Option<Value<'a>> {
        match like {
            Value::Date(_) | Value::DateTime(_) => Temporal::parse_datetime(s).map(|t| {
                if t.has_time() {
                    Value::DateTime(t)
                } else {
                    Value::Date(t)
                }
            }),
            Value::Time(_) => Temporal::parse_time(s).map(Value::Time),
            _ => None,
        }
    };
    match (&x, &y) {
        (Value::String(s), other) if temporal_of(other).is_some() => {
            (conv(s, other).unwrap_or(x.clone()), y)
        }
        (other, Value::String(s)) if temporal_of(other).is_some() => {
            let c = conv(s, other).unwrap_or(y.clone());
            (x, c)
        }
        _ => (x, y),
    }
}

/// Ordering of two single values; `Ok(None)` when it is unknown (different date precisions), an error when the
/// types cannot be compared.
pub(crate) fn compare(x: &Value<'_>, y: &Value<'_>) -> Result<Option<Ordering>, Error> {
    let (x, y) = coerce_pair(x.to_system(), y.to_system());
    if let (Some(a), Some(b)) = (as_decimal(&x), as_decimal(&y)) {
        return Ok(Some(a.cmp(&b)));
    }
    match (&x, &y) {
        (Value::String(a), Value::String(b)) => Ok(Some(a.cmp(b))),
        (Value::Quantity(a), Value::Quantity(b)) => {
            let (av, au) = a.canonical();
            let (bv, bu) = b.canonical();
            if au == bu {
                Ok(Some(av.cmp(&bv)))
            } else {
                Ok(None)
            }
        }
        _ => match (temporal_of(&x), temporal_of(&y)) {
            (Some((a, at)), Some((b, bt))) if at == bt => Ok(a.partial_compare(&b)),
            _ => Err(err(format!("cannot compare {x} with {y}"))),
        },
    }
}

/// FHIRPath `=` on two items: `None` when unknown.
pub(crate) fn equals(x: &Value<'_>, y: &Value<'_>) -> Option<bool> {
    if let (Value::Node(a), Value::Node(b)) = (x, y) {
        if a.json.is_object() || b.json.is_object() || a.json.is_array() {
            if a.type_info.is_some_and(|t| t.is_a("Quantity"))
                && b.type_info.is_some_and(|t| t.is_a("Quantity"))
            {
                // fall through to quantity comparison below
            } else {
                return Some(a.json == b.json);
            }
        }
    }
    let (x, y) = coerce_pair(x.to_system(), y.to_system());
    match (&x, &y) {
        (Value::String(a), Value::String(b)) => Some(a == b),
        (Value::Boolean(a), Value::Boolean(b)) => Some(a == b),
        (Value::Quantity(a), Value::Quantity(b)) => {
            let (av, au) = a.canonical();
            let (bv, bu) = b.canonical();
            if a.unit == b.unit {
                return Some(a.value == b.value);
            }
            // calendar years and months are not UCUM's definite 'a' and 'mo': their equality is unknown
            let cal = |q: &Quantity| Quantity::calendar_unit(&q.unit, false);
            if matches!(cal(a), Some("year" | "month")) || matches!(cal(b), Some("year" | "month"))
            {
                return if cal(a) == cal(b) {
                    Some(av == bv)
                } else if au == bu {
                    None
                } else {
                    Some(false)
                };
            }
            if au == bu {
                Some(av == bv)
            } else {
                Some(false)
            }
        }
        (Value::Node(a), Value::Node(b)) => Some(a.json == b.json),
        _ => {
            if let (Some(a), Some(b)) = (as_decimal(&x), as_decimal(&y)) {
                return Some(a == b);
            }
            match (temporal_of(&x), temporal_of(&y)) {
                (Some((a, at)), Some((b, bt))) if at == bt => {
                    a.partial_compare(&b).map(|o| o == Ordering::Equal)
                }
                _ => Some(false),
            }
        }
    }
}

fn collection_equals(a: &[Value<'_>], b: &[Value<'_>]) -> Option<bool> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    if a.len() != b.len() {
        return Some(false);
    }
    let mut unknown = false;
    for (x, y) in a.iter().zip(b) {
        match equals(x, y) {
            Some(false) => return Some(false),
            None => unknown = true,
            Some(true) => {}
        }
    }
    if unknown {
        None
    } else {
        Some(true)
    }
}

fn normalize_ws(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// FHIRPath `~` on two items.
pub(crate) fn equivalent(x: &Value<'_>, y: &Value<'_>) -> bool {
    if let (Value::Node(a), Value::Node(b)) = (x, y) {
        if a.json.is_object() && b.json.is_object() {
            return json_equivalent(a.json, b.json);
        }
    }
    let (x, y) = coerce_pair(x.to_system(), y.to_system());
    match (&x, &y) {
        (Value::String(a), Value::String(b)) => normalize_ws(a) == normalize_ws(b),
        (Value::Decimal(_), _) | (_, Value::Decimal(_))
            if as_decimal(&x).is_some() && as_decimal(&y).is_some() =>
        {
            let (a, b) = (
                as_decimal(&x).unwrap_or(Decimal::from_i64(0)),
                as_decimal(&y).unwrap_or(Decimal::from_i64(0)),
            );
            let s = a.scale().min(b.scale());
            a.rescale_round(s) == b.rescale_round(s)
        }
        (Value::Quantity(a), Value::Quantity(b)) => {
            let (av, au) = a.canonical();
            let (bv, bu) = b.canonical();
            let s = av.scale().min(bv.scale());
            au == bu && av.rescale_round(s) == bv.rescale_round(s)
        }
        _ => match (temporal_of(&x), temporal_of(&y)) {
            (Some((a, at)), Some((b, bt))) if at == bt => {
                a.partial_compare(&b) == Some(Ordering::Equal)
            }
            _ => equals(&x, &y) == Some(true),
        },
    }
}

fn json_equivalent(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Object(x), Json::Object(y)) => {
            let keys = |o: &serde_json::Map<String, Json>| -> Vec<String> {
                o.keys().filter(|k| k.as_str() != "id").cloned().collect()
            };
            let (kx, ky) = (keys(x), keys(y));
            kx.len() == ky.len()
                && kx
                    .iter()
                    .all(|k| y.get(k).is_some_and(|v| json_equivalent(&x[k], v)))
        }
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equivalent(a, b))
        }
        (Json::String(x), Json::String(y)) => normalize_ws(x) == normalize_ws(y),
        _ => a == b,
    }
}

fn collection_equivalent(a: &[Value<'_>], b: &[Value<'_>]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut used = vec![false; b.len()];
    a.iter().all(|x| {
        for (i, y) in b.iter().enumerate() {
            if !used[i] && equivalent(x, y) {
                used[i] = true;
                return true;
            }
        }
        false
    })
}

/// Whether a value is of the type named `ty` (`Patient`, `FHIR.Quantity`, `System.String`, `string`, ...).
pub(crate) fn value_is(v: &Value<'_>, ty: &str) -> bool {
    type_test(v, ty, false)
}

/// Whether a value passes `as`/`ofType` for `ty`: like [`value_is`], but a primitive only matches its own type.
pub(crate) fn value_as(v: &Value<'_>, ty: &str) -> bool {
    type_test(v, ty, true)
}

fn type_test(v: &Value<'_>, ty: &str, exact_primitives: bool) -> bool {
    let (ns, name) = match ty.split_once('.') {
        Some((ns, n)) if ns == "FHIR" || ns == "System" => (Some(ns), n),
        _ => (None, ty),
    };
    match v {
        Value::Node(n) => {
            if ns == Some("System") {
                return false;
            }
            match n.type_info {
                // `as`/`ofType` match a primitive's own type only (`code` is a `string` for `is`, but
                // `gender.as(string)` is empty), as the official suite requires
                Some(t) if exact_primitives && t.is_primitive() => t.name == name,
                Some(t) => t.is_a(name),
                None => {
                    // a node of unknown type: judge by its JSON form
                    let sys = match n.json {
                        Json::Bool(_) => "boolean",
                        Json::String(_) => "string",
                        Json::Number(x) if x.is_i64() => "integer",
                        Json::Number(_) => "decimal",
                        _ => return false,
                    };
                    sys == name
                }
            }
        }
        other => {
            if ns == Some("FHIR") {
                return false;
            }
            other.type_name().1 == Some(name)
        }
    }
}

/// Checks a type name of `is`, `as`, `ofType`: a FHIR type of the table or a System type.
pub(crate) fn check_type_name(ty: &str) -> Result<(), Error> {
    let (ns, name) = match ty.split_once('.') {
        Some((ns, n)) if ns == "FHIR" || ns == "System" => (Some(ns), n),
        _ => (None, ty),
    };
    let system = matches!(
        name,
        "Boolean"
            | "Integer"
            | "Decimal"
            | "String"
            | "Date"
            | "DateTime"
            | "Time"
            | "Quantity"
            | "Long"
    );
    let fhir = TypeInfo::named(name).is_some();
    let ok = match ns {
        Some("System") => system,
        Some(_) => fhir,
        None => system || fhir,
    };
    if ok {
        Ok(())
    } else {
        Err(err(format!("unknown type {ty}")))
    }
}
