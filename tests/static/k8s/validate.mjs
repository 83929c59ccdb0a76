// tests/static/k8s/validate.mjs [FILE...] -- validates every object of a stream of Kubernetes
// manifests (the files, or standard input; e.g. the output of render.sh) against the Kubernetes
// API schemas of the npm package kubernetes-models (package-lock.json pins the version).
//
// Per object:
//   1. apiVersion and kind name a type of the Kubernetes API (no custom resources here);
//   2. the object passes that type's JSON schema: required fields, types (a string where an
//      integer belongs, ...), enumerations, formats;
//   3. no unknown field. The schemas allow them (as Kubernetes' OpenAPI does), but the API
//      server's strict field validation (kubectl's default) rejects them, and a misspelt
//      optional field (`readinesProbe`) would otherwise pass silently. The validators are
//      compiled code with no schema to read, so each field is probed instead: its value is
//      replaced by one of a type no field of the API takes there (an array for a scalar, a
//      string for an object or array); a field the schema knows makes the validator fail at
//      that path (or below it), an unknown one does not.
// YAML is read as version 1.1, as Kubernetes reads it (yes/no/on/off are booleans).
// Prints one line per problem, then "k8s schemas: N objects, M invalid"; exit status 1 when
// any object is invalid, 2 on unreadable input.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

function pointer(path) {
  return path.map((p) => "/" + String(p).replace(/~/g, "~0").replace(/\//g, "~1")).join("");
}

function errorsOf(Model, obj) {
  try {
    new Model(obj).validate();
    return [];
  } catch (e) {
    if (!Array.isArray(e.errors)) throw e;
    return e.errors;
  }
}

function setAt(obj, path, value) {
  const copy = structuredClone(obj);
  let node = copy;
  for (const p of path.slice(0, -1)) node = node[p];
  node[path[path.length - 1]] = value;
  return copy;
}

// Fields below `path` that the schema does not know, as JSON pointers.
function unknownFields(Model, obj, node, path, found) {
  const entries = Array.isArray(node) ? node.map((v, i) => [i, v]) : Object.entries(node);
  for (const [key, value] of entries) {
    const here = [...path, key];
    const composite = value !== null && typeof value === "object";
    const probe = composite ? "\u0000not-an-object" : ["\u0000not-a-scalar"];
    const at = pointer(here);
    const noticed = errorsOf(Model, setAt(obj, here, probe)).some(
      (e) => e.instancePath === at || e.instancePath.startsWith(at + "/"),
    );
    if (!noticed) found.push(at);
    else if (composite) unknownFields(Model, obj, value, here, found);
  }
  return found;
}

async function modelFor(apiVersion, kind) {
  if (!/^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion ?? "") || !/^[A-Za-z0-9]+$/.test(kind ?? "")) return null;
  let mod;
  try {
    mod = await import(`kubernetes-models/${apiVersion}/${kind}`);
  } catch {
    return null;
  }
  const Model = mod[kind];
  return typeof Model === "function" && Model.kind === kind ? Model : null;
}

async function main(files) {
  const sources = files.length
    ? files.map((f) => [f, readFileSync(f, "utf8")])
    : [["-", readFileSync(0, "utf8")]];
  let objects = 0;
  let invalid = 0;
  const report = (what, problem) => console.log(`${what}: ${problem}`);
  for (const [file, text] of sources) {
    for (const doc of parseAllDocuments(text, { version: "1.1" })) {
      if (doc.errors.length) {
        report(file, `does not parse: ${doc.errors[0].message}`);
        process.exitCode = 2;
        continue;
      }
      const obj = doc.toJS();
      if (obj === null || obj === undefined) continue;
      objects++;
      const what = `${obj.kind ?? "?"} ${obj.metadata?.name ?? "?"} (${obj.apiVersion ?? "?"})`;
      const Model = await modelFor(obj.apiVersion, obj.kind);
      if (!Model) {
        invalid++;
        report(what, "not a type of the Kubernetes API");
        continue;
      }
      const problems = errorsOf(Model, obj).map((e) => `${e.instancePath || "/"} ${e.message}`);
      for (const at of unknownFields(Model, obj, obj, [], [])) problems.push(`${at}: unknown field`);
      if (problems.length) invalid++;
      for (const problem of problems) report(what, problem);
    }
  }
  console.log(`k8s schemas: ${objects} objects, ${invalid} invalid`);
  if (invalid && !process.exitCode) process.exitCode = 1;
  if (!objects && !process.exitCode) {
    console.log("no object to validate");
    process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((e) => {
  console.error(e);
  process.exitCode = 2;
});
