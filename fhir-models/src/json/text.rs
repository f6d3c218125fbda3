//! JSON text that is kept as text: a resource whose type is not compiled in ([`crate::RawResource`]) and the
//! serde bridge. Only valid JSON comes here (the reader has validated it, or this crate's writer produced it).

use super::Writer;

/// One token of valid JSON text. Strings keep their quotes and escapes, numbers their exact text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token<'a> {
    BeginObject,
    EndObject,
    BeginArray,
    EndArray,
    /// An object key, the text between its quotes (escapes kept).
    Key(&'a str),
    /// A string value with its quotes (escapes kept).
    String(&'a str),
    /// A number, `true`, `false` or `null`, as written.
    Scalar(&'a str),
}

/// The tokens of valid JSON text, white space skipped.
pub(crate) struct Tokens<'a> {
    src: &'a str,
    pos: usize,
    /// Per open container: `true` for an object.
    objects: Vec<bool>,
    /// The next string is an object key.
    expect_key: bool,
}

impl<'a> Tokens<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Tokens { src, pos: 0, objects: Vec::new(), expect_key: false }
    }

    /// Whether the innermost open container is an array (its values are items).
    pub(crate) fn in_array(&self) -> bool {
        self.objects.last() == Some(&false)
    }

    fn string_end(&self, start: usize) -> usize {
        let b = self.src.as_bytes();
        let mut i = start + 1;
        while i < b.len() {
            match b[i] {
                b'"' => return i + 1,
                b'\\' => i += 2,
                _ => i += 1,
            }
        }
        b.len()
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let b = self.src.as_bytes();
        while self.pos < b.len() && matches!(b[self.pos], b' ' | b'\t' | b'\n' | b'\r' | b',' | b':') {
            self.pos += 1;
        }
        let start = self.pos;
        let c = *b.get(start)?;
        let token = match c {
            b'{' | b'[' => {
                self.pos += 1;
                self.objects.push(c == b'{');
                self.expect_key = c == b'{';
                return Some(if c == b'{' { Token::BeginObject } else { Token::BeginArray });
            }
            b'}' | b']' => {
                self.pos += 1;
                self.objects.pop();
                if c == b'}' { Token::EndObject } else { Token::EndArray }
            }
            b'"' => {
                self.pos = self.string_end(start);
                if self.expect_key {
                    self.expect_key = false;
                    return Some(Token::Key(&self.src[start + 1..self.pos - 1]));
                }
                Token::String(&self.src[start..self.pos])
            }
            _ => {
                while self.pos < b.len() && !matches!(b[self.pos], b' ' | b'\t' | b'\n' | b'\r' | b',' | b']' | b'}') {
                    self.pos += 1;
                }
                Token::Scalar(&self.src[start..self.pos])
            }
        };
        // A value is complete: inside an object the next string is a key again.
        self.expect_key = self.objects.last() == Some(&true);
        Some(token)
    }
}

/// Compact form of valid JSON text: white space outside strings removed.
pub(crate) fn minify(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let b = json.as_bytes();
    let mut run = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b' ' | b'\t' | b'\n' | b'\r' => {
                out.push_str(&json[run..i]);
                i += 1;
                run = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&json[run..]);
    out
}

/// Writes valid JSON text through `w`, in `w`'s layout (compact or indented).
pub(crate) fn write_json_text(w: &mut Writer, json: &str) {
    let mut tokens = Tokens::new(json);
    while let Some(token) = {
        let item = tokens.in_array();
        let t = tokens.next();
        if item && !matches!(t, Some(Token::EndArray) | None) {
            w.sep();
        }
        t
    } {
        match token {
            Token::BeginObject => w.begin_object(),
            Token::EndObject => w.end_object(),
            Token::BeginArray => w.begin_array(),
            Token::EndArray => w.end_array(),
            Token::Key(k) => w.key(k, "", ""),
            Token::String(s) | Token::Scalar(s) => w.raw(s),
        }
    }
}

/// The value of a valid JSON string token (with its quotes).
pub(crate) fn unescape(quoted: &str) -> String {
    let inner = &quoted[1..quoted.len() - 1];
    if !inner.contains('\\') {
        return inner.to_owned();
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    let hex4 = |chars: &mut std::str::Chars<'_>| {
        let digits: String = chars.by_ref().take(4).collect();
        u32::from_str_radix(&digits, 16).unwrap_or(0xFFFD)
    };
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hi = hex4(&mut chars);
                let c = if (0xD800..0xDC00).contains(&hi) {
                    // The reader accepted this text, so a low surrogate escape follows.
                    let rest = chars.as_str();
                    if rest.starts_with("\\u") {
                        chars.next();
                        chars.next();
                        let lo = hex4(&mut chars);
                        char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF))
                    } else {
                        None
                    }
                } else {
                    char::from_u32(hi)
                };
                out.push(c.unwrap_or('\u{FFFD}'));
            }
            Some(other) => out.push(other), // `"`, `\`, `/`
            None => {}
        }
    }
    out
}

/// The string value of the top-level key `key` of a valid JSON object.
pub(crate) fn top_level_string(json: &str, key: &str) -> Option<String> {
    let mut tokens = Tokens::new(json);
    let mut depth = 0usize;
    let mut want = false;
    for token in tokens.by_ref() {
        match token {
            Token::BeginObject | Token::BeginArray => depth += 1,
            Token::EndObject | Token::EndArray => depth -= 1,
            Token::Key(k) if depth == 1 => {
                want = k == key;
                continue;
            }
            Token::String(s) if want && depth == 1 => return Some(unescape(s)),
            _ => {}
        }
        want = false;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relayout_and_minify() {
        let text = "{ \"a\" : [1, {\"b\":\"x \\\" y\"}, [] ],\n \"c\": {}, \"d\": null }";
        let compact = minify(text);
        assert_eq!(compact, r#"{"a":[1,{"b":"x \" y"},[]],"c":{},"d":null}"#);
        let mut w = Writer::compact();
        write_json_text(&mut w, text);
        assert_eq!(w.finish(), compact);
        let mut w = Writer::pretty(2);
        write_json_text(&mut w, &compact);
        assert_eq!(w.finish(), "{\n  \"a\": [\n    1,\n    {\n      \"b\": \"x \\\" y\"\n    },\n    []\n  ],\n  \"c\": {},\n  \"d\": null\n}");
    }

    #[test]
    fn strings_and_keys() {
        assert_eq!(unescape(r#""a\nb\u00e9\ud83d\ude00\/""#), "a\nbé😀/");
        let json = r#"{"resourceType":"X","nested":{"id":"no"},"list":["id"],"id":"a\"b"}"#;
        assert_eq!(top_level_string(json, "id").as_deref(), Some("a\"b"));
        assert_eq!(top_level_string(json, "resourceType").as_deref(), Some("X"));
        assert_eq!(top_level_string(json, "missing"), None);
    }
}
