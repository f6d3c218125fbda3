//! Short text stored inline: the representation behind [`crate::FhirString`], [`crate::Decimal`] and the date
//! and time types.
//!
//! Nearly every decimal (`12.50`) and date (`2024-03-15`, `2024-03-15T10:30:00Z`) of real FHIR data is a few
//! bytes long, and allocating a `String` for each was a visible share of reading time (the allocator was the
//! largest item of the reader's profile). Text of up to `N` bytes lives in the value itself; longer text goes to
//! the heap. The public types keep their API (`as_str()`, `Display`, equality and hashing of the text).

// The one `unsafe` here is `as_str` of inline text, which skips the UTF-8 check: the representation is private
// to this module and every inline value is made by `new`, from a whole `&str` (see `Repr::Inline`). The check
// was a visible share of writing (every string of a resource is read through `as_str` once or more).
#![allow(unsafe_code)]

use std::fmt;
use std::hash::{Hash, Hasher};

/// Text of up to `N` bytes inline, longer text boxed.
#[derive(Clone)]
pub(crate) struct SmallText<const N: usize>(Repr<N>);

/// Private to this module, so that nothing else can make an `Inline` value.
#[derive(Clone)]
enum Repr<const N: usize> {
    /// The first `len` bytes of the array are the text: always whole UTF-8 characters, since `new` copies them
    /// from a `&str` whole (and `empty` holds none).
    Inline(u8, [u8; N]),
    Heap(Box<str>),
}

impl<const N: usize> SmallText<N> {
    #[inline]
    pub(crate) fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        if bytes.len() <= N && N <= u8::MAX as usize {
            let mut buf = [0u8; N];
            buf[..bytes.len()].copy_from_slice(bytes);
            SmallText(Repr::Inline(bytes.len() as u8, buf))
        } else {
            SmallText(Repr::Heap(text.into()))
        }
    }

    /// Takes an owned `String` without copying it when it does not fit inline.
    pub(crate) fn from_string(text: String) -> Self {
        if text.len() <= N {
            Self::new(&text)
        } else {
            // `into_boxed_str` keeps the buffer; when it has spare capacity the allocator shrinks it in place.
            SmallText(Repr::Heap(text.into_boxed_str()))
        }
    }

    /// The empty text (inline).
    pub(crate) const fn empty() -> Self {
        SmallText(Repr::Inline(0, [0u8; N]))
    }

    /// The text as an owned `String`: the heap buffer itself when there is one, no copy.
    pub(crate) fn into_string(self) -> String {
        match self.0 {
            Repr::Inline(..) => self.as_str().to_owned(),
            Repr::Heap(s) => s.into_string(),
        }
    }

    /// Whether the text is stored inline (no allocation).
    #[cfg(test)]
    pub(crate) fn is_inline(&self) -> bool {
        matches!(self.0, Repr::Inline(..))
    }

    #[inline]
    pub(crate) fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Inline(len, buf) => {
                let bytes = &buf[..usize::from(*len)];
                debug_assert!(std::str::from_utf8(bytes).is_ok());
                // SAFETY: an inline value is only made by `new`, which copies the bytes of a whole `&str` (or by
                // `empty`, with none), and nothing changes them after: they are UTF-8.
                unsafe { std::str::from_utf8_unchecked(bytes) }
            }
            Repr::Heap(s) => s,
        }
    }
}

impl<const N: usize> PartialEq for SmallText<N> {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl<const N: usize> Eq for SmallText<N> {}

impl<const N: usize> Hash for SmallText<N> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl<const N: usize> fmt::Debug for SmallText<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::SmallText;

    #[test]
    fn short_text_is_inline_and_long_text_on_the_heap_both_read_back_exactly() {
        let lengths: Vec<String> = (0..=23).map(|n| "abcdefghijklmnopqrstuvwxyz"[..n].to_owned()).collect();
        let texts = ["", "1", "12.50", "2024-03-15T10:30:00Z", "é-ü", "0.123456789012345678901"];
        for text in texts.iter().copied().chain(lengths.iter().map(String::as_str)) {
            let t = SmallText::<22>::new(text);
            assert_eq!(t.as_str(), text);
            assert_eq!(t.is_inline(), text.len() <= 22, "{text}");
            assert_eq!(SmallText::<22>::from_string(text.to_owned()), t);
        }
        assert_ne!(SmallText::<22>::new("1.5"), SmallText::<22>::new("1.50"));
        assert_eq!(format!("{:?}", SmallText::<22>::new("1.5")), "\"1.5\"");
    }

    #[test]
    fn keeps_the_size_of_a_string() {
        assert_eq!(std::mem::size_of::<SmallText<22>>(), std::mem::size_of::<String>());
    }
}
