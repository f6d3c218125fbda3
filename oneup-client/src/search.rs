//! Search parameters: anything that renders to query pairs.

/// Search parameters, as `(name, value)` query pairs in order.
///
/// Implemented for the typed builders of `fhir-models` ([`fhir_models::search::Search`], e.g. `PatientSearch`)
/// and for raw pairs (`&[(&str, &str)]`, arrays, `Vec<(String, String)>`, …), so any query can always be
/// written by hand. Values are percent-encoded when sent.
///
/// ```
/// use oneup_client::SearchParams;
/// let raw = [("code", "http://loinc.org|66334-4"), ("_count", "50")];
/// assert_eq!(raw.query_pairs()[0], ("code".to_string(), "http://loinc.org|66334-4".to_string()));
/// let owned: Vec<(String, String)> = vec![("_content".into(), "Atul Gawande".into())];
/// assert_eq!(owned.query_pairs().len(), 1);
/// assert!(().query_pairs().is_empty());
/// ```
pub trait SearchParams {
    /// The query pairs, in order; a name may repeat (`date=ge2020&date=lt2021`).
    fn query_pairs(&self) -> Vec<(String, String)>;
}

impl<K: AsRef<str>, V: AsRef<str>> SearchParams for [(K, V)] {
    fn query_pairs(&self) -> Vec<(String, String)> {
        self.iter().map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned())).collect()
    }
}

impl<K: AsRef<str>, V: AsRef<str>, const N: usize> SearchParams for [(K, V); N] {
    fn query_pairs(&self) -> Vec<(String, String)> {
        self[..].query_pairs()
    }
}

impl<K: AsRef<str>, V: AsRef<str>> SearchParams for Vec<(K, V)> {
    fn query_pairs(&self) -> Vec<(String, String)> {
        self[..].query_pairs()
    }
}

impl<T: SearchParams + ?Sized> SearchParams for &T {
    fn query_pairs(&self) -> Vec<(String, String)> {
        (**self).query_pairs()
    }
}

/// No parameters: every resource of the type.
impl SearchParams for () {
    fn query_pairs(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}

/// A typed search from `fhir-models` (`PatientSearch`, `ObservationSearch`, …): its pairs, in order.
impl<R> SearchParams for fhir_models::search::Search<R> {
    fn query_pairs(&self) -> Vec<(String, String)> {
        self.pairs().to_vec()
    }
}
