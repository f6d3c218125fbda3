//! The Acme IG, `example.fhir.acme#0.1.0`: a small package made up for this crate, written by `build.rs` into
//! `OUT_DIR/packages/` in the package-cache layout (so the made-up definitions are code here, not committed
//! package files). One profile with a required element, fixed values of several types (boolean, uri, code), an
//! extension whose code has a required binding, and a slice told apart by a value set.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const CANONICAL: &str = "http://acme.example/fhir";
const VERSION: &str = "0.1.0";

/// Writes the package under `dir` (`dir/example.fhir.acme#0.1.0/package/`) and returns `dir`.
pub fn write_package(dir: &Path) -> std::io::Result<PathBuf> {
    let root = dir.join(format!("example.fhir.acme#{VERSION}")).join("package");
    std::fs::create_dir_all(&root)?;
    let files = [
        ("package.json", manifest()),
        ("StructureDefinition-acme-patient.json", acme_patient()),
        ("StructureDefinition-favorite-color.json", favorite_color()),
        ("ValueSet-acme-colors.json", acme_colors_value_set()),
        ("CodeSystem-acme-colors.json", acme_colors_code_system()),
        ("ValueSet-acme-identifier-types.json", identifier_types()),
    ];
    for (name, value) in files {
        let text = serde_json::to_string_pretty(&value).map_err(std::io::Error::other)?;
        std::fs::write(root.join(name), text)?;
    }
    Ok(dir.to_path_buf())
}

fn manifest() -> Value {
    json!({
        "name": "example.fhir.acme",
        "version": VERSION,
        "fhirVersions": ["4.0.1"],
        "description": "A small IG written as the fixture of the downstream example crate: one profile with a required element, fixed values (boolean, uri, code), an extension whose code has a required binding, and a slice told apart by a value set.",
        "dependencies": { "hl7.fhir.r4.core": "4.0.1" }
    })
}

/// A snapshot element: `id` (its path is the id without `:slice` names), cardinality `min..max`, the base
/// element's path and cardinality, plus `extra` members (type, binding, fixed value, slicing, ...).
fn element(id: &str, card: (u32, &str), base: (&str, u32, &str), extra: Value) -> Value {
    let path: Vec<&str> = id.split('.').map(|part| part.split(':').next().unwrap_or(part)).collect();
    let mut e = json!({
        "id": id,
        "path": path.join("."),
        "min": card.0,
        "max": card.1,
        "base": { "path": base.0, "min": base.1, "max": base.2 }
    });
    if let (Some(e), Value::Object(extra)) = (e.as_object_mut(), extra) {
        e.extend(extra);
    }
    e
}

fn structure_definition(id: &str, name: &str, kind: &str, ty: &str, extra: Value, elements: Vec<Value>) -> Value {
    let mut sd = json!({
        "resourceType": "StructureDefinition",
        "id": id,
        "url": format!("{CANONICAL}/StructureDefinition/{id}"),
        "version": VERSION,
        "name": name,
        "status": "active",
        "kind": kind,
        "abstract": false,
        "type": ty,
        "baseDefinition": format!("http://hl7.org/fhir/StructureDefinition/{ty}"),
        "derivation": "constraint",
        "snapshot": { "element": elements }
    });
    if let (Some(sd), Value::Object(extra)) = (sd.as_object_mut(), extra) {
        sd.extend(extra);
    }
    sd
}

fn acme_patient() -> Value {
    let ty = |code: &str| json!([{ "code": code }]);
    structure_definition(
        "acme-patient",
        "AcmePatient",
        "resource",
        "Patient",
        json!({
            "title": "Acme Patient",
            "description": "A patient of Acme Health: an active record with an Acme member number."
        }),
        vec![
            element("Patient", (0, "*"), ("Patient", 0, "*"), json!({})),
            element(
                "Patient.extension",
                (0, "*"),
                ("DomainResource.extension", 0, "*"),
                json!({
                    "type": ty("Extension"),
                    "slicing": { "discriminator": [{ "type": "value", "path": "url" }], "rules": "open" }
                }),
            ),
            element(
                "Patient.extension:favoriteColor",
                (0, "1"),
                ("DomainResource.extension", 0, "*"),
                json!({
                    "sliceName": "favoriteColor",
                    "short": "Favorite color",
                    "type": [{
                        "code": "Extension",
                        "profile": [format!("{CANONICAL}/StructureDefinition/favorite-color|{VERSION}")]
                    }]
                }),
            ),
            element(
                "Patient.identifier",
                (1, "*"),
                ("Patient.identifier", 0, "*"),
                json!({
                    "short": "Identifiers, one an Acme member number",
                    "type": ty("Identifier"),
                    "slicing": { "discriminator": [{ "type": "value", "path": "type" }], "rules": "open" }
                }),
            ),
            element(
                "Patient.identifier:acmeId",
                (1, "1"),
                ("Patient.identifier", 0, "*"),
                json!({ "sliceName": "acmeId", "short": "The Acme member number", "type": ty("Identifier") }),
            ),
            element(
                "Patient.identifier:acmeId.type",
                (1, "1"),
                ("Identifier.type", 0, "1"),
                json!({
                    "type": ty("CodeableConcept"),
                    "binding": { "strength": "required", "valueSet": format!("{CANONICAL}/ValueSet/acme-identifier-types") }
                }),
            ),
            element(
                "Patient.identifier:acmeId.system",
                (1, "1"),
                ("Identifier.system", 0, "1"),
                json!({ "type": ty("uri"), "fixedUri": "http://acme.example/member" }),
            ),
            element("Patient.identifier:acmeId.value", (1, "1"), ("Identifier.value", 0, "1"), json!({ "type": ty("string") })),
            element(
                "Patient.active",
                (1, "1"),
                ("Patient.active", 0, "1"),
                json!({ "short": "Only active records", "type": ty("boolean"), "fixedBoolean": true }),
            ),
            element(
                "Patient.name",
                (1, "*"),
                ("Patient.name", 0, "*"),
                json!({ "short": "A name is required", "type": ty("HumanName") }),
            ),
            element(
                "Patient.name.use",
                (0, "1"),
                ("HumanName.use", 0, "1"),
                json!({ "type": ty("code"), "fixedCode": "official" }),
            ),
            element(
                "Patient.deceased[x]",
                (0, "0"),
                ("Patient.deceased[x]", 0, "1"),
                json!({ "type": [{ "code": "boolean" }, { "code": "dateTime" }] }),
            ),
        ],
    )
}

fn favorite_color() -> Value {
    structure_definition(
        "favorite-color",
        "FavoriteColor",
        "complex-type",
        "Extension",
        json!({ "title": "Favorite color", "context": [{ "type": "element", "expression": "Patient" }] }),
        vec![
            element("Extension", (0, "1"), ("Extension", 0, "*"), json!({ "short": "Favorite color" })),
            element("Extension.extension", (0, "0"), ("Extension.extension", 0, "*"), json!({})),
            element(
                "Extension.url",
                (1, "1"),
                ("Extension.url", 1, "1"),
                json!({
                    "type": [{ "code": "http://hl7.org/fhirpath/System.String" }],
                    "fixedUri": format!("{CANONICAL}/StructureDefinition/favorite-color")
                }),
            ),
            element(
                "Extension.value[x]",
                (1, "1"),
                ("Extension.value[x]", 0, "1"),
                json!({
                    "short": "The color",
                    "type": [{ "code": "code" }],
                    "binding": { "strength": "required", "valueSet": format!("{CANONICAL}/ValueSet/acme-colors|{VERSION}") }
                }),
            ),
        ],
    )
}

fn acme_colors_value_set() -> Value {
    json!({
        "resourceType": "ValueSet",
        "id": "acme-colors",
        "url": format!("{CANONICAL}/ValueSet/acme-colors"),
        "version": VERSION,
        "name": "AcmeColors",
        "title": "Acme colors",
        "status": "active",
        "compose": { "include": [{ "system": format!("{CANONICAL}/CodeSystem/acme-colors") }] }
    })
}

fn acme_colors_code_system() -> Value {
    let concepts: Vec<Value> =
        [("red", "Red"), ("green", "Green"), ("blue", "Blue")].iter().map(|(c, d)| json!({ "code": c, "display": d })).collect();
    json!({
        "resourceType": "CodeSystem",
        "id": "acme-colors",
        "url": format!("{CANONICAL}/CodeSystem/acme-colors"),
        "version": VERSION,
        "name": "AcmeColors",
        "status": "active",
        "content": "complete",
        "concept": concepts
    })
}

fn identifier_types() -> Value {
    json!({
        "resourceType": "ValueSet",
        "id": "acme-identifier-types",
        "url": format!("{CANONICAL}/ValueSet/acme-identifier-types"),
        "version": VERSION,
        "name": "AcmeIdentifierTypes",
        "title": "Identifier types of Acme member numbers",
        "status": "active",
        "compose": { "include": [{
            "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
            "concept": [
                { "code": "MB", "display": "Member Number" },
                { "code": "MR", "display": "Medical record number" }
            ]
        }] }
    })
}
