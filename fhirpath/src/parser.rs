//! Lexer and precedence-climbing parser for FHIRPath (the grammar of FHIRPath N1, as FHIR R4 uses it).

use crate::value::{Decimal, Quantity, Temporal, Value};
use crate::Error;

/// A parsed expression tree.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    Empty,
    /// A literal: a system value (Boolean, Integer, Decimal, String, Date, DateTime, Time, Quantity).
    Literal(Value<'static>),
    /// An identifier at the start of a path: a member of `$this`, or the type of the context resource.
    Ident(String),
    This,
    Index,
    Total,
    Var(String),
    Member(Box<Expr>, String),
    /// `receiver.name(args)`, or `name(args)` on `$this` when the receiver is `None`.
    Call(Option<Box<Expr>>, String, Vec<Expr>),
    Indexer(Box<Expr>, Box<Expr>),
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Is(Box<Expr>, String),
    As(Box<Expr>, String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinOp {
    Mul,
    Div,
    IntDiv,
    Mod,
    Add,
    Sub,
    Concat,
    Union,
    Lt,
    Gt,
    Le,
    Ge,
    Eq,
    Ne,
    Equiv,
    NotEquiv,
    In,
    Contains,
    And,
    Or,
    Xor,
    Implies,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    /// A `backtick` identifier (never a keyword).
    Delimited(String),
    Str(String),
    Num(String),
    Long(i64),
    Date(String),
    Time(String),
    Var(String),
    Special(String),
    Sym(&'static str),
    End,
}

struct Lexer<'s> {
    src: &'s str,
    pos: usize,
}

const SYMBOLS: [&str; 22] = [
    "{", "}", "<=", ">=", "!=", "!~", ".", "[", "]", "(", ")", ",", "+", "-", "*", "/", "&", "|",
    "=", "~", "<", ">",
];

impl<'s> Lexer<'s> {
    fn err(&self, msg: impl Into<String>) -> Error {
        Error::Parse {
            expression: self.src.to_string(),
            position: self.pos,
            message: msg.into(),
        }
    }

    fn skip_ws(&mut self) -> Result<(), Error> {
        loop {
            let rest = &self.src[self.pos..];
            let trimmed = rest.trim_start();
            self.pos += rest.len() - trimmed.len();
            if trimmed.starts_with("//") {
                self.pos += trimmed.find('\n').unwrap_or(trimmed.len());
            } else if trimmed.starts_with("/*") {
                let end = trimmed
                    .find("*/")
                    .ok_or_else(|| self.err("unterminated comment"))?;
                self.pos += end + 2;
            } else {
                return Ok(());
            }
        }
    }

    fn quoted(&mut self, q: char) -> Result<String, Error> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        let mut chars = self.src[self.pos..].char_indices();
        while let Some((i, c)) = chars.next() {
            if c == q {
                self.pos += i + 1;
                return Ok(out);
            }
            if c == '\\' {
                let (_, e) = chars
                    .next()
                    .ok_or_else(|| self.err("unterminated escape"))?;
                match e {
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'f' => out.push('\u{c}'),
                    'u' => {
                        let hex: String = (0..4)
                            .filter_map(|_| chars.next().map(|(_, c)| c))
                            .collect();
                        let cp = u32::from_str_radix(&hex, 16)
                            .map_err(|_| self.err("bad \\u escape"))?;
                        out.push(char::from_u32(cp).ok_or_else(|| self.err("bad \\u escape"))?);
                    }
                    '\\' | '\'' | '"' | '`' | '/' => out.push(e),
                    other => return Err(self.err(format!("unknown escape \\{other}"))),
                }
            } else {
                out.push(c);
            }
        }
        self.pos = start;
        Err(self.err("unterminated string"))
    }

    fn next(&mut self) -> Result<Tok, Error> {
        self.skip_ws()?;
        let rest = &self.src[self.pos..];
        let Some(c) = rest.chars().next() else {
            return Ok(Tok::End);
        };
        if c == '\'' {
            return self.quoted('\'').map(Tok::Str);
        }
        if c == '`' {
            return self.quoted('`').map(Tok::Delimited);
        }
        if c == '@' {
            // digits and - : + T Z; a '.' only when a digit follows (milliseconds), not a member access
            let bytes = rest.as_bytes();
            let mut end = 1;
            while end < bytes.len() {
                let b = bytes[end];
                let ok = b.is_ascii_digit()
                    || b"-:+TZ".contains(&b)
                    || (b == b'.' && bytes.get(end + 1).is_some_and(|d| d.is_ascii_digit()));
                if !ok {
                    break;
                }
                end += 1;
            }
            let body = rest[1..end].to_string();
            self.pos += 1 + body.len();
            return Ok(if let Some(t) = body.strip_prefix('T') {
                Tok::Time(t.to_string())
            } else {
                Tok::Date(body)
            });
        }
        if c == '%' {
            self.pos += 1;
            let next = self.src[self.pos..].chars().next();
            return match next {
                Some('`') => self.quoted('`').map(Tok::Var),
                Some('\'') => self.quoted('\'').map(Tok::Var),
                _ => {
                    let name = self.ident_chars();
                    if name.is_empty() {
                        Err(self.err("expected a name after %"))
                    } else {
                        Ok(Tok::Var(name))
                    }
                }
            };
        }
        if c == '$' {
            self.pos += 1;
            let name = self.ident_chars();
            return Ok(Tok::Special(name));
        }
        if c.is_ascii_digit() {
            let int: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            let mut len = int.len();
            let after = &rest[len..];
            if after.starts_with('.') && after[1..].starts_with(|c: char| c.is_ascii_digit()) {
                len += 1 + after[1..]
                    .chars()
                    .take_while(|c| c.is_ascii_digit())
                    .count();
            }
            let text = rest[..len].to_string();
            self.pos += len;
            if self.src[self.pos..].starts_with('L') && !text.contains('.') {
                self.pos += 1;
                return text
                    .parse()
                    .map(Tok::Long)
                    .map_err(|_| self.err("long literal out of range"));
            }
            return Ok(Tok::Num(text));
        }
        if c.is_alphabetic() || c == '_' {
            return Ok(Tok::Ident(self.ident_chars()));
        }
        for s in SYMBOLS {
            if rest.starts_with(s) {
                self.pos += s.len();
                return Ok(Tok::Sym(s));
            }
        }
        Err(self.err(format!("unexpected character '{c}'")))
    }

    fn ident_chars(&mut self) -> String {
        let s: String = self.src[self.pos..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        self.pos += s.len();
        s
    }
}

pub(crate) struct Parser<'s> {
    lexer: Lexer<'s>,
    tok: Tok,
    tok_pos: usize,
}

fn prec(tok: &Tok) -> Option<(u8, BinOp)> {
    let (p, op) = match tok {
        Tok::Sym("*") => (10, BinOp::Mul),
        Tok::Sym("/") => (10, BinOp::Div),
        Tok::Ident(s) if s == "div" => (10, BinOp::IntDiv),
        Tok::Ident(s) if s == "mod" => (10, BinOp::Mod),
        Tok::Sym("+") => (9, BinOp::Add),
        Tok::Sym("-") => (9, BinOp::Sub),
        Tok::Sym("&") => (9, BinOp::Concat),
        Tok::Sym("|") => (7, BinOp::Union),
        Tok::Sym("<") => (6, BinOp::Lt),
        Tok::Sym(">") => (6, BinOp::Gt),
        Tok::Sym("<=") => (6, BinOp::Le),
        Tok::Sym(">=") => (6, BinOp::Ge),
        Tok::Sym("=") => (5, BinOp::Eq),
        Tok::Sym("!=") => (5, BinOp::Ne),
        Tok::Sym("~") => (5, BinOp::Equiv),
        Tok::Sym("!~") => (5, BinOp::NotEquiv),
        Tok::Ident(s) if s == "in" => (4, BinOp::In),
        Tok::Ident(s) if s == "contains" => (4, BinOp::Contains),
        Tok::Ident(s) if s == "and" => (3, BinOp::And),
        Tok::Ident(s) if s == "or" => (2, BinOp::Or),
        Tok::Ident(s) if s == "xor" => (2, BinOp::Xor),
        Tok::Ident(s) if s == "implies" => (1, BinOp::Implies),
        _ => return None,
    };
    Some((p, op))
}

/// Precedence of `is` / `as` (between additive and union).
const TYPE_PREC: u8 = 8;

impl<'s> Parser<'s> {
    pub(crate) fn parse(src: &'s str) -> Result<Expr, Error> {
        let mut p = Parser {
            lexer: Lexer { src, pos: 0 },
            tok: Tok::End,
            tok_pos: 0,
        };
        p.advance()?;
        let e = p.expr(0)?;
        if p.tok != Tok::End {
            return Err(p.err(format!("unexpected {:?}", p.tok)));
        }
        Ok(e)
    }

    fn err(&self, msg: impl Into<String>) -> Error {
        Error::Parse {
            expression: self.lexer.src.to_string(),
            position: self.tok_pos,
            message: msg.into(),
        }
    }

    fn advance(&mut self) -> Result<Tok, Error> {
        self.lexer.skip_ws()?;
        self.tok_pos = self.lexer.pos;
        let t = self.lexer.next()?;
        Ok(std::mem::replace(&mut self.tok, t))
    }

    fn expect(&mut self, s: &'static str) -> Result<(), Error> {
        if self.tok == Tok::Sym(s) {
            self.advance()?;
            Ok(())
        } else {
            Err(self.err(format!("expected '{s}', found {:?}", self.tok)))
        }
    }

    fn expr(&mut self, min: u8) -> Result<Expr, Error> {
        let mut lhs = self.unary()?;
        loop {
            if let Tok::Ident(s) = &self.tok {
                if (s == "is" || s == "as") && TYPE_PREC >= min {
                    let is = s == "is";
                    self.advance()?;
                    let ty = self.type_spec()?;
                    lhs = if is {
                        Expr::Is(Box::new(lhs), ty)
                    } else {
                        Expr::As(Box::new(lhs), ty)
                    };
                    continue;
                }
            }
            let Some((p, op)) = prec(&self.tok) else {
                break;
            };
            if p < min {
                break;
            }
            self.advance()?;
            let rhs = self.expr(p + 1)?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn type_spec(&mut self) -> Result<String, Error> {
        let mut name = self.ident()?;
        while self.tok == Tok::Sym(".") {
            self.advance()?;
            name.push('.');
            name.push_str(&self.ident()?);
        }
        Ok(name)
    }

    fn ident(&mut self) -> Result<String, Error> {
        match self.advance()? {
            Tok::Ident(s) | Tok::Delimited(s) => Ok(s),
            t => Err(self.err(format!("expected an identifier, found {t:?}"))),
        }
    }

    fn unary(&mut self) -> Result<Expr, Error> {
        match self.tok {
            Tok::Sym("-") => {
                self.advance()?;
                let e = self.unary()?;
                Ok(match e {
                    Expr::Literal(Value::Integer(i)) => Expr::Literal(Value::Integer(-i)),
                    Expr::Literal(Value::Decimal(d)) => Expr::Literal(Value::Decimal(d.neg())),
                    Expr::Literal(Value::Quantity(mut q)) => {
                        q.value = q.value.neg();
                        Expr::Literal(Value::Quantity(q))
                    }
                    e => Expr::Neg(Box::new(e)),
                })
            }
            Tok::Sym("+") => {
                self.advance()?;
                self.unary()
            }
            _ => self.postfix(),
        }
    }

    fn postfix(&mut self) -> Result<Expr, Error> {
        let mut e = self.term()?;
        loop {
            match self.tok {
                Tok::Sym(".") => {
                    self.advance()?;
                    let name = self.ident()?;
                    if self.tok == Tok::Sym("(") {
                        let args = self.args()?;
                        e = Expr::Call(Some(Box::new(e)), name, args);
                    } else {
                        e = Expr::Member(Box::new(e), name);
                    }
                }
                Tok::Sym("[") => {
                    self.advance()?;
                    let idx = self.expr(0)?;
                    self.expect("]")?;
                    e = Expr::Indexer(Box::new(e), Box::new(idx));
                }
                _ => return Ok(e),
            }
        }
    }

    fn args(&mut self) -> Result<Vec<Expr>, Error> {
        self.expect("(")?;
        let mut args = Vec::new();
        if self.tok == Tok::Sym(")") {
            self.advance()?;
            return Ok(args);
        }
        loop {
            args.push(self.expr(0)?);
            if self.tok == Tok::Sym(",") {
                self.advance()?;
            } else {
                self.expect(")")?;
                return Ok(args);
            }
        }
    }

    fn term(&mut self) -> Result<Expr, Error> {
        let tok = self.advance()?;
        Ok(match tok {
            Tok::Sym("(") => {
                let e = self.expr(0)?;
                self.expect(")")?;
                e
            }
            Tok::Sym("{") => {
                self.expect("}")?;
                Expr::Empty
            }
            Tok::Str(s) => Expr::Literal(Value::String(s)),
            Tok::Long(i) => Expr::Literal(Value::Integer(i)),
            Tok::Num(n) => {
                let unit = match &self.tok {
                    Tok::Str(u) => Some(u.clone()),
                    Tok::Ident(u) if Quantity::calendar_unit(u, false).is_some() => Some(u.clone()),
                    _ => None,
                };
                if let Some(unit) = unit {
                    self.advance()?;
                    let value = Decimal::parse(&n).ok_or_else(|| self.err("bad number"))?;
                    Expr::Literal(Value::Quantity(Quantity { value, unit }))
                } else if n.contains('.') {
                    Expr::Literal(Value::Decimal(
                        Decimal::parse(&n).ok_or_else(|| self.err("bad number"))?,
                    ))
                } else {
                    match n.parse::<i64>() {
                        Ok(i) if i <= i32::MAX as i64 => Expr::Literal(Value::Integer(i)),
                        _ => return Err(self.err(format!("integer {n} is out of range"))),
                    }
                }
            }
            Tok::Date(d) => {
                if d.contains('T') {
                    Expr::Literal(Value::DateTime(
                        Temporal::parse_datetime(&d)
                            .ok_or_else(|| self.err(format!("bad dateTime @{d}")))?,
                    ))
                } else {
                    Expr::Literal(Value::Date(
                        Temporal::parse_date(&d)
                            .ok_or_else(|| self.err(format!("bad date @{d}")))?,
                    ))
                }
            }
            Tok::Time(t) => Expr::Literal(Value::Time(
                Temporal::parse_time(&t).ok_or_else(|| self.err(format!("bad time @T{t}")))?,
            )),
            Tok::Var(v) => Expr::Var(v),
            Tok::Special(s) => match s.as_str() {
                "this" => Expr::This,
                "index" => Expr::Index,
                "total" => Expr::Total,
                _ => return Err(self.err(format!("unknown ${s}"))),
            },
            Tok::Ident(s) if s == "true" => Expr::Literal(Value::Boolean(true)),
            Tok::Ident(s) if s == "false" => Expr::Literal(Value::Boolean(false)),
            Tok::Ident(s) | Tok::Delimited(s) => {
                if self.tok == Tok::Sym("(") {
                    let args = self.args()?;
                    Expr::Call(None, s, args)
                } else {
                    Expr::Ident(s)
                }
            }
            Tok::End => return Err(self.err("unexpected end of expression")),
            t => return Err(self.err(format!("unexpected {t:?}"))),
        })
    }
}
