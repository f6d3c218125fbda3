//! A non-generic, zero-copy JSON reader that generated `read_json` functions drive.
//!
//! It reads straight from the input text (no intermediate `serde_json::Value`), keeps number text as written,
//! tracks the FHIR path of what it is reading, and in lenient mode records problems instead of stopping.

use super::error::{Issue, IssueKind, ParseError};
use super::{FhirJson, FhirStruct};
use crate::primitives::{ElementParts, Primitive, PrimitiveValue};
use crate::RawResource;
use std::borrow::Cow;

/// Deeper nesting than this is refused as malformed (protects the stack; real FHIR is far shallower).
const MAX_DEPTH: usize = 256;
/// When less stack than this is left, reading continues on a new segment of [`STACK_SEGMENT`] bytes.
const STACK_RED_ZONE: usize = 256 * 1024;
const STACK_SEGMENT: usize = 4 * 1024 * 1024;

#[derive(Debug, Clone)]
enum Seg {
    Name(&'static str),
    Owned(String),
    Index(usize),
}

/// Reading state: the input, the position, the FHIR path and (in lenient mode) the problems found so far.
pub struct Reader<'a> {
    /// The input. Outside strings JSON is ASCII, so only string tokens can hold other bytes; they are checked
    /// to be UTF-8 as they are lexed unless `text` says the whole input already is.
    src: &'a [u8],
    /// The same input as `str`, when it was given as one (no UTF-8 check needed).
    text: Option<&'a str>,
    pos: usize,
    depth: usize,
    strict: bool,
    path: Vec<Seg>,
    /// The primitive element being read, after `path`: it is not pushed there, because reading a primitive's
    /// value pushes nothing, and most elements are primitives (a store instead of a push and a pop).
    leaf: Option<&'static str>,
    /// Problems found (lenient mode). Their line and column are left at 0 while reading and computed once for
    /// all of them at the end from their byte offsets ([`locate`]), so reading stays linear in the input
    /// whatever the number of problems.
    issues: Vec<Issue>,
}

/// Choice elements (`value[x]`): one generated enum per element implements this.
pub trait Choice: Sized {
    /// Reads the value of key `{name}{type_suffix}` (or `_{name}{type_suffix}` when `extension_part`).
    fn read_variant(
        r: &mut Reader<'_>,
        slot: &mut Option<Self>,
        type_suffix: &str,
        extension_part: bool,
    ) -> Result<(), ParseError>;
    /// Writes `{name}{Type}` (and `_{name}{Type}` for primitives with extensions).
    fn write_variant(&self, w: &mut super::Writer, name: &str);
}

/// Length of the JSON number at the start of `b` (the JSON grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`).
pub(crate) fn json_number_len(b: &[u8]) -> Result<usize, &'static str> {
    let digits = |i: &mut usize| {
        let s = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > s
    };
    let mut i = 0;
    if b.first() == Some(&b'-') {
        i += 1;
    }
    if b.get(i) == Some(&b'0') {
        i += 1;
    } else if !digits(&mut i) {
        return Err("invalid number");
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return Err("invalid number: digits must follow the decimal point");
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return Err("invalid number: digits must follow the exponent");
        }
    }
    Ok(i)
}

/// The room for a document's FHIR path while it is read, kept by callers that read many documents (NDJSON) so
/// that each one does not allocate its own.
#[derive(Default)]
pub(crate) struct PathRoom(Vec<Seg>);

/// Reads a whole document given as text. A leading byte-order mark is skipped.
pub(crate) fn read_document<T: FhirJson>(text: &str, strict: bool) -> Result<(T, Vec<Issue>), ParseError> {
    read_input(text.as_bytes(), Some(text), strict, &mut PathRoom::default())
}

/// Reads a whole document given as bytes: string tokens are checked to be UTF-8 as they are lexed (everything
/// else in JSON is ASCII), so invalid UTF-8 is a syntax error at its byte offset. A leading byte-order mark is
/// skipped. `room` is reused for the path.
pub(crate) fn read_document_bytes<T: FhirJson>(
    bytes: &[u8],
    strict: bool,
    room: &mut PathRoom,
) -> Result<(T, Vec<Issue>), ParseError> {
    // The standard library's check of a whole buffer is many times faster than checking each string token on
    // its own (most FHIR JSON is ASCII, which it tests a word at a time). When it passes, the checks while
    // lexing could not fail, so they are skipped; when it fails, the document is lexed with them, which finds
    // the bad byte with its FHIR path (or an earlier problem, as reading text would).
    // Tried instead (2026-12-03): no whole-buffer check, the string scan telling ASCII runs apart (its high-bit
    // mask) so that only other tokens are checked. It saved this pass (3 % of r4 NDJSON parse instructions) but
    // the extra mask in the key loop cost as much there (register spills): r4 NDJSON -0.5 %, r4 payer and
    // DSTU2 examples +1.5 % parse instructions. Not kept.
    match std::str::from_utf8(bytes) {
        Ok(text) => read_input(bytes, Some(text), strict, room),
        Err(_) => read_input(bytes, None, strict, room),
    }
}

fn read_input<T: FhirJson>(
    src: &[u8],
    text: Option<&str>,
    strict: bool,
    room: &mut PathRoom,
) -> Result<(T, Vec<Issue>), ParseError> {
    let bom = if src.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
    let mut path = std::mem::take(&mut room.0);
    path.clear();
    // One allocation for the path of any real document (FHIR nests a dozen levels or so).
    path.reserve(32);
    path.push(Seg::Name(T::TYPE_NAME));
    let mut r = Reader::new(src, text, strict, path);
    r.pos = bom;
    let read = r.read_root::<T>();
    room.0 = std::mem::take(&mut r.path);
    match read {
        Ok(value) => {
            let mut issues = r.issues;
            locate(src, &mut issues);
            Ok((value, issues))
        }
        Err(mut e) => {
            locate(src, std::slice::from_mut(&mut *e.issue));
            Err(e)
        }
    }
}

/// Fills in the line and column of issues from their byte offsets, in one pass over the input for all of them.
fn locate(src: &[u8], issues: &mut [Issue]) {
    let mut order: Vec<usize> = (0..issues.len()).collect();
    order.sort_by_key(|&i| issues[i].offset);
    let (mut line, mut line_start, mut scanned) = (1, 0, 0);
    for i in order {
        let offset = issues[i].offset.min(src.len());
        for (k, &b) in src[scanned..offset].iter().enumerate() {
            if b == b'\n' {
                line += 1;
                line_start = scanned + k + 1;
            }
        }
        scanned = scanned.max(offset);
        issues[i].line = line;
        issues[i].column = offset - line_start + 1;
    }
}

impl<'a> Reader<'a> {
    /// A reader at the start of `src` (`text`: the same input as `str`, when it is known to be UTF-8).
    fn new(src: &'a [u8], text: Option<&'a str>, strict: bool, path: Vec<Seg>) -> Self {
        Reader { src, text, pos: 0, depth: 0, strict, path, leaf: None, issues: Vec::new() }
    }

    // ----- position, path and problems -------------------------------------------------------------------------

    #[inline(always)]
    fn skip_ws(&mut self) {
        // Compact JSON (what servers send) has no white space between tokens: one comparison in that case.
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.src.get(self.pos) {
            self.pos += 1;
        }
    }

    #[inline(always)]
    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.src.get(self.pos).copied()
    }

    #[inline(always)]
    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn read_root<T: FhirJson>(&mut self) -> Result<T, ParseError> {
        let value = T::read_json(self)?;
        self.skip_ws();
        if self.pos < self.src.len() {
            return Err(self.syntax("unexpected text after the end of the JSON value"));
        }
        match value {
            Some(v) => Ok(v),
            None => {
                let first = if self.issues.is_empty() { None } else { Some(self.issues.remove(0)) };
                Err(ParseError::new(first.unwrap_or_else(|| Issue {
                    kind: IssueKind::WrongType,
                    path: T::TYPE_NAME.to_owned(),
                    message: "the document holds no usable value".to_owned(),
                    offset: 0,
                    line: 0,
                    column: 0,
                    dropped: None,
                })))
            }
        }
    }

    /// The FHIR path of what is being read, e.g. `Observation.component[2].value[x]`.
    pub fn path(&self) -> String {
        let mut out = String::new();
        let leaf = self.leaf.map(Seg::Name);
        for seg in self.path.iter().chain(leaf.as_ref()) {
            let name = match seg {
                Seg::Name(n) => *n,
                Seg::Owned(n) => n.as_str(),
                Seg::Index(i) => {
                    out.push_str(&format!("[{i}]"));
                    continue;
                }
            };
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(name);
        }
        out
    }

    fn issue_at(&self, kind: IssueKind, pos: usize, message: String, dropped: Option<&str>) -> Issue {
        // Line and column are filled in once for all issues when reading ends (see `locate`).
        Issue { kind, path: self.path(), message, offset: pos, line: 0, column: 0, dropped: dropped.map(str::to_owned) }
    }

    #[cold]
    #[inline(never)]
    fn syntax(&self, message: &str) -> ParseError {
        ParseError::new(self.issue_at(IssueKind::Syntax, self.pos, message.to_owned(), None))
    }

    /// Records a problem found at byte `pos`: an error in strict mode, an entry of the issue list in lenient mode.
    fn report(&mut self, kind: IssueKind, pos: usize, message: String, dropped: Option<&str>) -> Result<(), ParseError> {
        let issue = self.issue_at(kind, pos, message, dropped);
        if self.strict {
            Err(ParseError::new(issue))
        } else {
            self.issues.push(issue);
            Ok(())
        }
    }

    /// Skips the value at the position and reports it as unusable (its JSON text goes into the issue).
    fn drop_value(&mut self, kind: IssueKind, message: String) -> Result<(), ParseError> {
        self.skip_ws();
        let start = self.pos;
        if self.strict {
            return self.report(kind, start, message, None);
        }
        let text = self.skip_value()?;
        self.report(kind, start, message, Some(text))
    }

    fn wrong_type(&mut self, expected: &str) -> Result<(), ParseError> {
        let found = match self.peek() {
            Some(b'{') => "an object",
            Some(b'[') => "an array",
            Some(b'"') => "a string",
            Some(b't' | b'f') => "a boolean",
            Some(b'n') => "null",
            Some(b'-' | b'0'..=b'9') => "a number",
            _ => return Err(self.syntax("expected a JSON value")),
        };
        self.drop_value(IssueKind::WrongType, format!("expected {expected}, found {found}"))
    }

    /// Reports a primitive whose text is not valid for its type (kept in lenient mode by the caller).
    #[doc(hidden)]
    pub fn invalid_value(&mut self, start: usize, message: String) -> Result<(), ParseError> {
        self.report(IssueKind::InvalidValue, start, message, None)
    }

    /// Reports a code that is not in the element's required value set (the caller keeps it as unrecognized).
    #[doc(hidden)]
    pub fn unknown_code(&mut self, start: usize, code: &str, value_set: &str) -> Result<(), ParseError> {
        self.report(IssueKind::UnknownCode, start, format!("code `{code}` is not in the value set {value_set}"), None)
    }

    fn with_name<T>(
        &mut self,
        name: &'static str,
        f: impl FnOnce(&mut Self) -> Result<T, ParseError>,
    ) -> Result<T, ParseError> {
        self.path.push(Seg::Name(name));
        let out = f(self);
        self.path.pop();
        out
    }

    fn duplicate(&mut self) -> Result<(), ParseError> {
        self.drop_value(IssueKind::Duplicate, "the element is given more than once".to_owned())
    }

    /// Starts reading element `name` (pushed on the path): `Ok(true)` when its value is to be read, then
    /// [`Reader::end_element`] must follow; `Ok(false)` when it is a duplicate (`present`), already reported and
    /// skipped. Non-generic, so that the element readers instantiated per type (`complex::<T>`, ...) hold no
    /// closure and no copy of the path handling: only what depends on `T`.
    #[inline(never)]
    fn begin_element(&mut self, name: &'static str, present: bool) -> Result<bool, ParseError> {
        self.push_name(name);
        if !present {
            return Ok(true);
        }
        let res = self.duplicate();
        self.path.pop();
        res.map(|()| false)
    }

    /// Enters element `name` (on the path), out of line: one copy of `Vec::push`, not one per element reader.
    #[inline(never)]
    fn push_name(&mut self, name: &'static str) {
        debug_assert!(self.leaf.is_none(), "reading a primitive's value pushes nothing on the path");
        self.path.push(Seg::Name(name));
    }

    /// Enters primitive element `name` (see `leaf`): two stores, no larger than a call.
    #[inline(always)]
    fn enter_leaf(&mut self, name: &'static str) {
        self.leaf = Some(name);
    }

    /// Leaves the primitive element [`Reader::enter_leaf`] entered.
    #[inline(always)]
    fn leave_leaf(&mut self) {
        self.leaf = None;
    }

    /// Leaves the element [`Reader::begin_element`] or [`Reader::push_name`] entered (out of line too).
    #[inline(never)]
    fn end_element(&mut self) {
        self.path.pop();
    }

    // ----- tokens ------------------------------------------------------------------------------------------------

    /// Position of the next token (after white space): where a value starts, for issues about it.
    #[doc(hidden)]
    pub fn value_start(&mut self) -> usize {
        self.skip_ws();
        self.pos
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.syntax("JSON nested too deeply"));
        }
        Ok(())
    }

    /// The input between two byte offsets that lexing found to be token boundaries, as text: checked to be
    /// UTF-8 here unless the input was given as `str`.
    #[inline(always)]
    fn text_between(&self, start: usize, end: usize) -> Result<&'a str, ParseError> {
        if let Some(text) = self.text {
            // Token boundaries are ASCII bytes (quotes, structural characters), so always char boundaries.
            return text.get(start..end).ok_or_else(|| self.syntax("a token does not end on a character boundary"));
        }
        std::str::from_utf8(&self.src[start..end]).map_err(|e| self.invalid_utf8(start + e.valid_up_to()))
    }

    #[cold]
    #[inline(never)]
    fn invalid_utf8(&self, at: usize) -> ParseError {
        ParseError::new(self.issue_at(IssueKind::Syntax, at, format!("invalid UTF-8 at byte {at}"), None))
    }

    /// A string token (an object key, a string value). There is one for every element read and nearly all are
    /// plain, so this is inlined where it is needed: the plain case is sliced out here, and whatever ended the
    /// run before the closing quote (an escape, or an error) is read out of line by [`Reader::string_rest`].
    #[inline(always)]
    fn string_token(&mut self) -> Result<Cow<'a, str>, ParseError> {
        if self.peek() != Some(b'"') {
            return Err(self.syntax("expected a string"));
        }
        let start = self.pos + 1;
        self.pos = scan_string(self.src, start);
        if self.src.get(self.pos) == Some(&b'"') {
            let s = self.text_between(start, self.pos)?;
            self.pos += 1;
            return Ok(Cow::Borrowed(s));
        }
        self.string_rest(start).map(Cow::Owned)
    }

    /// The rest of a string token whose plain run (from `start`) ended at a byte other than its closing quote:
    /// an escape (rare in FHIR JSON but for narratives), a control character or the end of the input. Out of
    /// line, so that the plain path of [`Reader::string_token`] stays small at its callers.
    #[cold]
    #[inline(never)]
    fn string_rest(&mut self, start: usize) -> Result<String, ParseError> {
        let bytes = self.src;
        // Room for more than the text before the first escape: a narrative's first escape comes early
        // (`<div xmlns=\"...`), and growing from there was a third of this function's cost.
        let mut out = String::with_capacity(4 * (self.pos - start) + 128);
        let mut run = start;
        loop {
            self.pos = scan_string(bytes, self.pos);
            match bytes.get(self.pos) {
                Some(b'"') => {
                    out.push_str(self.text_between(run, self.pos)?);
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    out.push_str(self.text_between(run, self.pos)?);
                    self.pos += 1;
                    let esc = *bytes.get(self.pos).ok_or_else(|| self.syntax("unterminated string"))?;
                    self.pos += 1;
                    match esc {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let c = if (0xD800..0xDC00).contains(&hi) {
                                if bytes.get(self.pos) == Some(&b'\\') && bytes.get(self.pos + 1) == Some(&b'u') {
                                    self.pos += 2;
                                    let lo = self.hex4()?;
                                    if !(0xDC00..0xE000).contains(&lo) {
                                        return Err(self.syntax("invalid low surrogate in \\u escape"));
                                    }
                                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                                } else {
                                    None
                                }
                            } else {
                                char::from_u32(hi)
                            };
                            out.push(c.ok_or_else(|| self.syntax("unpaired surrogate in \\u escape"))?);
                        }
                        _ => return Err(self.syntax("invalid escape in a string")),
                    }
                    run = self.pos;
                }
                Some(_) => return Err(self.syntax("control character in a string")),
                None => return Err(self.syntax("unterminated string")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let digits = self.src.get(self.pos..self.pos + 4).ok_or_else(|| self.syntax("short \\u escape"))?;
        let v = hex4_value(digits).ok_or_else(|| self.syntax("invalid \\u escape"))?;
        self.pos += 4;
        Ok(v)
    }

    fn number_token(&mut self) -> Result<&'a str, ParseError> {
        self.skip_ws();
        let start = self.pos;
        match json_number_len(&self.src[start..]) {
            Ok(len) => {
                self.pos += len;
                self.text_between(start, start + len)
            }
            Err(problem) => Err(self.syntax(problem)),
        }
    }

    fn literal(&mut self, word: &str) -> Result<(), ParseError> {
        self.skip_ws();
        if self.src[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.syntax("invalid literal"))
        }
    }

    /// Skips one JSON value (validating it) and returns its text.
    fn skip_value(&mut self) -> Result<&'a str, ParseError> {
        self.skip_ws();
        let start = self.pos;
        match self.peek() {
            Some(b'{') => {
                self.enter()?;
                self.pos += 1;
                if !self.eat(b'}') {
                    loop {
                        self.string_token()?;
                        if !self.eat(b':') {
                            return Err(self.syntax("expected `:` after an object key"));
                        }
                        self.skip_value()?;
                        if self.eat(b',') {
                            continue;
                        }
                        if self.eat(b'}') {
                            break;
                        }
                        return Err(self.syntax("expected `,` or `}` in an object"));
                    }
                }
                self.depth -= 1;
            }
            Some(b'[') => {
                self.enter()?;
                self.pos += 1;
                if !self.eat(b']') {
                    loop {
                        self.skip_value()?;
                        if self.eat(b',') {
                            continue;
                        }
                        if self.eat(b']') {
                            break;
                        }
                        return Err(self.syntax("expected `,` or `]` in an array"));
                    }
                }
                self.depth -= 1;
            }
            Some(b'"') => {
                self.string_token()?;
            }
            Some(b't') => self.literal("true")?,
            Some(b'f') => self.literal("false")?,
            Some(b'n') => self.literal("null")?,
            Some(b'-' | b'0'..=b'9') => {
                self.number_token()?;
            }
            Some(_) => return Err(self.syntax("expected a JSON value")),
            None => return Err(self.syntax("unexpected end of input")),
        }
        self.text_between(start, self.pos)
    }

    // ----- values for primitive types ----------------------------------------------------------------------------

    /// Reads a JSON string; `None` when it was something else (reported).
    #[doc(hidden)]
    pub fn read_string(&mut self, expected: &str) -> Result<Option<Cow<'a, str>>, ParseError> {
        if self.peek() == Some(b'"') {
            self.string_token().map(Some)
        } else {
            self.wrong_type(expected).map(|_| None)
        }
    }

    /// Reads a JSON number's text as written; `None` when it was something else (reported).
    #[doc(hidden)]
    pub fn read_number(&mut self, expected: &str) -> Result<Option<&'a str>, ParseError> {
        if matches!(self.peek(), Some(b'-' | b'0'..=b'9')) {
            self.number_token().map(Some)
        } else {
            self.wrong_type(expected).map(|_| None)
        }
    }

    /// Reads `true` or `false`; `None` when it was something else (reported).
    #[doc(hidden)]
    pub fn read_bool(&mut self) -> Result<Option<bool>, ParseError> {
        match self.peek() {
            Some(b't') => self.literal("true").map(|_| Some(true)),
            Some(b'f') => self.literal("false").map(|_| Some(false)),
            _ => self.wrong_type("a boolean").map(|_| None),
        }
    }

    // ----- objects -----------------------------------------------------------------------------------------------

    /// Reads a JSON object, handing each key to `visit`, which reads the value and answers whether it knew the
    /// key. Unknown keys are an error (strict) or a reported, dropped element (lenient). Returns `false` when the
    /// value was not an object at all (reported and skipped).
    ///
    /// `visit` is a `dyn` closure, so this loop is compiled once, not once per generated type. Measured
    /// (2026-12-03) with `impl FnMut` instead: parse instructions -2.6..-3.3 % (r4 NDJSON, r4 payer, DSTU2
    /// examples), parse time within the machine's noise, but a copy of the loop in every type: the bench binary
    /// 12.9 -> 15.4 MB, and the all-R4 release build (`scripts/measure-compile.sh r4`) 1:15-1:17 -> 1:31-1:37
    /// and 1,353 -> 1,534-1,539 MiB peak.
    #[allow(clippy::manual_is_multiple_of)] // `usize::is_multiple_of` is newer than the crate's rust-version (1.80)
    #[doc(hidden)]
    pub fn read_object(
        &mut self,
        visit: &mut dyn FnMut(&mut Reader<'a>, &str) -> Result<bool, ParseError>,
    ) -> Result<bool, ParseError> {
        // Generated readers recurse once per nesting level, with large frames in debug builds; on small thread
        // stacks (test threads, async runtimes) a deep resource would overflow. Grow the stack on the heap when
        // it runs low instead.
        // The check costs a thread-local read and a call per object, so it is made every fourth level only: the
        // red zone is far more than four levels of frames.
        if self.depth % 4 == 0 {
            stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, || self.read_object_here(visit))
        } else {
            self.read_object_here(visit)
        }
    }

    fn read_object_here(
        &mut self,
        visit: &mut dyn FnMut(&mut Reader<'a>, &str) -> Result<bool, ParseError>,
    ) -> Result<bool, ParseError> {
        if self.peek() != Some(b'{') {
            self.wrong_type("an object")?;
            return Ok(false);
        }
        self.enter()?;
        self.pos += 1;
        if !self.eat(b'}') {
            loop {
                let key = self.string_token()?;
                if !self.eat(b':') {
                    return Err(self.syntax("expected `:` after an object key"));
                }
                if !visit(self, &key)? {
                    self.unknown_element(key)?;
                }
                if self.eat(b',') {
                    continue;
                }
                if self.eat(b'}') {
                    break;
                }
                return Err(self.syntax("expected `,` or `}` in an object"));
            }
        }
        self.depth -= 1;
        Ok(true)
    }

    /// A key the object's type does not define: an error (strict) or a reported, dropped element (lenient). Out
    /// of line, so that the loop over an object's keys keeps a small frame.
    #[cold]
    #[inline(never)]
    fn unknown_element(&mut self, key: Cow<'a, str>) -> Result<(), ParseError> {
        self.path.push(Seg::Owned(key.into_owned()));
        let res = self.drop_value(IssueKind::UnknownElement, "this element is not defined here".to_owned());
        self.path.pop();
        res
    }

    /// Reads an array, calling `item` with each index. Returns `false` when the value was not an array.
    /// `objects`: the items must be objects, and a `null` one is reported as the wrong type (skipped when
    /// lenient) instead of being passed to `item`: checked here once, not in every list reader (one per type).
    fn read_array(
        &mut self,
        objects: bool,
        item: &mut dyn FnMut(&mut Reader<'a>, usize) -> Result<(), ParseError>,
    ) -> Result<bool, ParseError> {
        if self.peek() != Some(b'[') {
            self.wrong_type("an array")?;
            return Ok(false);
        }
        self.enter()?;
        let start = self.pos;
        self.pos += 1;
        if self.eat(b']') {
            // FHIR JSON forbids empty arrays: an error when strict, reported (with its text) when lenient.
            self.report(IssueKind::EmptyArray, start, "an array must not be empty".to_owned(), Some("[]"))?;
        } else {
            let mut i = 0;
            loop {
                self.path.push(Seg::Index(i));
                let res =
                    if objects && self.peek() == Some(b'n') { self.wrong_type("an object") } else { item(self, i) };
                self.path.pop();
                res?;
                i += 1;
                if self.eat(b',') {
                    continue;
                }
                if self.eat(b']') {
                    break;
                }
                return Err(self.syntax("expected `,` or `]` in an array"));
            }
        }
        self.depth -= 1;
        Ok(true)
    }

    fn is_null(&mut self) -> Result<bool, ParseError> {
        if self.peek() == Some(b'n') {
            self.literal("null")?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    // ----- element readers used by generated code ----------------------------------------------------------------

    /// `"resourceType": "X"` inside a resource object: checks it names `expected`.
    #[inline(never)]
    #[doc(hidden)]
    pub fn resource_type(&mut self, expected: &'static str) -> Result<(), ParseError> {
        let start = self.value_start();
        self.with_name("resourceType", |r| {
            if let Some(found) = r.read_string("a resource type name")? {
                if found != expected {
                    r.report(
                        IssueKind::UnknownResourceType,
                        start,
                        format!("resourceType is `{found}`, expected `{expected}`"),
                        None,
                    )?;
                }
            }
            Ok(())
        })
    }

    /// Finds the `resourceType` of the object at the position without consuming it (it is usually the first
    /// key, so this reads a few bytes; otherwise it scans the object's keys). `None` when there is none or the
    /// value is not an object (both reported, the value skipped).
    #[doc(hidden)]
    pub fn peek_resource_type(&mut self) -> Result<Option<Cow<'a, str>>, ParseError> {
        if self.peek() != Some(b'{') {
            self.wrong_type("a resource object")?;
            return Ok(None);
        }
        let start = self.pos;
        self.pos += 1;
        let mut found = None;
        if !self.eat(b'}') {
            loop {
                let key = self.string_token()?;
                if !self.eat(b':') {
                    return Err(self.syntax("expected `:` after an object key"));
                }
                if key == "resourceType" && self.peek() == Some(b'"') {
                    found = Some(self.string_token()?);
                    break;
                }
                self.skip_value()?;
                if self.eat(b',') {
                    continue;
                }
                if self.eat(b'}') {
                    break;
                }
                return Err(self.syntax("expected `,` or `}` in an object"));
            }
        }
        self.pos = start;
        if found.is_none() {
            self.drop_value(IssueKind::UnknownResourceType, "the resource has no `resourceType`".to_owned())?;
        }
        Ok(found)
    }

    /// A resource whose type is not compiled in, kept whole as JSON text (`Resource::Other`). `known`: the FHIR
    /// version defines the type and only its feature is off; kept silently. A type the version does not define
    /// is an error in strict mode, and reported (and kept) in lenient mode.
    #[doc(hidden)]
    pub fn raw_resource(&mut self, resource_type: &str, known: bool) -> Result<Option<RawResource>, ParseError> {
        let start = self.value_start();
        if !known {
            self.report(
                IssueKind::UnknownResourceType,
                start,
                format!("resource type `{resource_type}` is not defined in this FHIR version; kept as JSON text"),
                None,
            )?;
        }
        let text = self.skip_value()?;
        Ok(Some(RawResource::from_text(resource_type, text, known)))
    }

    /// Reads one struct straight into a `Box` (the variants of `Resource`, choice variants, types that contain
    /// themselves): its members are read into the boxed default, so the struct is never built on the stack and
    /// then copied to the heap (resources are large: those copies were 2 % of reading r4 NDJSON).
    #[inline(never)]
    #[doc(hidden)]
    pub fn read_boxed<T: FhirStruct>(&mut self) -> Result<Option<Box<T>>, ParseError> {
        let mut value = Box::<T>::default();
        Ok(if T::read_fields(self, &mut value)? { Some(value) } else { None })
    }

    /// A generated struct's [`FhirJson::read_json_into`]: its members read into a default value in the slot.
    #[inline]
    #[doc(hidden)]
    pub fn struct_into<T: FhirStruct>(&mut self, slot: &mut Option<T>) -> Result<(), ParseError> {
        // A `match` rather than `Option::insert`, which would be one more generic function per type to compile.
        *slot = Some(T::default());
        let Some(v) = slot else { return Ok(()) };
        if !T::read_fields(self, v)? {
            *slot = None;
        }
        Ok(())
    }

    /// Names the root of the path after the resource type (for `Resource` read at the top level).
    #[doc(hidden)]
    pub fn enter_resource(&mut self, type_name: &'static str) {
        if self.path.len() == 1 {
            self.path[0] = Seg::Name(type_name);
        }
    }

    /// A plain string element without extensions (`Element.id`, `Extension.url`).
    #[inline(never)]
    #[doc(hidden)]
    pub fn plain_string(&mut self, slot: &mut Option<String>, name: &'static str) -> Result<(), ParseError> {
        self.leaf = Some(name);
        let res = if slot.is_some() {
            self.duplicate()
        } else {
            self.read_string("a string").map(|s| *slot = s.map(Cow::into_owned))
        };
        self.leaf = None;
        res
    }

    /// A complex element (`"code": {...}`).
    #[inline(never)]
    #[doc(hidden)]
    pub fn complex<T: FhirJson>(&mut self, slot: &mut Option<T>, name: &'static str) -> Result<(), ParseError> {
        if self.begin_element(name, slot.is_some())? {
            let res = T::read_json_into(self, slot);
            self.end_element();
            res?;
        }
        Ok(())
    }

    /// A complex element stored in a `Box` (types that contain themselves).
    #[inline(never)]
    #[doc(hidden)]
    pub fn boxed<T: FhirStruct>(&mut self, slot: &mut Option<Box<T>>, name: &'static str) -> Result<(), ParseError> {
        if self.begin_element(name, slot.is_some())? {
            let value = self.read_boxed::<T>();
            self.end_element();
            *slot = value?;
        }
        Ok(())
    }

    /// A list of complex elements (`"coding": [...]`): each item is read in place, into a default value pushed
    /// onto the list, not built apart and then moved there.
    #[inline(never)]
    #[doc(hidden)]
    #[allow(unsafe_code)]
    pub fn complex_list<T: FhirStruct>(&mut self, slot: &mut Vec<T>, name: &'static str) -> Result<(), ParseError> {
        self.list_of(slot, name, |r, slot| {
            let i = slot.len();
            // The default is written straight into the list's free room: `push` builds it on the stack first and
            // copies it there (a `memcpy` of the whole struct per item), since it may have to grow the list in
            // between. Not `resize_with`, which writes in place too but is one more generic function per type:
            // measured +60 MiB of peak memory for the all-R4 build.
            slot.reserve(1);
            slot.spare_capacity_mut()[0].write(T::default());
            // SAFETY: the item at `i` (the old length, within the capacity just reserved) was initialised above.
            unsafe { slot.set_len(i + 1) };
            let read = T::read_fields(r, &mut slot[i]);
            if !matches!(read, Ok(true)) {
                // Dropped where it is, not moved out first as `pop` would.
                slot.truncate(i);
            }
            read.map(|_| ())
        })
    }

    /// A list of resources (`"contained": [...]`): the `Resource` enum learns its variant from `resourceType`,
    /// so each item is read apart and then pushed.
    #[inline(never)]
    #[doc(hidden)]
    pub fn resource_list<T: FhirJson>(&mut self, slot: &mut Vec<T>, name: &'static str) -> Result<(), ParseError> {
        self.list_of(slot, name, |r, slot| {
            let mut item = None;
            T::read_json_into(r, &mut item)?;
            slot.extend(item);
            Ok(())
        })
    }

    /// The array of a list of objects: `read_item` reads one non-null item onto the list.
    #[inline(always)]
    fn list_of<T>(
        &mut self,
        slot: &mut Vec<T>,
        name: &'static str,
        mut read_item: impl FnMut(&mut Reader<'a>, &mut Vec<T>) -> Result<(), ParseError>,
    ) -> Result<(), ParseError> {
        if self.begin_element(name, !slot.is_empty())? {
            let res = self.read_array(true, &mut |r, _| {
                // Most FHIR lists hold one item (a `coding`, an `identifier`): room for one first, not the four
                // `push` makes (a smaller model, cheaper to allocate, touch and free).
                if slot.capacity() == 0 {
                    slot.reserve_exact(1);
                }
                read_item(r, slot)
            });
            if slot.is_empty() {
                // Every item was unusable (lenient reading): no room kept for a list that holds nothing.
                *slot = Vec::new();
            }
            self.end_element();
            res?;
        }
        Ok(())
    }

    /// A choice element: key `{name}{type_suffix}` (or its `_` extension part).
    #[inline(never)]
    #[doc(hidden)]
    pub fn choice<C: Choice>(
        &mut self,
        slot: &mut Option<C>,
        name: &'static str,
        type_suffix: &str,
        extension_part: bool,
    ) -> Result<(), ParseError> {
        self.push_name(name);
        let res = C::read_variant(self, slot, type_suffix, extension_part);
        self.end_element();
        res
    }

    /// Whether `key` names a type of the choice element `name` (`valueQuantity` for `value`): the name followed by
    /// an upper-case type suffix. Generated readers send such keys to the choice enum, which knows its types.
    #[doc(hidden)]
    pub fn is_choice_key(key: &str, name: &str) -> bool {
        key.strip_prefix(name).is_some_and(|t| t.starts_with(|c: char| c.is_ascii_uppercase()))
    }

    /// In a choice enum: reads a complex-typed variant, boxed (`make` is the variant, e.g. `Self::Quantity`: no
    /// closure per variant).
    #[inline(never)]
    #[doc(hidden)]
    pub fn choice_complex<C, T: FhirStruct>(&mut self, slot: &mut Option<C>, make: fn(Box<T>) -> C) -> Result<(), ParseError> {
        if slot.is_some() {
            return self.choice_conflict();
        }
        if let Some(x) = self.read_boxed::<T>()? {
            *slot = Some(make(x));
        }
        Ok(())
    }

    /// In a choice enum: reads the value or the extension part of a primitive-typed variant.
    #[inline(never)]
    #[doc(hidden)]
    pub fn choice_primitive<C, T: PrimitiveValue, E: FhirStruct>(
        &mut self,
        slot: &mut Option<C>,
        extension_part: bool,
        get: fn(&mut C) -> Option<&mut Primitive<T, E>>,
        make: fn(Primitive<T, E>) -> C,
    ) -> Result<(), ParseError> {
        let choice = match slot {
            Some(c) => c,
            None => slot.insert(make(Primitive::default())),
        };
        match get(choice) {
            None => self.choice_conflict(),
            Some(p) => {
                if extension_part {
                    self.element_parts(&mut p.element)?;
                } else {
                    self.primitive_value(p)?;
                }
                if p.is_empty() {
                    *slot = None;
                }
                Ok(())
            }
        }
    }

    /// In a choice enum: a type suffix the element does not allow (generated code only passes known ones).
    #[doc(hidden)]
    pub fn unknown_choice_type(&mut self, type_suffix: &str) -> Result<(), ParseError> {
        self.drop_value(IssueKind::UnknownElement, format!("type `{type_suffix}` is not allowed for this choice element"))
    }

    /// In a choice enum: a second type for the same choice element.
    #[doc(hidden)]
    pub fn choice_conflict(&mut self) -> Result<(), ParseError> {
        self.drop_value(IssueKind::Duplicate, "the choice element is given with more than one type".to_owned())
    }

    /// A primitive element's value (`"birthDate": "1970"`).
    #[inline(never)]
    #[doc(hidden)]
    pub fn primitive<T: PrimitiveValue, E: FhirStruct>(
        &mut self,
        slot: &mut Option<Primitive<T, E>>,
        name: &'static str,
    ) -> Result<(), ParseError> {
        self.enter_leaf(name);
        let res = self.primitive_value(primitive_slot(slot));
        self.leave_leaf();
        clear_if_empty(slot);
        res
    }

    /// A primitive element's id and extensions (`"_birthDate": {...}`).
    #[inline(never)]
    #[doc(hidden)]
    pub fn primitive_ext<T, E: FhirStruct>(
        &mut self,
        slot: &mut Option<Primitive<T, E>>,
        name: &'static str,
    ) -> Result<(), ParseError> {
        self.push_name(name);
        let res = self.element_parts(&mut primitive_slot(slot).element);
        self.end_element();
        clear_if_empty(slot);
        res
    }

    /// Value part of a primitive (used for plain fields and choice variants). Inlined into its callers, which
    /// are generic over the same types (one call fewer for every primitive value read).
    #[inline]
    #[doc(hidden)]
    pub fn primitive_value<T: PrimitiveValue, E>(&mut self, p: &mut Primitive<T, E>) -> Result<(), ParseError> {
        if p.value.is_some() {
            return self.duplicate();
        }
        T::read_value_into(self, &mut p.value)
    }

    /// Extension part of a primitive (`{"id": ..., "extension": [...]}`, DSTU2 also `fhir_comments`).
    #[inline]
    #[doc(hidden)]
    pub fn element_ext<T, E: FhirStruct>(&mut self, p: &mut Primitive<T, E>) -> Result<(), ParseError> {
        self.element_parts(&mut p.element)
    }

    /// The `_name` object of a primitive, whatever its value type (one copy per extension type, not per `T`).
    #[inline(never)]
    fn element_parts<E: FhirStruct>(&mut self, element: &mut Option<Box<ElementParts<E>>>) -> Result<(), ParseError> {
        if has_parts(element) {
            return self.duplicate();
        }
        let parts: &mut ElementParts<E> = element.get_or_insert_with(Default::default);
        let ElementParts { id, extension, fhir_comments } = parts;
        self.read_object(&mut |r, key| {
            match key {
                "id" => r.plain_string(id, "id")?,
                "extension" => r.complex_list(extension, "extension")?,
                "fhir_comments" => r.plain_string_list(fhir_comments, "fhir_comments")?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        if !has_parts(element) {
            *element = None;
        }
        Ok(())
    }

    /// A list of plain strings (DSTU2 `fhir_comments`).
    #[inline(never)]
    #[doc(hidden)]
    pub fn plain_string_list(&mut self, slot: &mut Vec<String>, name: &'static str) -> Result<(), ParseError> {
        self.with_name(name, |r| {
            if !slot.is_empty() {
                return r.duplicate();
            }
            r.read_array(false, &mut |r, _| {
                if let Some(s) = r.read_string("a string")? {
                    slot.push(s.into_owned());
                }
                Ok(())
            })?;
            Ok(())
        })
    }

    /// A list of primitives (`"given": ["A", null]`); `null` entries stand for values carried only by extensions.
    #[inline]
    #[doc(hidden)]
    pub fn primitive_list<T: PrimitiveValue, E: FhirStruct>(
        &mut self,
        slot: &mut Vec<Primitive<T, E>>,
        name: &'static str,
    ) -> Result<(), ParseError> {
        self.primitive_items(slot, name, false)
    }

    /// The extension list of a list of primitives (`"_given": [null, {...}]`), aligned by index.
    #[inline]
    #[doc(hidden)]
    pub fn primitive_list_ext<T: PrimitiveValue, E: FhirStruct>(
        &mut self,
        slot: &mut Vec<Primitive<T, E>>,
        name: &'static str,
    ) -> Result<(), ParseError> {
        self.primitive_items(slot, name, true)
    }

    /// Either part of a list of primitives: both lists fill the same items by index, in whichever order the
    /// two keys come.
    #[inline(never)]
    fn primitive_items<T: PrimitiveValue, E: FhirStruct>(
        &mut self,
        slot: &mut Vec<Primitive<T, E>>,
        name: &'static str,
        extension_part: bool,
    ) -> Result<(), ParseError> {
        self.push_name(name);
        let res = self.read_array(false, &mut |r, i| {
            if slot.len() <= i {
                slot.resize_with(i + 1, Primitive::default);
            }
            if r.is_null()? {
                Ok(())
            } else if extension_part {
                r.element_parts(&mut slot[i].element)
            } else {
                r.primitive_value(&mut slot[i])
            }
        });
        self.end_element();
        res?;
        Ok(())
    }
}

/// A primitive left with neither value nor id/extensions (`null`, or a part dropped in lenient mode) is no
/// element at all: it would write nothing, so it is not kept.
fn clear_if_empty<T, E>(slot: &mut Option<Primitive<T, E>>) {
    if let Some(p) = slot {
        if p.value.is_none() && !has_parts(&p.element) {
            *slot = None;
        }
    }
}

/// Whether a primitive's `_name` part holds anything (generic over the extension type only, not the value's).
fn has_parts<E>(element: &Option<Box<ElementParts<E>>>) -> bool {
    match element {
        Some(e) => !e.is_empty(),
        None => false,
    }
}

/// The primitive in `slot`, created empty when there is none (without `get_or_insert_with`'s closure per type).
#[inline]
fn primitive_slot<T, E>(slot: &mut Option<Primitive<T, E>>) -> &mut Primitive<T, E> {
    match slot {
        Some(p) => p,
        None => slot.insert(Primitive::default()),
    }
}

/// The value of four hex digits (`\\u` escapes).
fn hex4_value(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0, |v, &d| Some(v * 16 + (d as char).to_digit(16)?))
}

/// The first eight bytes of `chunk` as a little-endian word (the first byte lowest).
#[inline(always)]
fn word(chunk: &[u8]) -> u64 {
    u64::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7]])
}

/// The high bit of each byte of the word `w` that is a quote, a backslash or a control character, and perhaps
/// of bytes after such a byte: the lowest bit set is exact.
#[inline(always)]
fn special_bytes(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let quote = w ^ (ONES * u64::from(b'"'));
    let backslash = w ^ (ONES * u64::from(b'\\'));
    // A byte is zero in `x` when `(x - ONES) & !x` has its high bit (the classic has-zero test); a byte is
    // below 0x20 when `(w - 0x20..) & !w` has it. A borrow can flag bytes above a true hit, never below one, so
    // the lowest flag of the three is exactly the first special byte (little-endian: the lowest bits are the
    // first byte).
    ((quote.wrapping_sub(ONES) & !quote) | (backslash.wrapping_sub(ONES) & !backslash) | (w.wrapping_sub(ONES * 0x20) & !w))
        & HIGH
}

/// The bit of each of the 16 bytes that is a quote, a backslash or a control character (bit `i`: byte `i`),
/// with SSE2, which every x86_64 processor has.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(unsafe_code, unused_unsafe)] // the intrinsics are `unsafe fn` before Rust 1.87, safe after
fn special_bytes_16(chunk: &[u8; 16]) -> u32 {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of the x86_64 baseline, so the intrinsics are available on every target this is
    // compiled for; the (unaligned) load reads exactly the 16 bytes `chunk` refers to.
    unsafe {
        let v = _mm_loadu_si128(chunk.as_ptr().cast());
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        // A byte is at most 0x1f (unsigned) exactly when the smaller of it and 0x1f is itself.
        let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)) as u32
    }
}

/// The offset of the first byte at or after `at` that ends a plain run of string content: a quote, a backslash
/// or a control character (or `b.len()`). Sixteen bytes are tested at a time on x86_64 (SSE2), eight elsewhere
/// and near the end of the input (most FHIR strings have no escapes; narratives and URLs are long).
#[inline]
pub(crate) fn scan_string(b: &[u8], mut at: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    while let Some(chunk) = b.get(at..).and_then(|rest| rest.first_chunk::<16>()) {
        let special = special_bytes_16(chunk);
        if special != 0 {
            return at + special.trailing_zeros() as usize;
        }
        at += 16;
    }
    while let Some(chunk) = b.get(at..at + 8) {
        let special = special_bytes(word(chunk));
        if special != 0 {
            return at + (special.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while at < b.len() && !matches!(b[at], b'"' | b'\\' | 0..=0x1f) {
        at += 1;
    }
    at
}

/// Whether `b` holds a byte that ends a plain run (a quote, a backslash or a control character, as in
/// [`scan_string`]): the writer's test of a whole string, which it then copies at once when there is none.
/// Unlike the reader's runs, the writer's strings are tested on their own, and most are short (codes, ids,
/// dates, display names): those take one or two words, read as windows that may overlap, never a loop over
/// their last bytes.
#[inline]
pub(crate) fn has_special(b: &[u8]) -> bool {
    let n = b.len();
    let w = match n {
        0 => return false,
        // The first, middle and last bytes cover a string of up to three; the rest of the word is plain.
        1..=3 => u64::from_le_bytes([b[0], b[n / 2], b[n - 1], b'a', b'a', b'a', b'a', b'a']),
        4..=7 => {
            let (lo, hi) = ([b[0], b[1], b[2], b[3]], [b[n - 4], b[n - 3], b[n - 2], b[n - 1]]);
            u64::from(u32::from_le_bytes(lo)) | u64::from(u32::from_le_bytes(hi)) << 32
        }
        8..=15 => return special_bytes(word(b)) | special_bytes(word(&b[n - 8..])) != 0,
        _ => return long_has_special(b),
    };
    special_bytes(w) != 0
}

/// [`has_special`] of sixteen bytes or more: whole chunks, then the last sixteen bytes (overlapping the last
/// whole chunk) for the rest.
#[cfg(target_arch = "x86_64")]
fn long_has_special(b: &[u8]) -> bool {
    let mut rest = b;
    while let Some((chunk, tail)) = rest.split_first_chunk::<16>() {
        if special_bytes_16(chunk) != 0 {
            return true;
        }
        rest = tail;
    }
    !rest.is_empty() && b.last_chunk::<16>().is_some_and(|last| special_bytes_16(last) != 0)
}

#[cfg(not(target_arch = "x86_64"))]
fn long_has_special(b: &[u8]) -> bool {
    scan_string(b, 0) < b.len()
}

#[cfg(test)]
mod tests {
    use super::{has_special, scan_string};

    /// The byte-at-a-time definition `scan_string` must agree with.
    fn naive(b: &[u8], at: usize) -> usize {
        (at..b.len()).find(|&i| matches!(b[i], b'"' | b'\\' | 0..=0x1f)).unwrap_or(b.len())
    }

    #[test]
    fn escaped_strings_read_as_serde_json_reads_them() {
        for json in [
            r#""a\"b""#,
            r#""<div xmlns=\"http://www.w3.org/1999/xhtml\">\n  <p>x</p>\n</div>""#,
            r#""\u00e9\u20ac\ud834\udd1e\/\\\b\f\r\t""#,
            r#""\n""#,
            r#""tail after the escape \t and more text to cross a word or two""#,
            r#""Zoë \"Müller\" – a run of more than sixteen bytes 日本語 before\nand 🙂 after, then \u00e9""#,
            r#""\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"""#,
        ] {
            let b = json.as_bytes();
            let text: String = serde_json::from_str(json).unwrap();
            // As text (known to be UTF-8) and as bytes (each run checked).
            for given in [Some(json), None] {
                let mut r = super::Reader::new(b, given, true, Vec::new());
                match r.string_token().unwrap() {
                    std::borrow::Cow::Owned(read) => assert_eq!(read, text),
                    std::borrow::Cow::Borrowed(_) => panic!("escapes are replaced in an owned string"),
                }
                assert_eq!(r.pos, b.len());
            }
        }
    }

    #[test]
    fn scan_string_finds_the_first_special_byte_wherever_it_is() {
        // Every position of each special byte among plain ASCII and multi-byte UTF-8, with a second special
        // byte after it (a borrow in the word test must not hide the first), from every start offset.
        let fillers: [&[u8]; 6] =
            [b"abcdefghijklmnopqrstu", "é€𝄞ü".as_bytes(), b"\x7f\x80\xff !#[]~", b"", b"ab", b"abcdef"];
        for filler in fillers {
            for special in [b'"', b'\\', 0x00, 0x01, 0x1f, b'\n'] {
                for at in 0..=filler.len() {
                    let mut b = filler.to_vec();
                    b.insert(at, special);
                    b.insert((at + 3).min(b.len()), b'"');
                    for start in 0..=b.len() {
                        assert_eq!(scan_string(&b, start), naive(&b, start), "{b:?} from {start}");
                    }
                }
            }
            for start in 0..=filler.len() {
                assert_eq!(scan_string(filler, start), naive(filler, start));
            }
        }
        // Whole strings, as the writer tests them: every length up to past two chunks, each special byte at
        // every position, and none.
        for len in 0..40 {
            let plain: Vec<u8> = (0..len).map(|i| b"ab\xc3\xa9 z~\x7f"[i % 8]).collect();
            assert!(!has_special(&plain), "{plain:?}");
            for special in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                for at in 0..len {
                    let mut b = plain.clone();
                    b[at] = special;
                    assert!(has_special(&b), "{special} at {at} of {len}");
                }
            }
        }
        // Long runs, with the special byte anywhere.
        for len in [17, 63, 64, 65, 200] {
            for special in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                for at in 0..len {
                    let mut b: Vec<u8> = (0..len).map(|i| b"abc\xc3\xa9xyz"[i % 8]).collect();
                    b[at] = special;
                    b.push(b'"');
                    for start in [0, 1, 5, at.saturating_sub(1), at] {
                        assert_eq!(scan_string(&b, start), naive(&b, start), "{special} at {at} of {len} from {start}");
                    }
                }
            }
        }
    }
}
