import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import wabtInit from 'wabt';
import { TREE_WALK_WASM } from './tree-walk-wasm';

describe('the TreeSHAP walk module', () => {
  it('is tree-walk.wat as committed (after editing the .wat, run npm run build:wasm)', async () => {
    const wabt = await wabtInit();
    const source = path.join(__dirname, 'tree-walk.wat');
    const module = wabt.parseWat(source, readFileSync(source, 'utf8'));
    module.validate();
    const bytes = Buffer.from(module.toBinary({}).buffer);
    module.destroy();
    expect(Buffer.from(TREE_WALK_WASM, 'base64').equals(bytes)).toBe(true);
  });
});
