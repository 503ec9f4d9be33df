/**
 * `npm run dev` entry point: Beacon from the TypeScript sources with the dashboard served by
 * Vite (hot reload) on the API's port. Vite is imported only here, and only when the API
 * starts (not in the worker role).
 */
import { runBeacon } from '../run.js';

runBeacon({ dashboard: async () => (await import('./vite-dashboard.js')).viteDashboard() });
