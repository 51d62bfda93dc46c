import { churnErrorOf } from '@churn/testing';
import { redactUrl, warehouseTarget, warehouseTargetFromEnv, withoutPassword } from './warehouse-config';
import { endpointOfTarget } from './warehouse-connection';

describe('warehouse settings', () => {
  it('takes a postgres:// URL with sslmode, and a schema (default churn)', () => {
    const target = warehouseTarget({ url: 'postgres://ana@db.internal:6543/analytics?sslmode=require' });
    expect(target).toEqual({ url: 'postgres://ana@db.internal:6543/analytics?sslmode=require', schema: 'churn', connectTimeoutMs: 5000 });
    expect(endpointOfTarget(target)).toEqual({ host: 'db.internal', port: 6543, database: 'analytics', user: 'ana', schema: 'churn' });
  });

  it('refuses a schema that is not a plain identifier, naming the setting', async () => {
    const error = await churnErrorOf(() => warehouseTarget({ url: 'postgres://h/db', schema: 'Churn; DROP' }));
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', settings: ['warehouseSchema'] });
  });

  it('refuses what is not a postgres URL without echoing its password', async () => {
    const error = await churnErrorOf(() => warehouseTarget({ url: 'mysql://u:s3cret@h/db' }));
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', settings: ['warehouse'] });
    expect(error.message).not.toContain('s3cret');
  });

  it('reads CHURN_WAREHOUSE_URL and CHURN_WAREHOUSE_SCHEMA; flags win; none configured is undefined', () => {
    const env = { CHURN_WAREHOUSE_URL: 'postgres://h/a', CHURN_WAREHOUSE_SCHEMA: 'analytics', CHURN_WAREHOUSE_CONNECT_TIMEOUT_MS: '750' };
    expect(warehouseTargetFromEnv({}, env)).toEqual({ url: 'postgres://h/a', schema: 'analytics', connectTimeoutMs: 750 });
    expect(warehouseTargetFromEnv({ url: 'postgres://other/b', schema: 's2' }, env)).toMatchObject({ url: 'postgres://other/b', schema: 's2' });
    expect(warehouseTargetFromEnv({}, {})).toBeUndefined();
  });

  it('redacts and strips passwords in the user part and in the query', () => {
    expect(redactUrl('postgres://ana:pa55@h:5432/db?sslmode=require')).toBe('postgres://ana:***@h:5432/db?sslmode=require');
    expect(redactUrl('postgresql://h/db?password=pa55&sslmode=require')).toBe('postgresql://h/db?password=***&sslmode=require');
    expect(withoutPassword('postgres://ana:pa55@h:5432/db?sslmode=require')).toEqual({ url: 'postgres://ana@h:5432/db?sslmode=require', removed: true });
    expect(withoutPassword('postgres://h/db?password=pa55&sslmode=require')).toEqual({ url: 'postgres://h/db?sslmode=require', removed: true });
    expect(withoutPassword('postgres://ana@h/db')).toEqual({ url: 'postgres://ana@h/db', removed: false });
  });
});
