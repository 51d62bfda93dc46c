/** SQL files are bundled as text (esbuild's text loader; tools/jest/text-transform.js in tests). */
declare module '*.sql' {
  const text: string;
  export default text;
}
