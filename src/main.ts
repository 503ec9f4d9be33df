/** Process entry point (`npm start`, dist/main.js): Beacon with the built dashboard. */
import { runBeacon } from './run.js';

runBeacon();
