// Once per jest run, after every worker is done: removes the copy globalSetup made.
import { FOR_OTHERS_ENV, removeForOthers } from './helpers/for-others';

export default function globalTeardown(): void {
  removeForOthers(process.env[FOR_OTHERS_ENV]);
}
