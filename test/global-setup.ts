// Once per jest run, before any worker starts: the world-readable copy of what other OS users run
// (see helpers/for-others.ts). Workers inherit the path through the environment.
import { FOR_OTHERS_ENV, prepareForOthers } from './helpers/for-others';

export default function globalSetup(): void {
  process.env[FOR_OTHERS_ENV] = prepareForOthers();
}
