// The end of one handshake, however it comes (the OK, a refusal, the client gone, connect_timeout):
// what the connection phase races its plugins and its admission hook against. mysqld's thread
// just stops reading; here a plugin's promise may still be pending, so it is left behind, holding
// nothing of the handshake. Plugins see the end as an AbortSignal (ServerAuthInfo.signal), made
// only when one asks for it: an AbortController and its abort event cost about 5% of a login,
// and most plugins never look.
import { codedError } from '../errors';

// Why the end of a handshake that went well is told: one shared error, not one (and a stack) per login.
const HANDSHAKE_OVER = codedError('ERR_HANDSHAKE_OVER', 'the handshake is over');

export class HandshakeEnd {
  private why: Error | null = null;
  private controller: AbortController | null = null;
  private readonly waiters = new Set<(reason: Error) => void>();

  /** Why the handshake ended; null while it runs. */
  get reason(): Error | null {
    return this.why;
  }

  /** Aborted, with the reason, when the handshake ends. */
  get signal(): AbortSignal {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.why !== null) this.controller.abort(this.why);
    }
    return this.controller.signal;
  }

  /** Ends the handshake, once: later calls are ignored. Without a reason, it went well. */
  end(reason: Error = HANDSHAKE_OVER): void {
    if (this.why !== null) return;
    // The reason outlives the handshake in every plugin that keeps its signal. Its stack is
    // formatted now: V8 keeps an unformatted stack's frames, and with them this connection's closures.
    void reason.stack;
    this.why = reason;
    for (const reject of this.waiters) reject(reason);
    this.waiters.clear();
    this.controller?.abort(reason);
  }

  /**
   * What `run` gives, unless the handshake ends first: then a rejection with the reason, and
   * `run`'s promise is left behind with no hold on the caller (a plugin that never settles keeps
   * none of the handshake alive).
   */
  race<T>(run: () => T | Promise<T>): Promise<T> {
    if (this.why !== null) return Promise.reject(this.why);
    return new Promise<T>((resolve, reject) => {
      let pending: { resolve(value: T): void; reject(error: unknown): void } | null = { resolve, reject };
      const onEnd = (reason: Error) => {
        pending?.reject(reason);
        pending = null;
      };
      this.waiters.add(onEnd);
      const settle = (outcome: (to: NonNullable<typeof pending>) => void) => {
        this.waiters.delete(onEnd);
        if (pending !== null) outcome(pending);
        pending = null;
      };
      Promise.resolve()
        .then(run)
        .then(
          (value) => settle((to) => to.resolve(value)),
          (error: unknown) => settle((to) => to.reject(error)),
        );
    });
  }
}
