//! Escaping inside search values (FHIR's `\,` `\|` `\$` `\\`) and percent-encoding of query strings.

use super::SearchError;

/// Escapes the characters FHIR search gives a meaning inside a value: `\` → `\\`, `,` → `\,`, `|` → `\|`,
/// `$` → `\$`. Apply it to each part of a value (a token's system and code separately), never to the separators.
///
/// ```
/// use fhir_models::search::escape;
/// assert_eq!(escape(r"a,b|c$d\e"), r"a\,b\|c\$d\\e");
/// assert_eq!(escape("plain"), "plain");
/// ```
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | ',' | '|' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Undoes [`escape`]. A lone trailing `\` is kept as it is.
///
/// ```
/// use fhir_models::search::{escape, unescape};
/// assert_eq!(unescape(&escape(r"x,y|z$\")), r"x,y|z$\");
/// ```
pub fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n) => out.push(n),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits a value at the separator `sep` where it is not escaped (`a\,b,c` → `a\,b`, `c`). The parts stay
/// escaped.
///
/// ```
/// use fhir_models::search::split_unescaped;
/// assert_eq!(split_unescaped(r"a\,b,c", ','), vec![r"a\,b", "c"]);
/// assert_eq!(split_unescaped("http://loinc.org|1234-5", '|'), vec!["http://loinc.org", "1234-5"]);
/// ```
pub fn split_unescaped(text: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            parts.push(&text[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&text[start..]);
    parts
}

fn keep(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':' | b'/')
}

/// Percent-encodes one query name or value (UTF-8; everything but letters, digits, `-._~:/`).
pub(crate) fn percent_encode(text: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in text.as_bytes() {
        if keep(b) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
}

/// Decodes `%XX` escapes and `+` (a space, as in HTML forms).
pub(crate) fn percent_decode(text: &str) -> Result<String, SearchError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                let byte = hex.and_then(|h| u8::from_str_radix(h, 16).ok());
                match byte {
                    Some(b) => out.push(b),
                    None => return Err(SearchError::Encoding { text: text.to_owned() }),
                }
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| SearchError::Encoding { text: text.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_round_trip() {
        let text = "subject:Patient.name=Ünïcode & co|x,y$z\\ 100%";
        let mut enc = String::new();
        percent_encode(text, &mut enc);
        assert!(enc.is_ascii());
        assert!(!enc.contains(['&', '=', ' ', '|', ',']));
        assert_eq!(percent_decode(&enc).unwrap(), text);
    }

    #[test]
    fn bad_percent_escapes_are_errors() {
        assert!(percent_decode("%4").is_err());
        assert!(percent_decode("%zz").is_err());
        assert!(percent_decode("%FF").is_err());
        assert_eq!(percent_decode("a+b").unwrap(), "a b");
    }

    #[test]
    fn escaping() {
        for s in ["", "a", ",", "|", "$", "\\", "a\\,b", "\\\\,", "x$y|z,w"] {
            assert_eq!(unescape(&escape(s)), s);
            assert_eq!(split_unescaped(&escape(s), ',').len(), 1, "{s}");
        }
        assert_eq!(split_unescaped("a,b,,c", ','), vec!["a", "b", "", "c"]);
        assert_eq!(split_unescaped(r"a\\,b", ','), vec![r"a\\", "b"]);
    }
}
