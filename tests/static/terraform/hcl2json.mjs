// hcl2json.mjs FILE... -- prints {"files": {FILE: <the file as JSON>}, "errors": {FILE: "message"}}
// for Terraform (HCL2) files, parsed by @cdktf/hcl2json (HashiCorp's HCL parser built to
// WebAssembly): blocks become objects of lists, expressions "${...}" strings. Used by
// tests/static (terraform_checks.py); exit status 0 even when a file does not parse (the
// errors are the checks' to report), 2 when the parser itself cannot be loaded.
import { readFileSync } from "node:fs";

let parse;
try {
    ({ parse } = await import("@cdktf/hcl2json"));
} catch (e) {
    console.error(`hcl2json: cannot load @cdktf/hcl2json (tests/static/terraform/setup.sh): ${e.message}`);
    process.exit(2);
}
const out = { files: {}, errors: {} };
for (const file of process.argv.slice(2)) {
    try {
        out.files[file] = await parse(file, readFileSync(file, "utf8"));
    } catch (e) {
        out.errors[file] = String(e && e.message ? e.message : e).trim();
    }
}
process.stdout.write(JSON.stringify(out));
