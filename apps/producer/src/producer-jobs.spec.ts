import { allowedLocationsFromEnv } from '@churn/object-store';
import { checkLocations } from './producer-jobs';

describe('checkLocations', () => {
  const policy = allowedLocationsFromEnv({ CHURN_ALLOWED_LOCATIONS: 's3://lake/,file:///srv/churn/' }, '/nowhere');

  it('accepts a run whose dataset, bundle and output are all under allowed prefixes', () => {
    expect(() => checkLocations(policy, { dataset: 's3://lake/customers', model: 'file:///srv/churn/models/m', output: 's3://lake/scores' })).not.toThrow();
  });

  it('refuses, naming it, the first location outside them (a job from Redis is not obeyed blindly)', () => {
    expect(() => checkLocations(policy, { dataset: 's3://lake/customers', model: 'file:///srv/churn/models/m', output: 'file:///etc/cron.d' })).toThrow(
      expect.objectContaining({ code: 'LOCATION_NOT_ALLOWED', message: expect.stringMatching(/^output file:\/\/\/etc\/cron\.d is outside the locations this process may use/) }),
    );
    expect(() => checkLocations(policy, { dataset: 's3://other/customers', model: 'file:///srv/churn/models/m', output: 's3://lake/scores' })).toThrow(/^dataset s3:\/\/other\/customers/);
  });
});
