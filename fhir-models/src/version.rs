//! What the client (and any generic code) needs to know about a FHIR version and its resources.

use crate::json::FhirJson;
use std::fmt::Debug;

/// A FHIR version whose models are compiled in: `fhir_models::r4::R4`, `fhir_models::dstu2::Dstu2`.
pub trait FhirVersion: Send + Sync + 'static {
    /// The lower-case path segment 1upHealth uses for this version (`"r4"`, `"dstu2"`).
    const NAME: &'static str;
    /// Every resource type this FHIR version defines, sorted (from the official core package), whether or not its
    /// model feature is compiled in: those that are not are read into `Resource::Other`, kept whole.
    const RESOURCE_TYPES: &'static [&'static str];
    /// The `Resource` enum of this version: any resource, dispatched on `resourceType`.
    type Resource: FhirJson + Debug + Clone + Send + Sync + 'static;
    /// This version's `Bundle`.
    type Bundle: FhirJson + Debug + Clone + Send + Sync + 'static;
    /// This version's `OperationOutcome`.
    type OperationOutcome: FhirJson + Debug + Clone + Send + Sync + 'static;

    /// The `url` of the bundle's link whose `relation` is `next`.
    fn next_link(bundle: &Self::Bundle) -> Option<&str>;
    /// `Bundle.total`, when the server sent it.
    fn total(bundle: &Self::Bundle) -> Option<u64>;
    /// The `resource` of every entry, in order (entries without a resource are skipped).
    fn into_resources(bundle: Self::Bundle) -> Vec<Self::Resource>;
    /// A one-line human summary of an OperationOutcome (severity, code and diagnostics of each issue).
    fn outcome_summary(outcome: &Self::OperationOutcome) -> String;
}

/// A concrete resource type of one FHIR version (`r4::Patient`, `dstu2::Observation`, ...).
pub trait FhirResource: FhirJson + Debug + Clone + Send + Sync + 'static {
    /// The version this resource belongs to.
    type Version: FhirVersion;
    /// The `resourceType` value, e.g. `"Patient"`.
    const RESOURCE_TYPE: &'static str;
    /// The logical id (`Resource.id`), if set.
    fn resource_id(&self) -> Option<&str>;
    /// Wrap into the version's `Resource` enum.
    fn into_resource(self) -> <Self::Version as FhirVersion>::Resource;
    /// Take this type out of the version's `Resource` enum; other resource types are handed back unchanged.
    fn from_resource(
        resource: <Self::Version as FhirVersion>::Resource,
    ) -> Result<Self, <Self::Version as FhirVersion>::Resource>;
}

/// Implements [`FhirVersion`] for a generated version module's marker type. Every FHIR version names the
/// elements it reads the same way (`Bundle.link.relation`, `Bundle.entry.resource`, `OperationOutcome.issue`).
#[doc(hidden)]
#[macro_export]
macro_rules! impl_fhir_version {
    ($marker:ident, $name:literal) => {
        impl $crate::FhirVersion for $marker {
            const NAME: &'static str = $name;
            const RESOURCE_TYPES: &'static [&'static str] = RESOURCE_TYPES;
            type Resource = Resource;
            type Bundle = Bundle;
            type OperationOutcome = OperationOutcome;

            fn next_link(bundle: &Bundle) -> Option<&str> {
                bundle
                    .link
                    .iter()
                    .find(|l| l.relation.as_ref().and_then(|r| r.value.as_deref()) == Some("next"))
                    .and_then(|l| l.url.as_ref()?.value.as_deref())
            }
            fn total(bundle: &Bundle) -> Option<u64> {
                bundle.total.as_ref()?.value.map(u64::from)
            }
            fn into_resources(bundle: Bundle) -> Vec<Resource> {
                bundle.entry.into_iter().filter_map(|e| e.resource).collect()
            }
            fn outcome_summary(outcome: &OperationOutcome) -> String {
                use $crate::CodeEnum;
                let parts: Vec<String> = outcome
                    .issue
                    .iter()
                    .map(|i| {
                        let severity = i.severity.as_ref().and_then(|s| s.value.as_ref()).map_or("?", |s| s.code());
                        let code = i.code.as_ref().and_then(|s| s.value.as_ref()).map_or("?", |s| s.code());
                        let text = i.diagnostics.as_ref().and_then(|d| d.value.as_deref()).or_else(|| {
                            i.details.as_ref().and_then(|d| d.text.as_ref()).and_then(|t| t.value.as_deref())
                        });
                        match text {
                            Some(t) => format!("{severity} {code}: {t}"),
                            None => format!("{severity} {code}"),
                        }
                    })
                    .collect();
                if parts.is_empty() { "OperationOutcome without issues".to_owned() } else { parts.join("; ") }
            }
        }
    };
}
