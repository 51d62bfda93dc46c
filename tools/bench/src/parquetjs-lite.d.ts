// parquetjs-lite ships no types; only the row-cursor API the baseline uses is declared.
declare module 'parquetjs-lite' {
  export class ParquetReader {
    static openFile(path: string): Promise<ParquetReader>;
    getCursor(columns?: string[]): { next(): Promise<unknown> };
    close(): Promise<void>;
  }
}
