#!/usr/bin/env node
'use strict';
// Entry point of the `churn` command (npx churn ...). The code is the esbuild bundle that
// `npm ci` / `npm run build` writes to dist/.
const path = require('node:path');
const fs = require('node:fs');

const entry = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
if (!fs.existsSync(entry)) {
  process.stderr.write(`churn is not built yet: run \`npm run build\` in ${path.dirname(__dirname)}\n`);
  process.exit(1);
}
// Scoring commands run under their Node flags (node-runtime.js): when started without them, this
// process only relays to a child that has them.
const runtime = require('./node-runtime.js');
if (!runtime.reexecWithFlags(__filename)) {
  runtime.watchParent();
  process.setSourceMapsEnabled(true);
  require(entry);
}
