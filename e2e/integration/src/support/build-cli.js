const { execFileSync } = require('node:child_process');
const path = require('node:path');

module.exports = async () => {
  execFileSync(process.execPath, [path.join(__dirname, '..', '..', '..', '..', 'tools', 'build.mjs')], {
    cwd: path.join(__dirname, '..', '..', '..', '..'),
    stdio: 'inherit',
  });
};
