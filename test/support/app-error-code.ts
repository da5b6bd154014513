import { isAppError } from '../../main/errors.ts';

/** The stable code a promise rejects with, or `resolved`; any other failure is rethrown. */
export async function appErrorCodeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    if (isAppError(e)) return e.code;
    throw e;
  }
  return 'resolved';
}
