//! Typed references between the items of the model ([`crate::model`]): the name of a struct, of a choice enum, of
//! a code enum. They live here, in the loader, because only the loader may make one: each is made at the moment
//! the item it names is defined or found to exist (a datatype of the package, a backbone struct, a choice enum, a
//! named code enum), so a model handed to the emitter cannot refer to an item that is not generated. Outside the
//! loader they are read (as `&str`, through `Deref`), compared and cloned, never made up.

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

            /// The Rust name.
            pub fn as_str(&self) -> &str {
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
