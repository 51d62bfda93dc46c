import { allowedLocationsFromEnv } from './allowed-locations';

describe('allowedLocationsFromEnv', () => {
  it('defaults to any s3:// location and file:// under the working directory', () => {
    const policy = allowedLocationsFromEnv({}, '/srv/churn');
    expect(() => policy.check('s3://any/bucket/key', 'dataset')).not.toThrow();
    expect(() => policy.check('/srv/churn/data/x.parquet', 'dataset')).not.toThrow();
    expect(() => policy.check('/srv/churnish/x', 'output')).toThrow(expect.objectContaining({ code: 'LOCATION_NOT_ALLOWED' }));
    expect(() => policy.check('/etc/passwd', 'dataset')).toThrow(/dataset file:\/\/\/etc\/passwd is outside the locations this process may use/);
    expect(policy.describe()).toMatch(/s3:\/\/, file:\/\/\/srv\/churn \(default/);
  });

  it('takes comma-separated prefixes from CHURN_ALLOWED_LOCATIONS', () => {
    const policy = allowedLocationsFromEnv({ CHURN_ALLOWED_LOCATIONS: 's3://lake/, file:///data/' }, '/srv');
    expect(policy.prefixes).toEqual(['s3://lake/', 'file:///data/']);
    expect(() => policy.check('s3://lake/scores', 'output')).not.toThrow();
    expect(() => policy.check('s3://lakehouse/scores', 'output')).toThrow(/outside/);
    expect(() => policy.check('file:///data/x', 'model')).not.toThrow();
    expect(() => policy.check('/srv/x', 'model')).toThrow(/outside/);
  });
});
