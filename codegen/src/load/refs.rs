//! Typed references between the items of the model ([`crate::model`]): the name of a struct, of a choice enum, of
//! a code enum, of a resource type, of a profile module's extension struct or coding enum, and canonical URLs.
//! They live here, in the loader, because only the loader may make one: each is made at the moment the item it
//! names is defined or found to exist (a datatype of the package, a backbone struct, a choice enum, a named code
//! enum, a resource type of the version, a value set that was listed), so a model handed to the emitter cannot
//! refer to an item that is not generated. Outside the loader they are read (as `&str`, through `Deref`),
//! compared and cloned, never made up.

use std::fmt;

macro_rules! item_name {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// Made by the loader once the item exists.
            pub(in crate::load) fn new(name: impl Into<String>) -> Self {
                $name(name.into())
            }

            /// The text (a Rust name, or for [`CanonicalUrl`] the URL).
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == other.0
            }
        }
    };
}

item_name! {
    /// The Rust name of a generated struct: a complex datatype (`CodeableConcept`) or a backbone element
    /// (`PatientContact`).
    TypeName
}

item_name! {
    /// The Rust name of a generated choice enum (`ObservationValue`).
    ChoiceName
}

item_name! {
    /// The Rust name of a generated code enum (`AdministrativeGender`), of the version module or of a profile
    /// module.
    CodeEnumName
}

item_name! {
    /// A variant of a generated choice enum (`Quantity` of `ObservationValue`), made once it is found among the
    /// enum's variants.
    VariantName
}

item_name! {
    /// A resource type of the version (`Patient`), which is also the Rust name of its struct. Made from the
    /// version's resource list: a generated resource, or (where only the type's name is used, as in a profile's
    /// reference targets) one the configuration leaves out.
    ResourceName
}

item_name! {
    /// The Rust name of a struct read from a complex extension in a profile module (`UsCoreRace`).
    ExtensionStructName
}

item_name! {
    /// The Rust name of a coding enum of a profile module (`OmbRaceCategories`).
    CodingEnumName
}

item_name! {
    /// A canonical URL without a version, as instances carry it (`Extension.url`, the URL part of
    /// `meta.profile`), and as the loader resolves value sets: by URL in the implementation guide's scope (a
    /// binding's `|version` does not pick the value set, so it is not kept here). Made from a [`Canonical`].
    CanonicalUrl
}

/// A canonical reference as FHIR writes it: a URL with an optional `|version` (`http://hl7.org/fhir/us/core/
/// StructureDefinition/us-core-patient|3.1.1`). Parsed once, by the loader; [`Display`](fmt::Display) gives the
/// text back (`url|version`, or the URL alone).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Canonical {
    url: CanonicalUrl,
    version: Option<String>,
}

impl Canonical {
    /// Parses `url|version` (or a plain URL). An empty version (`url|`) is no version.
    pub(in crate::load) fn parse(text: &str) -> Self {
        match text.split_once('|') {
            Some((url, version)) => Canonical::new(url, Some(version)),
            None => Canonical::new(text, None),
        }
    }

    /// A canonical from a definition's `url` and `version` elements.
    pub(in crate::load) fn new(url: &str, version: Option<&str>) -> Self {
        Canonical { url: CanonicalUrl::new(url), version: version.filter(|v| !v.is_empty()).map(str::to_owned) }
    }

    /// The URL without the version.
    pub fn url(&self) -> &CanonicalUrl {
        &self.url
    }

    /// The version, when the reference names one.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }
}

impl fmt::Display for Canonical {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.version {
            Some(v) => write!(f, "{}|{v}", self.url),
            None => write!(f, "{}", self.url),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonicals_round_trip() {
        let c = Canonical::parse("http://x/StructureDefinition/p|3.1.1");
        assert_eq!(c.url(), "http://x/StructureDefinition/p");
        assert_eq!(c.version(), Some("3.1.1"));
        assert_eq!(c.to_string(), "http://x/StructureDefinition/p|3.1.1");
        let plain = Canonical::parse("http://x/ValueSet/v");
        assert_eq!((plain.version(), plain.to_string().as_str()), (None, "http://x/ValueSet/v"));
        assert_eq!(Canonical::parse("http://x/v|").version(), None);
        assert_eq!(Canonical::new("http://x/p", Some("1.0.0")), Canonical::parse("http://x/p|1.0.0"));
    }
}
