/** The API secret of test apps and worker processes (free of Vitest, so benches can import it). */
export const TEST_SECRET = 'beacon-test-secret-0123456789';
