/**
 * The part of the WebAssembly JavaScript API that the TreeSHAP and coalition walks use. Node has
 * the global, but TypeScript declares it only in the DOM libs, which no project here loads.
 */
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Memory {
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
  type ExportValue = Memory | ((...args: number[]) => number | void);
  class Instance {
    constructor(module: Module, imports: Record<string, never>);
    readonly exports: Record<string, ExportValue>;
  }
}
