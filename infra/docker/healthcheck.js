#!/usr/bin/env node
'use strict';
// The image's HEALTHCHECK: exit 0 when the worker's (or producer's) /healthz answers 200 on
// CHURN_METRICS_PORT, the port given to `--metrics-port`. Runs in the image as /app/healthcheck.js.
const port = Number(process.env.CHURN_METRICS_PORT || 9464);
const path = process.argv[2] || '/healthz';
fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(4000) }).then(
  (res) => process.exit(res.status === 200 ? 0 : 1),
  (error) => {
    process.stderr.write(`healthcheck: http://127.0.0.1:${port}${path}: ${error.message}\n`);
    process.exit(1);
  },
);
