//! Any text read as an R4 `Resource`: strict and lenient reading never panic, and whatever is read writes back
//! to JSON that reads again to the same value — the lossless promise, on arbitrary input.
#![no_main]

use fhir_models::r4::Resource;
use fhir_models::FhirJson;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(resource) = Resource::from_json(text) {
        let written = resource.to_json();
        let again = Resource::from_json(&written).unwrap_or_else(|e| panic!("own output unreadable: {e}\n{written}"));
        assert_eq!(again, resource, "{written}");
    }
    // Lenient reading keeps what strict reading refuses (unknown codes, invalid dates): its output reads back
    // leniently to the same value.
    if let Ok(lenient) = Resource::from_json_lenient(text) {
        let written = lenient.value.to_json();
        let again = Resource::from_json_lenient(&written).unwrap_or_else(|e| panic!("own output unreadable: {e}\n{written}"));
        assert_eq!(again.value, lenient.value, "{written}");
    }
});
