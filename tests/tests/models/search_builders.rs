//! Typed search builders (`fhir_models::search`, generated per R4 resource): realistic searches render to the
//! expected query pairs, every rendered query parses back to the same builder, values are escaped as FHIR
//! requires, and bad queries are refused with a typed error.

use fhir_models::r4::{
    AdministrativeGender, ConditionSearch, Coverage, CoverageSearch, ExplanationOfBenefitSearch, MedicationRequestSearch,
    MedicationrequestStatus, ObservationSearch, ObservationStatus, Organization, Patient, PatientSearch, Practitioner,
    PractitionerRole,
    ProcedureSearch,
};
use fhir_models::search::{
    escape, split_unescaped, unescape, Prefix, QuantityValue, Reference, Search, SearchError, Summary, Token, Total,
    COUNT_CAP,
};
use fhir_models::{Date, DateTime, Decimal, FhirResource, Instant};

fn pairs<R, M>(s: &Search<R, M>) -> Vec<(&str, &str)> {
    s.pairs().iter().map(|(n, v)| (n.as_str(), v.as_str())).collect()
}

/// Renders, parses the query string back, and checks that nothing changed.
fn round_trip<R: fhir_models::search::Searchable>(s: &Search<R>) {
    let query = s.query_string();
    let back = Search::<R>::from_query(&query).unwrap_or_else(|e| panic!("{query}: {e}"));
    assert_eq!(&back, s, "{query}");
    let back = Search::<R>::from_pairs(s.pairs().to_vec()).unwrap();
    assert_eq!(&back, s);
}

fn dt(text: &str) -> DateTime {
    DateTime::new(text).unwrap()
}

#[test]
fn observation_by_loinc_code() {
    let q = ObservationSearch::new().code().is(Token::new("http://loinc.org", "29308-4"));
    assert_eq!(pairs(&q), [("code", "http://loinc.org|29308-4")]);
    assert_eq!(q.query_string(), "code=http://loinc.org%7C29308-4");
    round_trip(&q);
    let q = ObservationSearch::new().code().is("29308-4");
    assert_eq!(pairs(&q), [("code", "29308-4")]);
    round_trip(&q);
}

#[test]
fn condition_by_snomed_code() {
    let q = ConditionSearch::new()
        .code()
        .is(Token::new("http://snomed.info/sct", "3928002"))
        .subject()
        .is(Reference::to::<Patient>("f001"));
    assert_eq!(pairs(&q), [("code", "http://snomed.info/sct|3928002"), ("subject", "Patient/f001")]);
    round_trip(&q);
}

#[test]
fn patient_by_content() {
    let q = PatientSearch::new()._content("Atul Gawande");
    assert_eq!(pairs(&q), [("_content", "Atul Gawande")]);
    assert_eq!(q.query_string(), "_content=Atul%20Gawande");
    round_trip(&q);
}

#[test]
fn explanation_of_benefit_by_patient_and_last_updated() {
    let q = ExplanationOfBenefitSearch::new()
        .patient()
        .is(Reference::to::<Patient>("ab2f1a8c"))
        ._last_updated()
        .ge(Instant::new("2021-01-01T00:00:00Z").unwrap())
        ._last_updated()
        .lt(Date::new("2022").unwrap());
    assert_eq!(
        pairs(&q),
        [("patient", "Patient/ab2f1a8c"), ("_lastUpdated", "ge2021-01-01T00:00:00Z"), ("_lastUpdated", "lt2022")]
    );
    round_trip(&q);
}

#[test]
fn coverage_by_beneficiary_with_include() {
    let q = CoverageSearch::new()
        .beneficiary()
        .is(Reference::to::<Patient>("123"))
        .payor()
        .include()
        .beneficiary()
        .include_only::<Patient>();
    assert_eq!(
        pairs(&q),
        [("beneficiary", "Patient/123"), ("_include", "Coverage:payor"), ("_include", "Coverage:beneficiary:Patient")]
    );
    round_trip(&q);
}

#[test]
fn patient_demographics_with_bound_gender() {
    let q = PatientSearch::new()
        .family()
        .exact("Chalmers")
        .given()
        .any_of(["Peter", "Jim"])
        .birthdate()
        .eq(Date::new("1974-12-25").unwrap())
        .gender()
        .is(AdministrativeGender::Male)
        .identifier()
        .is(Token::new("urn:oid:1.2.36.146.595.217.0.1", "12345"));
    assert_eq!(
        pairs(&q),
        [
            ("family:exact", "Chalmers"),
            ("given", "Peter,Jim"),
            ("birthdate", "1974-12-25"),
            ("gender", "male"),
            ("identifier", "urn:oid:1.2.36.146.595.217.0.1|12345"),
        ]
    );
    round_trip(&q);
}

#[test]
fn vital_signs_in_a_period_newest_first() {
    let q = ObservationSearch::new()
        .category()
        .is(Token::new("http://terminology.hl7.org/CodeSystem/observation-category", "vital-signs"))
        .status()
        .any_of([ObservationStatus::Final, ObservationStatus::Amended])
        .date()
        .ge(dt("2020-01-01"))
        .date()
        .lt(dt("2021-01-01"))
        .date()
        .sort_desc()
        ._count(100)
        .unwrap();
    assert_eq!(
        pairs(&q),
        [
            ("category", "http://terminology.hl7.org/CodeSystem/observation-category|vital-signs"),
            ("status", "final,amended"),
            ("date", "ge2020-01-01"),
            ("date", "lt2021-01-01"),
            ("_sort", "-date"),
            ("_count", "100"),
        ]
    );
    round_trip(&q);
}

#[test]
fn blood_pressure_over_140_by_composite() {
    let q = ObservationSearch::new().code_value_quantity().is(
        Token::new("http://loinc.org", "8480-6"),
        (Prefix::Gt, QuantityValue::new(140).unit("http://unitsofmeasure.org", "mm[Hg]")),
    );
    assert_eq!(pairs(&q), [("code-value-quantity", "http://loinc.org|8480-6$gt140|http://unitsofmeasure.org|mm[Hg]")]);
    round_trip(&q);
    let q = ObservationSearch::new()
        .value_quantity()
        .le(QuantityValue::new(Decimal::new("5.40").unwrap()).code("mmol/L"));
    assert_eq!(pairs(&q), [("value-quantity", "le5.40||mmol/L")]);
    round_trip(&q);
}

#[test]
fn active_medications_of_a_patient_with_prescriber() {
    let q = MedicationRequestSearch::new()
        .patient()
        .is(Reference::to::<Patient>("p1"))
        .status()
        .is(MedicationrequestStatus::Active)
        .requester()
        .include_only::<Practitioner>()
        ._include_iterate(fhir_models::r4::PractitionerRoleSearch::select().organization())
        ._elements(["medication", "dosageInstruction"])
        ._total(Total::Accurate);
    assert_eq!(
        pairs(&q),
        [
            ("patient", "Patient/p1"),
            ("status", "active"),
            ("_include", "MedicationRequest:requester:Practitioner"),
            ("_include:iterate", "PractitionerRole:organization"),
            ("_elements", "medication,dosageInstruction"),
            ("_total", "accurate"),
        ]
    );
    round_trip(&q);
}

#[test]
fn patient_everything_style_revinclude() {
    let q = PatientSearch::new()
        ._id()
        .is("123")
        ._revinclude(ObservationSearch::select().subject())
        ._revinclude(fhir_models::r4::EncounterSearch::select().patient())
        ._summary(Summary::Data);
    assert_eq!(
        pairs(&q),
        [("_id", "123"), ("_revinclude", "Observation:subject"), ("_revinclude", "Encounter:patient"), ("_summary", "data")]
    );
    round_trip(&q);
}

#[test]
fn chained_search_along_declared_targets() {
    let q = ObservationSearch::new()
        .subject()
        .chain::<Patient>(|p| p.name().is("peter").birthdate().lt(Date::new("1980").unwrap()))
        .performer()
        .chain::<PractitionerRole>(|p| p.organization().chain::<Organization>(|o| o.name().contains("Acme")));
    assert_eq!(
        pairs(&q),
        [
            ("subject:Patient.name", "peter"),
            ("subject:Patient.birthdate", "lt1980"),
            ("performer:PractitionerRole.organization:Organization.name:contains", "Acme"),
        ]
    );
    round_trip(&q);
}

#[test]
fn identifier_of_type_and_token_modifiers() {
    let q = PatientSearch::new()
        .identifier()
        .of_type(Token::new("http://terminology.hl7.org/CodeSystem/v2-0203", "MR"), "446053")
        .language()
        .not("fr")
        .general_practitioner()
        .typed::<Practitioner>("pr1")
        .link()
        .missing(true);
    assert_eq!(
        pairs(&q),
        [
            ("identifier:of-type", "http://terminology.hl7.org/CodeSystem/v2-0203|MR|446053"),
            ("language:not", "fr"),
            ("general-practitioner:Practitioner", "pr1"),
            ("link:missing", "true"),
        ]
    );
    round_trip(&q);
    let q = ConditionSearch::new()
        .code()
        .below(Token::new("http://snomed.info/sct", "195967001"))
        .code()
        .in_value_set("http://hl7.org/fhir/ValueSet/condition-code")
        .code()
        .text("asthma");
    assert_eq!(
        pairs(&q),
        [
            ("code:below", "http://snomed.info/sct|195967001"),
            ("code:in", "http://hl7.org/fhir/ValueSet/condition-code"),
            ("code:text", "asthma"),
        ]
    );
    round_trip(&q);
}

#[test]
fn procedures_in_a_year_sorted_with_raw_escape_hatch() {
    let q = ProcedureSearch::new()
        .date()
        .sa(dt("2019-12-31"))
        .date()
        .eb(dt("2021"))
        .date()
        .sort_asc()
        ._last_updated()
        .sort_desc()
        .raw("_has:Observation:partof:code", "1234-5");
    assert_eq!(
        pairs(&q),
        [
            ("date", "sa2019-12-31"),
            ("date", "eb2021"),
            ("_sort", "date,-_lastUpdated"),
            ("_has:Observation:partof:code", "1234-5"),
        ]
    );
    round_trip(&q);
}

#[test]
fn values_are_escaped_per_component() {
    let q = PatientSearch::new()
        .family()
        .is(r"O'Brien, Jr | $5 \ more")
        .identifier()
        .is(Token::new("urn:sys|a", "v,1$2"))
        .address()
        .any_of(["a,b", "c"]);
    assert_eq!(
        pairs(&q),
        [
            ("family", r"O'Brien\, Jr \| \$5 \\ more"),
            ("identifier", r"urn:sys\|a|v\,1\$2"),
            ("address", r"a\,b,c"),
        ]
    );
    let parts = split_unescaped(&q.pairs()[1].1, '|');
    assert_eq!(parts.iter().map(|p| unescape(p)).collect::<Vec<_>>(), ["urn:sys|a", "v,1$2"]);
    assert_eq!(split_unescaped(&q.pairs()[2].1, ',').len(), 2);
    round_trip(&q);
    assert_eq!(escape(r"\,|$"), r"\\\,\|\$");
}

#[test]
fn query_strings_percent_encode_and_decode() {
    let q = PatientSearch::new().name().is("Zoë & co=1+1%").family().is("a b");
    let qs = q.query_string();
    assert_eq!(qs, "name=Zo%C3%AB%20%26%20co%3D1%2B1%25&family=a%20b");
    assert_eq!(PatientSearch::from_query(&format!("?{qs}")).unwrap(), q);
    // Forms write spaces as `+`.
    let form = PatientSearch::from_query("family=a+b").unwrap();
    assert_eq!(pairs(&form), [("family", "a b")]);
}

#[test]
fn count_is_capped() {
    assert!(PatientSearch::new()._count(COUNT_CAP).is_ok());
    assert_eq!(
        PatientSearch::new()._count(COUNT_CAP + 1).unwrap_err(),
        SearchError::CountOverCap { count: (COUNT_CAP + 1).to_string(), cap: COUNT_CAP }
    );
    assert!(matches!(PatientSearch::from_query("_count=5000"), Err(SearchError::CountOverCap { .. })));
    assert!(matches!(PatientSearch::from_query("_count=ten"), Err(SearchError::CountOverCap { .. })));
}

#[test]
fn parsing_refuses_what_the_builders_cannot_say() {
    use SearchError::*;
    let err = |q: &str| PatientSearch::from_query(q).unwrap_err();
    assert!(matches!(err("code=1234"), UnknownParameter { name, .. } if name == "code"));
    assert!(matches!(err("name:above=x"), ModifierNotAllowed { modifier, .. } if modifier == "above"));
    assert!(matches!(err("birthdate:contains=2020"), ModifierNotAllowed { .. }));
    assert!(matches!(err("birthdate=gt20x0"), InvalidValue { .. }));
    assert!(matches!(err("general-practitioner:Patient=1"), NotATarget { target, .. } if target == "Patient"));
    assert!(matches!(err("general-practitioner.name=x"), AmbiguousChain { .. }));
    assert!(matches!(err("general-practitioner:Practitioner.code=x"), UnknownParameter { resource, .. } if resource == "Practitioner"));
    assert!(matches!(err("name.family=x"), NotAReference { .. }));
    assert!(matches!(err("_include=Observation:subject"), InvalidValue { .. }));
    assert!(matches!(err("_include=Patient:name"), NotAReference { .. }));
    assert!(matches!(err("_revinclude=Coverage:payor:Practitioner"), NotATarget { .. }));
    assert!(matches!(err("_revinclude=Practitioner:qualification-issuer"), UnknownParameter { .. } | NotATarget { .. }));
    assert!(matches!(err("_summary=maybe"), InvalidValue { .. }));
    assert!(matches!(err("_sort=-nonsense"), UnknownParameter { .. }));
    assert!(matches!(err("family=%zz"), Encoding { .. }));
    assert!(matches!(err("gender:missing=perhaps"), InvalidValue { .. }));
    assert!(matches!(ObservationSearch::from_query("code-value-quantity=a$b$c"), Err(InvalidValue { .. })));
    assert!(matches!(ObservationSearch::from_query("value-quantity=ge5.4.3"), Err(InvalidValue { .. })));
    // Errors read well.
    assert_eq!(err("code=1").to_string(), "Patient has no search parameter `code`");
    assert_eq!(
        err("name:above=x").to_string(),
        "modifier `:above` is not allowed on `name` (a String parameter)"
    );
}

#[test]
fn parsing_accepts_spec_forms_the_builders_do_not_write() {
    for q in [
        "general-practitioner=Practitioner/1",
        "general-practitioner:Practitioner=1",
        "general-practitioner=http://example.org/fhir/Practitioner/1",
        "organization.name=Acme",
        "_has:Observation:patient:code=1234-5",
        "_format=json&_pretty=true",
        "birthdate=1974,1975",
        "_include=*",
        "_revinclude:iterate=Provenance:target",
        "_revinclude=Provenance:target",
        "_revinclude=Coverage:beneficiary:Patient",
    ] {
        PatientSearch::from_query(q).unwrap_or_else(|e| panic!("{q}: {e}"));
    }
}

#[test]
fn every_generated_table_is_sorted_and_consistent() {
    use fhir_models::search::{ParamKind, Searchable};
    fn check<R: Searchable>() {
        let params = R::SEARCH_PARAMS;
        assert!(!params.is_empty(), "{}", R::RESOURCE_TYPE);
        assert!(params.windows(2).all(|w| w[0].code < w[1].code), "{} not sorted", R::RESOURCE_TYPE);
        for p in params {
            assert_eq!(p.kind == ParamKind::Composite, !p.components.is_empty(), "{}.{}", R::RESOURCE_TYPE, p.code);
            for t in p.targets {
                assert!(R::search_params_of(t).is_some(), "{}.{} targets unknown {t}", R::RESOURCE_TYPE, p.code);
            }
        }
        assert_eq!(R::search_params_of(R::RESOURCE_TYPE), Some(params));
    }
    check::<Patient>();
    check::<Coverage>();
    check::<fhir_models::r4::Observation>();
    check::<fhir_models::r4::ExplanationOfBenefit>();
    check::<fhir_models::r4::Provenance>();
    assert_eq!(<Patient as FhirResource>::RESOURCE_TYPE, "Patient");
}

/// Parameters of the US implementation guides (`searchParameters` in `spec/manifest.json`) join the core ones on
/// their base resource's builder, typed the same way: US Core's race, CARIN BB's service date, Plan-Net's network,
/// the Formulary's coverage.
#[test]
fn implementation_guide_parameters_join_the_builders() {
    let q = PatientSearch::new()
        .race()
        .is(Token::new("urn:oid:2.16.840.1.113883.6.238", "2106-3"))
        .ethnicity()
        .is(Token::new("urn:oid:2.16.840.1.113883.6.238", "2186-5"));
    assert_eq!(
        pairs(&q),
        [("race", "urn:oid:2.16.840.1.113883.6.238|2106-3"), ("ethnicity", "urn:oid:2.16.840.1.113883.6.238|2186-5")]
    );
    round_trip(&q);
    let q = ExplanationOfBenefitSearch::new()
        .patient()
        .is(Reference::to::<Patient>("p1"))
        .service_date()
        .ge(Date::new("2021-01").unwrap());
    assert_eq!(pairs(&q), [("patient", "Patient/p1"), ("service-date", "ge2021-01")]);
    round_trip(&q);
    let q = fhir_models::r4::PractitionerRoleSearch::new()
        .network()
        .is(Reference::to::<Organization>("net-1"))
        .network()
        .include();
    assert_eq!(pairs(&q), [("network", "Organization/net-1"), ("_include", "PractitionerRole:network")]);
    round_trip(&q);
    let q = fhir_models::r4::InsurancePlanSearch::from_query("formulary-coverage=InsurancePlan/f1").unwrap();
    assert_eq!(q, fhir_models::r4::InsurancePlanSearch::new().formulary_coverage().id_or_url("InsurancePlan/f1"));
    // The core definition stays where an IG re-declares a core parameter (same kind, same targets).
    assert!(PatientSearch::from_query("birthdate=ge1970").is_ok());
}

/// US Core 8.0.0 and CARIN BB 2.0.0 are listed after 3.1.1 and 1.1.0 in `searchParameters`: the parameters they
/// introduce join the builders (US Core 8's CareTeam `role`, Condition `asserted-date`, Encounter
/// `discharge-disposition`, Goal `description`; CARIN BB 2's `billable-period-start` and `service-start-date`),
/// and where a later definition narrows one the builder already has, the first stays (the core's Observation
/// `patient` takes `Group` as well as `Patient`, although US Core 8.0.0 declares only `Patient`).
#[test]
fn newer_ig_releases_add_their_parameters_without_changing_existing_ones() {
    use fhir_models::r4::{CareTeamSearch, EncounterSearch, Goal, GoalSearch, Group};
    use fhir_models::search::{ParamKind, Searchable};
    let q = CareTeamSearch::new().role().is(Token::new("http://snomed.info/sct", "17561000"));
    assert_eq!(pairs(&q), [("role", "http://snomed.info/sct|17561000")]);
    round_trip(&q);
    let q = ConditionSearch::new().asserted_date().ge(dt("2024-01-01T00:00:00Z"));
    assert_eq!(pairs(&q), [("asserted-date", "ge2024-01-01T00:00:00Z")]);
    round_trip(&q);
    let q = EncounterSearch::new().discharge_disposition().is("home");
    assert_eq!(pairs(&q), [("discharge-disposition", "home")]);
    round_trip(&q);
    let q = GoalSearch::new().description().text("weight");
    assert_eq!(pairs(&q), [("description:text", "weight")]);
    round_trip(&q);
    let q = ExplanationOfBenefitSearch::new()
        .billable_period_start()
        .ge(Date::new("2023").unwrap())
        .service_start_date()
        .lt(Date::new("2024-02").unwrap());
    assert_eq!(pairs(&q), [("billable-period-start", "ge2023"), ("service-start-date", "lt2024-02")]);
    round_trip(&q);
    let description = Goal::search_params_of("Goal").unwrap().iter().find(|p| p.code == "description").unwrap();
    assert_eq!(description.kind, ParamKind::Token);

    // The first definition stays: the core's targets, not US Core 8.0.0's narrower ones.
    let q = ObservationSearch::new().patient().is(Reference::to::<Group>("g1"));
    assert_eq!(pairs(&q), [("patient", "Group/g1")]);
    let patient = fhir_models::r4::Observation::SEARCH_PARAMS.iter().find(|p| p.code == "patient").unwrap();
    assert_eq!(patient.targets, ["Group", "Patient"]);
}
