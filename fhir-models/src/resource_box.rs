//! [`ResourceBox`], the box that holds each resource in a version's `Resource` enum.
//!
//! Why not `Box<T>`: the compiler instantiates the drop code of every type a crate can drop *in that crate*, and
//! release builds do not reuse the instances compiled in `fhir-models` (only nightly's `-Zshare-generics` would).
//! With `Box<T>` variants, an app that drops a `Bundle` or a `Resource` compiled the drop code of every resource
//! and every datatype they reach into its own crate, again after each edit of its code (with `r4`: over a
//! thousand `drop_in_place` instances, nearly all of the app's object code). `ResourceBox<T>` drops its value
//! by calling [`BoxedResource::drop_boxed`], a plain (non-generic, never inlined) function compiled once in
//! `fhir-models` for each resource type, so the drop code of `Resource` in the app is a switch of calls.
//!
//! A `Drop` impl on `Resource` itself would do the same but forbid moving a resource out of its variant
//! (`match resource { Resource::Patient(p) => ... }` by value); with the box, that keeps working.
// The one module with `unsafe`: taking the box out of its `ManuallyDrop` in `drop` and `into_box`, each once.
#![allow(unsafe_code)]

use std::borrow::{Borrow, BorrowMut};
use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};

/// A heap-allocated resource, as held by the variants of `r4::Resource` and `dstu2::Resource`: a `Box<T>` whose
/// drop code is compiled in `fhir-models` instead of in every crate that drops a `Resource`. It derefs to the
/// resource; [`into_inner`](Self::into_inner) takes it out.
///
/// Why not `Box<T>`: the compiler instantiates the drop code of every type a crate can drop in that crate, and
/// release builds do not reuse the instances compiled in `fhir-models`. With `Box<T>` variants, an app that
/// drops a `Bundle` compiled the drop code of every resource and datatype it reaches, again after each edit of
/// its code (with `r4`: over two thousand `drop_in_place` instances, nearly all of the app's object code). A
/// `ResourceBox` drops its value through a function compiled once in `fhir-models` per resource type, so in the
/// app the drop code of `Resource` is a switch of calls. (A `Drop` impl on `Resource` itself would forbid moving
/// a resource out of its variant.)
///
/// ```
/// # #[cfg(feature = "r4-patient")] {
/// use fhir_models::{FhirJson, ResourceBox, r4::{Patient, Resource}};
///
/// let resource = Resource::from_json(r#"{"resourceType":"Patient","id":"p1"}"#).unwrap();
/// if let Resource::Patient(patient) = &resource {
///     assert_eq!(patient.id.as_deref(), Some("p1")); // field access through `Deref`
/// }
/// let patient: Patient = match resource {
///     Resource::Patient(patient) => patient.into_inner(), // by value, as `*boxed` took it out of a `Box`
///     _ => unreachable!(),
/// };
/// let again = Resource::Patient(ResourceBox::new(patient.clone()));
/// assert_eq!(again, Resource::from(patient)); // `From<Patient> for Resource` boxes too
/// # }
/// ```
pub struct ResourceBox<T: BoxedResource>(ManuallyDrop<Box<T>>);

/// The out-of-line drop of one resource type, implemented by generated code for every resource type
/// (`boxed_resource!`); not user API.
#[doc(hidden)]
pub trait BoxedResource: Sized {
    /// Drops the box and its value. Implementations are `#[inline(never)]` functions of `fhir-models`, so that
    /// the drop code behind them is compiled there once and never again in a user's crate.
    fn drop_boxed(boxed: Box<Self>);
}

/// Implements [`BoxedResource`] for resource types: `boxed_resource!(Patient);` (emitted by `fhir-codegen`, once
/// per resource type, in the type's own module).
#[doc(hidden)]
#[macro_export]
macro_rules! __boxed_resource {
    ($($t:ty),+ $(,)?) => {$(
        impl $crate::__private::BoxedResource for $t {
            #[inline(never)]
            fn drop_boxed(boxed: ::std::boxed::Box<Self>) {
                ::std::mem::drop(boxed)
            }
        }
    )+};
}

impl<T: BoxedResource> ResourceBox<T> {
    /// Moves `value` to the heap.
    pub fn new(value: T) -> Self {
        Self::from_box(Box::new(value))
    }

    /// Takes an existing box (no new allocation).
    pub fn from_box(boxed: Box<T>) -> Self {
        Self(ManuallyDrop::new(boxed))
    }

    /// The resource, moved out of the box.
    pub fn into_inner(self) -> T {
        *self.into_box()
    }

    /// The box itself (no new allocation); dropping it is then the caller's crate's drop code again.
    pub fn into_box(self) -> Box<T> {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped, so the box is taken exactly once and not used again.
        unsafe { ManuallyDrop::take(&mut this.0) }
    }
}

impl<T: BoxedResource> Drop for ResourceBox<T> {
    fn drop(&mut self) {
        // SAFETY: `drop` runs once; the box is not used after it is taken.
        T::drop_boxed(unsafe { ManuallyDrop::take(&mut self.0) })
    }
}

impl<T: BoxedResource> Deref for ResourceBox<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: BoxedResource> DerefMut for ResourceBox<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: BoxedResource> AsRef<T> for ResourceBox<T> {
    fn as_ref(&self) -> &T {
        self
    }
}

impl<T: BoxedResource> AsMut<T> for ResourceBox<T> {
    fn as_mut(&mut self) -> &mut T {
        self
    }
}

impl<T: BoxedResource> Borrow<T> for ResourceBox<T> {
    fn borrow(&self) -> &T {
        self
    }
}

impl<T: BoxedResource> BorrowMut<T> for ResourceBox<T> {
    fn borrow_mut(&mut self) -> &mut T {
        self
    }
}

impl<T: BoxedResource> From<T> for ResourceBox<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

impl<T: BoxedResource> From<Box<T>> for ResourceBox<T> {
    fn from(boxed: Box<T>) -> Self {
        Self::from_box(boxed)
    }
}

impl<T: BoxedResource + Clone> Clone for ResourceBox<T> {
    fn clone(&self) -> Self {
        Self::new(T::clone(&**self))
    }
}

impl<T: BoxedResource + PartialEq> PartialEq for ResourceBox<T> {
    fn eq(&self, other: &Self) -> bool {
        T::eq(&**self, &**other)
    }
}

impl<T: BoxedResource + Eq> Eq for ResourceBox<T> {}

impl<T: BoxedResource + fmt::Debug> fmt::Debug for ResourceBox<T> {
    /// The resource's own `Debug` output, as `Box` writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: BoxedResource + Default> Default for ResourceBox<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

#[cfg(test)]
mod tests {
    use super::ResourceBox;
    use std::cell::Cell;
    use std::rc::Rc;

    /// Counts its drops, and `drop_boxed` calls, to show each value is dropped exactly once and by the right path.
    #[derive(Debug, Clone, PartialEq)]
    struct Counted {
        drops: Rc<Cell<u32>>,
        out_of_line: Rc<Cell<u32>>,
        tag: u8,
    }
    impl Drop for Counted {
        fn drop(&mut self) {
            self.drops.set(self.drops.get() + 1);
        }
    }
    impl super::BoxedResource for Counted {
        fn drop_boxed(boxed: Box<Self>) {
            boxed.out_of_line.set(boxed.out_of_line.get() + 1);
            drop(boxed)
        }
    }
    fn counted(tag: u8) -> (Counted, Rc<Cell<u32>>, Rc<Cell<u32>>) {
        let (drops, out_of_line) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
        (Counted { drops: drops.clone(), out_of_line: out_of_line.clone(), tag }, drops, out_of_line)
    }

    #[test]
    fn dropping_the_box_drops_the_value_once_through_drop_boxed() {
        let (value, drops, out_of_line) = counted(1);
        let boxed = ResourceBox::new(value);
        assert_eq!((drops.get(), out_of_line.get()), (0, 0));
        drop(boxed);
        assert_eq!((drops.get(), out_of_line.get()), (1, 1));
    }

    #[test]
    fn taking_the_value_out_does_not_drop_it() {
        let (value, drops, out_of_line) = counted(2);
        let mut boxed = ResourceBox::from(value);
        boxed.tag = 3; // DerefMut
        let value = boxed.into_inner();
        assert_eq!((value.tag, drops.get(), out_of_line.get()), (3, 0, 0));
        let boxed = ResourceBox::from_box(Box::new(value));
        let plain: Box<Counted> = boxed.into_box();
        assert_eq!((drops.get(), out_of_line.get()), (0, 0));
        drop(plain);
        assert_eq!((drops.get(), out_of_line.get()), (1, 0));
    }

    #[test]
    fn clone_eq_and_debug_are_the_values() {
        let (value, drops, _) = counted(4);
        let boxed = ResourceBox::new(value);
        let copy = boxed.clone();
        assert_eq!(boxed, copy);
        assert_eq!(format!("{boxed:?}"), format!("{:?}", *copy));
        drop((boxed, copy));
        assert_eq!(drops.get(), 2);
    }
}
