/**
 * A test-only environment setting (`BROKER_TEST_*`): its value outside
 * production; in production its mere presence refuses the start, naming it.
 */
export const testOnlySetting = (
  env: NodeJS.ProcessEnv,
  name: `BROKER_TEST_${string}`,
  production: boolean,
): string | undefined => {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  if (production) throw new Error(`${name} is a test switch and is refused in production`);
  return value;
};
