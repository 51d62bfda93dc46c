import { Bool, Field, Float32, RecordBatch, Schema, Struct, Utf8, makeData, vectorFromArray } from 'apache-arrow';
import { categoryColumn, constantDate, constantTimestamp, nullableNumericColumn, stringColumn } from '@churn/warehouse';
import { copyTextChunks, escapeCopyText, fieldEncoder, jsonObjectEncoder } from './copy-encoder';

function batchOf(columns: Record<string, ReturnType<typeof stringColumn>>): RecordBatch {
  const fields = Object.entries(columns).map(([name, v]) => new Field(name, v.type, true));
  const n = Object.values(columns)[0]!.length;
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: n, nullCount: 0, children: Object.values(columns).map((v) => v.data[0]!) }));
}

describe('COPY text encoding', () => {
  it('escapes backslash, tab, newline and carriage return, and nothing else', () => {
    expect(escapeCopyText('plain, "quoted" é')).toBe('plain, "quoted" é');
    expect(escapeCopyText('a\tb\nc\rd\\e')).toBe('a\\tb\\nc\\rd\\\\e');
  });

  it('writes each Arrow type as PostgreSQL reads it, with \\N for null', () => {
    const batch = batchOf({
      id: stringColumn(['C1', 'C\t2', null]),
      name: stringColumn(['émile', 'x', 'y']),
      band: categoryColumn(Int32Array.from([0, 1, -1]), ['low', 'high']),
      score: vectorFromArray([0.25, 0.1, null], new Float32()),
      mrr: nullableNumericColumn('number', Float64Array.from([1.5, 0, 2]), Uint8Array.from([0, 1, 0])),
      seats: nullableNumericColumn('integer', Float64Array.from([3, 4, 5]), new Uint8Array(3)),
      flag: vectorFromArray([true, false, null], new Bool()),
      as_of: constantDate('2026-07-15', 3),
      at: constantTimestamp(new Date('2026-07-15T02:00:00.123Z'), 3),
    });
    const encoders = batch.schema.fields.map((f) => fieldEncoder(batch.getChild(f.name)!, f.name));
    expect([...copyTextChunks(batch, encoders)].join('')).toBe(
      [
        'C1\témile\tlow\t0.25\t1.5\t3\tt\t2026-07-15\t2026-07-15T02:00:00.123Z',
        'C\\t2\tx\thigh\t0.10000000149011612\t\\N\t4\tf\t2026-07-15\t2026-07-15T02:00:00.123Z',
        '\\N\ty\t\\N\t\\N\t2\t5\t\\N\t2026-07-15\t2026-07-15T02:00:00.123Z',
        '',
      ].join('\n'),
    );
  });

  it('builds one jsonb object per explained row from the contribution columns', () => {
    const a = vectorFromArray([0.5, 0, 0.25], new Float32());
    const b = vectorFromArray([-0.5, 0, null], new Float32());
    const explained = fieldEncoder(vectorFromArray([true, false, true], new Bool()), 'explained');
    const enc = jsonObjectEncoder([{ key: 'api_error_rate', vector: a }, { key: 'plan', vector: b }], explained);
    expect([enc(0), enc(1), enc(2)]).toEqual(['{"api_error_rate":0.5,"plan":-0.5}', '\\N', '{"api_error_rate":0.25,"plan":null}']);
  });

  it('splits a batch into chunks of whole rows', () => {
    const batch = batchOf({ id: vectorFromArray(['a', 'b', 'c'], new Utf8()) });
    expect([...copyTextChunks(batch, [fieldEncoder(batch.getChild('id')!, 'id')], 2)]).toEqual(['a\nb\n', 'c\n']);
  });
});
