#!/bin/sh
# tools/node-ok.sh -- exits 0 when the `node` on PATH can build the web frontend: Vite needs
# Node.js ^20.19 or >= 22.12 (services/web/package.json, "engines"). Debian 12's nodejs is 18.
exec node -e '
const [a, b] = process.versions.node.split(".").map(Number);
process.exit((a === 20 && b >= 19) || (a === 22 && b >= 12) || a > 22 ? 0 : 1);
' 2>/dev/null
