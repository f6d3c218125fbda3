#!/usr/bin/env python3
"""Writes fhirpath/src/r4-types.tsv, the FHIR R4 type table of the FHIRPath engine (is/as/ofType, choices).

One line per type: `Name<TAB>!kind:Base`; then one line per element a type defines itself (inherited elements are
found through the base chain at run time): `path<TAB>types`, where `types` is a comma-separated list of type codes,
`#Other.path` for a contentReference, or `@BackboneElement` for an element whose children are listed under its own
path. Choice elements keep their `[x]`.
Run: python3 fhirpath/scripts/gen-r4-types.py '../shared/fhir-packages/hl7.fhir.r4.core#4.0.1/package'
"""
import glob, json, os, sys

pkg = sys.argv[1]
out = os.path.join(os.path.dirname(__file__), "..", "src", "r4-types.tsv")
sds = {}
for fname in sorted(glob.glob(os.path.join(pkg, "StructureDefinition-*.json"))):
    sd = json.load(open(fname))
    if sd.get("derivation") != "specialization" or sd["kind"] == "logical":
        continue
    sds[sd["type"]] = sd

def own_paths(name):
    sd = sds.get(name)
    return {el["path"].split(".", 1)[1] for el in sd["snapshot"]["element"][1:]} if sd else set()

kinds, lines = [], []
for name, sd in sds.items():
    base = sd.get("baseDefinition", "").rsplit("/", 1)[-1]
    kinds.append("%s\t!%s:%s" % (name, sd["kind"], base))
    inherited = set()
    b = base
    while b in sds:
        inherited |= own_paths(b)
        b = sds[b].get("baseDefinition", "").rsplit("/", 1)[-1]
    elems = sd["snapshot"]["element"]
    paths = [el["path"] for el in elems]
    for el in elems[1:]:
        p = el["path"]
        rel = p.split(".", 1)[1]
        last = p.rsplit(".", 1)[1]
        if rel in inherited or ("." in rel and last in ("id", "extension", "modifierExtension")):
            continue
        if "contentReference" in el:
            lines.append("%s\t%s" % (p, el["contentReference"]))
            continue
        codes = []
        for t in el.get("type", []):
            c = t["code"]
            if c.startswith("http://hl7.org/fhirpath/System."):
                c = {"String": "string", "Boolean": "boolean", "Integer": "integer", "Decimal": "decimal",
                     "Date": "date", "DateTime": "dateTime", "Time": "time"}.get(c.rsplit(".", 1)[-1], "string")
            codes.append(c)
        if codes in (["BackboneElement"], ["Element"]) and any(q.startswith(p + ".") for q in paths):
            codes = ["@" + codes[0]]
        lines.append("%s\t%s" % (p, ",".join(codes)))
with open(out, "w") as f:
    f.write("\n".join(kinds + lines) + "\n")
print(out, len(kinds), "types", len(lines), "elements")
