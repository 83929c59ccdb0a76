// Copies the AsyncAPI document of the events (../../proto-docs/events.asyncapi.yaml) into
// public/, so the build serves it as a static file at /events.asyncapi.yaml. Run by
// `npm run build` (prebuild) and `npm run dev`; the copy is not committed.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, '..', '..', '..', 'proto-docs', 'events.asyncapi.yaml');
const dst = join(here, '..', 'public', 'events.asyncapi.yaml');
mkdirSync(dirname(dst), { recursive: true });
copyFileSync(src, dst);
console.log(`copy-docs: ${src} -> ${dst}`);
