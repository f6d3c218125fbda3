//! Checking query pairs against the parameters a resource has: what [`Search::from_query`](super::Search::from_query)
//! does before it accepts a pair.

use super::encode::split_unescaped;
use super::{ParamInfo, ParamKind, Prefix, Searchable, Summary, Total, COMMON_PARAMS, COUNT_CAP};
use crate::primitives::{DateTime, Decimal, Instant};

/// Why a search could not be built or a query not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SearchError {
    /// A `%` escape is malformed or the text is not UTF-8.
    #[error("malformed percent-encoding in `{text}`")]
    Encoding {
        /// The encoded text.
        text: String,
    },
    /// The resource has no such parameter.
    #[error("{resource} has no search parameter `{name}`")]
    UnknownParameter {
        /// The resource type.
        resource: String,
        /// The parameter.
        name: String,
    },
    /// The parameter's kind has no such modifier.
    #[error("modifier `:{modifier}` is not allowed on `{param}` (a {kind:?} parameter)")]
    ModifierNotAllowed {
        /// The parameter.
        param: String,
        /// The modifier.
        modifier: String,
        /// The parameter's kind.
        kind: ParamKind,
    },
    /// The value does not fit the parameter.
    #[error("invalid value `{value}` for `{param}`: {reason}")]
    InvalidValue {
        /// The parameter.
        param: String,
        /// The value.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// A chain or include names a type the reference parameter does not point at.
    #[error("`{target}` is not a target type of the reference parameter `{param}`")]
    NotATarget {
        /// The parameter.
        param: String,
        /// The named type.
        target: String,
    },
    /// A chain through a parameter that is not a reference.
    #[error("`{param}` is not a reference parameter, so it cannot be chained or included")]
    NotAReference {
        /// The parameter.
        param: String,
    },
    /// A chain without type through a reference parameter with several targets.
    #[error("chain through `{param}` needs a type (`{param}:Type.`): it has several targets")]
    AmbiguousChain {
        /// The parameter.
        param: String,
    },
    /// A resource type that is unknown or whose cargo feature is off.
    #[error("unknown resource type `{name}` (or its cargo feature is off)")]
    UnknownResourceType {
        /// The type.
        name: String,
    },
    /// `_count` above [`COUNT_CAP`](super::COUNT_CAP) or not a number.
    #[error("_count `{count}` is not a number from 0 to {cap}")]
    CountOverCap {
        /// The value given.
        count: String,
        /// The cap.
        cap: u32,
    },
}

fn invalid(param: &str, value: &str, reason: impl Into<String>) -> SearchError {
    SearchError::InvalidValue { param: param.to_owned(), value: value.to_owned(), reason: reason.into() }
}

/// Spec-defined parameters kept as they are.
const PASSED_THROUGH: &[&str] = &["_filter", "_list", "_query", "_format", "_pretty"];

type Lookup = fn(&str) -> Option<&'static [ParamInfo]>;

/// Checks one decoded pair of a search of `R`.
pub(crate) fn check_pair<R: Searchable>(name: &str, value: &str) -> Result<(), SearchError> {
    let lookup: Lookup = R::search_params_of;
    if super::is_dstu2::<R>() && matches!(name.split(':').next(), Some("_source" | "_total")) {
        return Err(unknown(R::RESOURCE_TYPE, name));
    }
    let iterate = super::iterate_modifier::<R>();
    match name {
        "_count" => match value.parse::<u32>() {
            Ok(n) if n <= COUNT_CAP => Ok(()),
            _ => Err(SearchError::CountOverCap { count: value.to_owned(), cap: COUNT_CAP }),
        },
        "_sort" => {
            for key in value.split(',') {
                let code = key.strip_prefix('-').unwrap_or(key);
                let info = find(R::SEARCH_PARAMS, code)
                    .ok_or_else(|| unknown(R::RESOURCE_TYPE, code))?;
                if matches!(info.kind, ParamKind::Composite | ParamKind::Special) {
                    return Err(invalid("_sort", value, format!("`{code}` cannot be sorted by")));
                }
            }
            Ok(())
        }
        "_include" => check_include(name, value, R::RESOURCE_TYPE, false, lookup),
        _ if name.strip_prefix("_include:") == Some(iterate) => {
            check_include(name, value, R::RESOURCE_TYPE, true, lookup)
        }
        "_revinclude" => check_revinclude(name, value, R::RESOURCE_TYPE, lookup),
        _ if name.strip_prefix("_revinclude:") == Some(iterate) => {
            check_revinclude(name, value, R::RESOURCE_TYPE, lookup)
        }
        "_elements" => {
            if value.split(',').all(|e| !e.is_empty() && e.chars().all(|c| c.is_ascii_alphanumeric() || c == '.')) {
                Ok(())
            } else {
                Err(invalid(name, value, "expected element names separated by commas"))
            }
        }
        "_summary" => one_of(name, value, &Summary::ALL.map(Summary::as_str)),
        "_total" => one_of(name, value, &Total::ALL.map(Total::as_str)),
        _ if PASSED_THROUGH.contains(&name) || name.starts_with("_has:") => Ok(()),
        _ => check_filter(R::RESOURCE_TYPE, R::SEARCH_PARAMS, lookup, name, value),
    }
}

fn one_of(name: &str, value: &str, allowed: &[&str]) -> Result<(), SearchError> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(invalid(name, value, format!("expected one of {}", allowed.join(", "))))
    }
}

fn find(params: &'static [ParamInfo], code: &str) -> Option<&'static ParamInfo> {
    params.iter().chain(COMMON_PARAMS).find(|p| p.code == code)
}

fn unknown(resource: &str, name: &str) -> SearchError {
    SearchError::UnknownParameter { resource: resource.to_owned(), name: name.to_owned() }
}

fn is_target(info: &ParamInfo, target: &str, lookup: Lookup) -> bool {
    if info.targets.is_empty() {
        lookup(target).is_some()
    } else {
        info.targets.contains(&target)
    }
}

/// `Source:param[:Target]`.
fn check_include(name: &str, value: &str, resource: &str, iterate: bool, lookup: Lookup) -> Result<(), SearchError> {
    if value == "*" {
        return Ok(());
    }
    let parts: Vec<&str> = value.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return Err(invalid(name, value, "expected `Resource:parameter` or `Resource:parameter:Target`"));
    }
    if !iterate && parts[0] != resource {
        return Err(invalid(name, value, format!("`_include` names parameters of {resource} (use `_include:iterate`)")));
    }
    let params = lookup(parts[0]).ok_or_else(|| SearchError::UnknownResourceType { name: parts[0].to_owned() })?;
    let info = find(params, parts[1]).ok_or_else(|| unknown(parts[0], parts[1]))?;
    if info.kind != ParamKind::Reference {
        return Err(SearchError::NotAReference { param: parts[1].to_owned() });
    }
    if let Some(target) = parts.get(2) {
        if !is_target(info, target, lookup) {
            return Err(SearchError::NotATarget { param: parts[1].to_owned(), target: (*target).to_owned() });
        }
    }
    Ok(())
}

/// `Source:param[:Target]` whose parameter points at `resource`.
fn check_revinclude(name: &str, value: &str, resource: &str, lookup: Lookup) -> Result<(), SearchError> {
    let parts: Vec<&str> = value.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return Err(invalid(name, value, "expected `Resource:parameter`"));
    }
    check_include(name, value, parts[0], true, lookup)?;
    let params = lookup(parts[0]).ok_or_else(|| SearchError::UnknownResourceType { name: parts[0].to_owned() })?;
    let info = find(params, parts[1]).ok_or_else(|| unknown(parts[0], parts[1]))?;
    let target = parts.get(2).copied().unwrap_or(resource);
    if !is_target(info, target, lookup) {
        return Err(SearchError::NotATarget { param: format!("{}:{}", parts[0], parts[1]), target: target.to_owned() });
    }
    Ok(())
}

/// A filter parameter of `resource`: `code[:modifier][.chain]=value`.
fn check_filter(
    resource: &str,
    params: &'static [ParamInfo],
    lookup: Lookup,
    name: &str,
    value: &str,
) -> Result<(), SearchError> {
    let (head, chain) = match name.split_once('.') {
        Some((h, rest)) => (h, Some(rest)),
        None => (name, None),
    };
    let (code, modifier) = match head.split_once(':') {
        Some((c, m)) => (c, Some(m)),
        None => (head, None),
    };
    let info = find(params, code).ok_or_else(|| unknown(resource, code))?;
    if let Some(rest) = chain {
        if info.kind != ParamKind::Reference {
            return Err(SearchError::NotAReference { param: code.to_owned() });
        }
        let target = match modifier {
            Some(t) => t,
            None if info.targets.len() == 1 => info.targets[0],
            None => return Err(SearchError::AmbiguousChain { param: code.to_owned() }),
        };
        if !is_target(info, target, lookup) {
            return Err(SearchError::NotATarget { param: code.to_owned(), target: target.to_owned() });
        }
        let target_params = lookup(target).ok_or_else(|| SearchError::UnknownResourceType { name: target.to_owned() })?;
        return check_filter(target, target_params, lookup, rest, value);
    }
    match modifier {
        Some("missing") => return one_of(name, value, &["true", "false"]),
        // A type modifier (`subject:Patient`) must name one of the parameter's targets; a valid one is done here,
        // so it never reaches the check of the kind's modifiers below.
        Some(m) if info.kind == ParamKind::Reference && m.starts_with(|c: char| c.is_ascii_uppercase()) => {
            is_target(info, m, lookup)
                .then_some(())
                .ok_or_else(|| SearchError::NotATarget { param: code.to_owned(), target: m.to_owned() })?;
        }
        Some(m) if !info.kind.modifiers().contains(&m) => {
            return Err(SearchError::ModifierNotAllowed {
                param: code.to_owned(),
                modifier: m.to_owned(),
                kind: info.kind,
            })
        }
        _ => {}
    }
    if value.is_empty() {
        return Err(invalid(name, value, "empty value"));
    }
    for alternative in split_unescaped(value, ',') {
        if info.kind == ParamKind::Composite {
            let parts = split_unescaped(alternative, '$');
            if parts.len() != info.components.len() {
                return Err(invalid(name, value, format!("expected {} components joined by `$`", info.components.len())));
            }
            for (part, kind) in parts.iter().zip(info.components) {
                check_value(name, part, *kind)?;
            }
        } else if modifier.is_none() {
            check_value(name, alternative, info.kind)?;
        }
    }
    Ok(())
}

/// One OR alternative of a parameter without modifier.
fn check_value(name: &str, value: &str, kind: ParamKind) -> Result<(), SearchError> {
    if value.is_empty() {
        return Err(invalid(name, value, "empty value"));
    }
    let rest = if kind.has_prefixes() { Prefix::split(value).1 } else { value };
    match kind {
        ParamKind::Date if DateTime::new(rest).is_err() && Instant::new(rest).is_err() => {
            return Err(invalid(name, value, "not a FHIR date or dateTime after the prefix"));
        }
        ParamKind::Number => {
            Decimal::new(rest).map_err(|_| invalid(name, value, "not a number after the prefix"))?;
        }
        ParamKind::Quantity => {
            let number = split_unescaped(rest, '|')[0];
            Decimal::new(number).map_err(|_| invalid(name, value, "not a number after the prefix"))?;
        }
        _ => {}
    }
    Ok(())
}
