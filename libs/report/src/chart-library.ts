import { readFile } from 'node:fs/promises';
import * as path from 'node:path';

/**
 * Chart.js's browser bundle (UMD, minified), read from the installed package so a report inlines
 * exactly the pinned version (docs/decisions.md). The package's export map has no entry for the
 * UMD file, so it is found beside the CommonJS entry.
 */
export async function loadChartLibrary(): Promise<string> {
  const entry = require.resolve('chart.js');
  return readFile(path.join(path.dirname(entry), 'chart.umd.min.js'), 'utf8');
}
