// Jest transform for files bundled as text by esbuild's text loader (SQL migrations): the module's
// default export is the file's content, as in the built CLI.
module.exports = {
  process(sourceText) {
    return { code: `module.exports = { __esModule: true, default: ${JSON.stringify(sourceText)} };` };
  },
};
