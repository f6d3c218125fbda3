//! Client tests, one test binary (one link of the models instead of one per file): request shapes and faults
//! against scripted `wiremock` servers, and integration tests against the real servers (SEKMET, FHIR R4;
//! oauth2-mock-server) that `support::servers` starts on 127.0.0.1. Install those first with
//! `scripts/install-test-servers.sh`. Run one group with e.g. `cargo test -p fhir-toolkit-tests --test client bulk::`.

mod support;

mod bulk;
mod connect;
mod export;
mod fhir;
mod guides;
mod sessions;
mod smart;
mod payer;
mod search_server;
mod servers;
mod servers_bulk_payer;
mod tokens;
mod transport;
mod users;
