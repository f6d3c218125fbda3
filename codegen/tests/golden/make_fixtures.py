# Writes the golden-test package fixtures into the folder given as its argument (`tests/golden.rs` runs it into a
# temporary folder on every test run; the packages are not committed). Each case is a tiny core package (and for
# `profile`, an IG over it) with exactly the StructureDefinitions its construct needs. Run with no argument it
# writes beside itself, and also rewrites each case's `spec.json` (which is committed).
import json, os, sys

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))

def el(path, mn=0, mx="1", types=None, **kw):
    e = {"id": kw.pop("id", path), "path": path, "min": mn, "max": mx}
    if types:
        e["type"] = [{"code": t} for t in types]
    e.update(kw)
    return e

def sd(name, kind, elements, url=None, **kw):
    d = {"resourceType": "StructureDefinition", "id": name, "url": url or f"http://golden.example/StructureDefinition/{name}",
         "version": "0.0.1", "name": name, "status": "active", "kind": kind, "abstract": False, "type": name,
         "derivation": "specialization", "snapshot": {"element": elements}}
    d.update(kw)
    return d

def write(case, pkg, resources, deps=None):
    root = os.path.join(OUT, case, "packages", pkg, "package")
    os.makedirs(root, exist_ok=True)
    pid, ver = pkg.split("#")
    json.dump({"name": pid, "version": ver, "dependencies": deps or {}}, open(os.path.join(root, "package.json"), "w"), indent=2)
    for r in resources:
        json.dump(r, open(os.path.join(root, f"{r['resourceType']}-{r['id']}.json"), "w"), indent=2)

def spec(case, **kw):
    s = {"module": "golden", "marker": "Golden", "fhirVersion": "4.0.1", "core": "golden.core#0.0.1", "baseResources": []}
    s.update(kw)
    if len(sys.argv) == 1:
        json.dump(s, open(os.path.join(OUT, case, "spec.json"), "w"), indent=2)

coding = sd("Coding", "complex-type", [el("Coding", mx="*"), el("Coding.system", types=["uri"]), el("Coding.code", types=["code"])])

# backbone: a resource with a nested backbone element (a struct per path).
write("backbone", "golden.core#0.0.1", [sd("Widget", "resource", [
    el("Widget", mx="*"), el("Widget.id", types=["id"]), el("Widget.part", mx="*", types=["BackboneElement"], short="A part"),
    el("Widget.part.name", mn=1, types=["string"], short="Its name"), el("Widget.part.detail", types=["BackboneElement"]),
    el("Widget.part.detail.note", types=["markdown"])])])
spec("backbone")

# choice: value[x] of primitive and complex types.
write("choice", "golden.core#0.0.1", [coding, sd("Gauge", "resource", [
    el("Gauge", mx="*"), el("Gauge.value[x]", types=["string", "boolean", "dateTime", "Coding"], short="The reading")])])
spec("choice")

# required binding: a code bound (required) to a listable value set becomes an enum with a fallback.
cs = {"resourceType": "CodeSystem", "id": "lamp-state", "url": "http://golden.example/CodeSystem/lamp-state", "version": "0.0.1",
      "name": "LampState", "status": "active", "content": "complete",
      "concept": [{"code": "on", "display": "On"}, {"code": "off", "display": "Off"}, {"code": "entered-in-error", "display": "Entered in error"}]}
vs = {"resourceType": "ValueSet", "id": "lamp-state", "url": "http://golden.example/ValueSet/lamp-state", "version": "0.0.1",
      "name": "LampState", "title": "Lamp state", "status": "active", "compose": {"include": [{"system": cs["url"]}]}}
write("required_binding", "golden.core#0.0.1", [cs, vs, sd("Lamp", "resource", [
    el("Lamp", mx="*"), el("Lamp.state", mn=1, types=["code"], binding={"strength": "required", "valueSet": vs["url"] + "|0.0.1"})])])
spec("required_binding")

# contentReference: an element that repeats another's structure (a tree of items).
write("content_reference", "golden.core#0.0.1", [sd("Outline", "resource", [
    el("Outline", mx="*"), el("Outline.item", mx="*", types=["BackboneElement"]), el("Outline.item.text", types=["string"]),
    el("Outline.item.item", mx="*", contentReference="#Outline.item")])])
spec("content_reference")

# recursion and boxing: a datatype that contains itself through a single-valued field is boxed.
write("recursion", "golden.core#0.0.1", [sd("Node", "complex-type", [
    el("Node", mx="*"), el("Node.label", types=["string"]), el("Node.next", types=["Node"]), el("Node.children", mx="*", types=["Node"])]),
    sd("Tree", "resource", [el("Tree", mx="*"), el("Tree.root", types=["Node"])])])
spec("recursion")

# DSTU2 shapes: no `derivation` (profiles have a constrainedType), nameReference, binding by valueSetReference to
# a value set with its code system inline, fhir_comments on every struct.
dstu2_vs = {"resourceType": "ValueSet", "id": "door-state", "url": "http://golden.example/vs/door-state", "name": "DoorState",
            "status": "active", "codeSystem": {"system": "http://golden.example/door-state",
            "concept": [{"code": "open", "display": "Open"}, {"code": "closed", "display": "Closed"}]}}
def dstu2(name, kind, elements):
    d = sd(name, kind, elements)
    del d["derivation"], d["type"]
    return d
write("dstu2", "golden.core#0.0.1", [dstu2_vs, dstu2("Door", "resource", [
    el("Door", mx="*"), el("Door.state", types=["code"], binding={"strength": "required", "valueSetReference": {"reference": dstu2_vs["url"]}}),
    el("Door.hinge", mx="*", types=["BackboneElement"], name="hinge"), el("Door.hinge.side", types=["string"]),
    el("Door.hinge.spare", mx="*", nameReference="hinge")])])
spec("dstu2", marker="Dstu2", fhirVersion="1.0.2", fhirComments=True)

# profile with slices and extensions, over a core with Extension and Coding.
ext = sd("Extension", "complex-type", [el("Extension", mx="*"), el("Extension.extension", mx="*", types=["Extension"]),
      el("Extension.url", mn=1, types=["uri"]), el("Extension.value[x]", types=["string", "code", "boolean", "Coding"])])
cc = sd("CodeableConcept", "complex-type", [el("CodeableConcept", mx="*"), el("CodeableConcept.coding", mx="*", types=["Coding"]),
      el("CodeableConcept.text", types=["string"])])
pet = sd("Pet", "resource", [el("Pet", mx="*"), el("Pet.extension", mx="*", types=["Extension"]),
      el("Pet.tag", mx="*", types=["CodeableConcept"]), el("Pet.name", types=["string"]), el("Pet.alive", types=["boolean"])])
write("profile", "golden.core#0.0.1", [coding, ext, cc, pet])
kinds = {"resourceType": "ValueSet", "id": "pet-kinds", "url": "http://golden.example/ig/ValueSet/pet-kinds", "version": "1.0.0",
         "name": "PetKinds", "status": "active", "compose": {"include": [{"system": "http://golden.example/kinds",
         "concept": [{"code": "cat", "display": "Cat"}, {"code": "dog", "display": "Dog"}]}]}}
ext_url = "http://golden.example/ig/StructureDefinition/pet-mood"
mood = {"resourceType": "StructureDefinition", "id": "pet-mood", "url": ext_url, "version": "1.0.0", "name": "PetMood", "title": "Pet mood",
        "status": "active", "kind": "complex-type", "abstract": False, "type": "Extension", "derivation": "constraint",
        "snapshot": {"element": [el("Extension", mx="1"), el("Extension.url", mn=1, types=["uri"], fixedUri=ext_url),
                                 el("Extension.value[x]", mn=1, types=["string"])]}}
prof = {"resourceType": "StructureDefinition", "id": "golden-pet", "url": "http://golden.example/ig/StructureDefinition/golden-pet",
        "version": "1.0.0", "name": "GoldenPet", "title": "Golden pet", "description": "A pet with a kind tag and a mood.", "status": "active",
        "kind": "resource", "abstract": False, "type": "Pet", "derivation": "constraint", "snapshot": {"element": [
        el("Pet", mx="*"),
        el("Pet.extension", mx="*", types=["Extension"], slicing={"discriminator": [{"type": "value", "path": "url"}], "rules": "open"}, base={"path": "Pet.extension", "min": 0, "max": "*"}),
        {**el("Pet.extension", id="Pet.extension:mood", mx="1", short="Mood", base={"path": "Pet.extension", "min": 0, "max": "*"}), "sliceName": "mood", "type": [{"code": "Extension", "profile": [ext_url]}]},
        el("Pet.tag", mn=1, mx="*", types=["CodeableConcept"], slicing={"discriminator": [{"type": "value", "path": "coding"}], "rules": "open"}, base={"path": "Pet.tag", "min": 0, "max": "*"}),
        {**el("Pet.tag", id="Pet.tag:kind", mn=1, mx="1", types=["CodeableConcept"], base={"path": "Pet.tag", "min": 0, "max": "*"}), "sliceName": "kind"},
        el("Pet.tag.coding", id="Pet.tag:kind.coding", mn=1, mx="*", types=["Coding"], binding={"strength": "required", "valueSet": kinds["url"]}, base={"path": "CodeableConcept.coding", "min": 0, "max": "*"}),
        el("Pet.name", mn=1, types=["string"], base={"path": "Pet.name", "min": 0, "max": "1"}),
        el("Pet.alive", types=["boolean"], fixedBoolean=True, base={"path": "Pet.alive", "min": 0, "max": "1"})]}}
write("profile", "golden.ig#1.0.0", [kinds, mood, prof], deps={"golden.core": "0.0.1"})
spec("profile", profiles=[{"package": "golden.ig#1.0.0", "module": "golden_ig", "feature": "golden-ig"}])
