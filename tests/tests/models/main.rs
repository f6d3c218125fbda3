//! Model tests, one test binary: the tricky cases of FHIR JSON for R4 and DSTU2, round-trips of every official
//! example and core resource, the US Core and CARIN profile views, the typed search builders, and the drift check
//! of the committed generated code.
//! Run one group with e.g. `cargo test -p fhir-toolkit-tests --test models roundtrip_r4::`.

mod generated_code_is_fresh;
mod helpers;
mod ig_pairs;
mod json_dstu2;
mod json_entry_points;
mod json_r4;
mod profile_build;
mod profiles;
mod roundtrip_dstu2;
mod roundtrip_r4;
mod search_builders;
mod search_dstu2;
mod sql_views;
mod validator_agreement;
