import { tableFromArrays } from 'apache-arrow';
import { readParquetBytes, writeParquetTable } from './parquet-writer';

function sampleTable(rows: number) {
  return tableFromArrays({
    customer_id: Array.from({ length: rows }, (_, i) => `cust-${String(i).padStart(5, '0')}`),
    tenure_days: Int32Array.from({ length: rows }, (_, i) => i * 3),
    mrr: Float64Array.from({ length: rows }, (_, i) => i / 4),
  });
}

describe('writeParquetTable / readParquetBytes', () => {
  it('roundtrips values with every compression', () => {
    const table = sampleTable(300);
    for (const compression of ['snappy', 'zstd', 'none'] as const) {
      const bytes = writeParquetTable(table, { compression });
      expect(Buffer.from(bytes.subarray(0, 4)).toString('latin1')).toBe('PAR1');
      expect(Buffer.from(bytes.subarray(-4)).toString('latin1')).toBe('PAR1');
      const back = readParquetBytes(bytes);
      expect(back.numRows).toBe(300);
      expect(back.schema.fields.map((f) => f.name)).toEqual(['customer_id', 'tenure_days', 'mrr']);
      expect(back.getChild('customer_id')?.get(299)).toBe('cust-00299');
      expect(back.getChild('tenure_days')?.get(7)).toBe(21);
      expect(back.getChild('mrr')?.get(10)).toBe(2.5);
    }
  });

  it('decodes only the requested columns, in the order asked for', () => {
    const bytes = writeParquetTable(sampleTable(10));
    const back = readParquetBytes(bytes, ['mrr']);
    expect(back.schema.fields.map((f) => f.name)).toEqual(['mrr']);
    expect(Array.from(back.getChild('mrr')?.toArray() ?? [])).toEqual(Array.from({ length: 10 }, (_, i) => i / 4));
    expect(readParquetBytes(bytes, ['mrr', 'customer_id']).schema.fields.map((f) => f.name)).toEqual(['mrr', 'customer_id']);
  });

  it('rejects a missing column with CONTRACT_VIOLATION naming it', () => {
    const bytes = writeParquetTable(sampleTable(3));
    expect(() => readParquetBytes(bytes, ['mrr', 'seats'])).toThrow(
      expect.objectContaining({ name: 'ChurnError', code: 'CONTRACT_VIOLATION', message: expect.stringContaining('"seats"') }),
    );
  });

  it('compresses repetitive data (snappy/zstd smaller than uncompressed)', () => {
    const table = tableFromArrays({ s: Array.from({ length: 5000 }, (_, i) => `same-prefix-value-${i % 3}`) });
    const none = writeParquetTable(table, { compression: 'none' }).byteLength;
    expect(writeParquetTable(table, { compression: 'zstd' }).byteLength).toBeLessThanOrEqual(none);
    expect(writeParquetTable(table, { compression: 'snappy' }).byteLength).toBeLessThanOrEqual(none);
  });

  it('writes key-value metadata into the footer', () => {
    const bytes = writeParquetTable(sampleTable(5), { metadata: { run_id: 'run-2024-01-31', model: 'm-1' } });
    const text = Buffer.from(bytes).toString('latin1');
    expect(text).toContain('run_id');
    expect(text).toContain('run-2024-01-31');
    expect(readParquetBytes(bytes).numRows).toBe(5);
  });
});
