// The account's plugins run on one VIO: MySQL's one plugin, or MariaDB's OR chain in turn
// (sql/sql_acl.cc acl_authenticate's loop over acl_user->auth, with MPVIO_EXT::RESTART between
// methods: HandshakeVio.restart()), each plugin only until the handshake ends.
import { errorCode } from '../errors';
import { CR_OK, CR_OK_HANDSHAKE_COMPLETE, CrCode } from '../auth/vio';
import { Account } from './catalog/accounts';
import { ServerPlugins } from './catalog/plugins';
import { HandshakeEnd } from './handshake-end';
import { HandshakeVio } from './handshake-vio';
import { ServerAuthInfo, ServerAuthPlugin } from './plugin';
import { LoginAttempt, readFailure, Refusal, refusal } from './refusal';

// One method's plugin on the VIO, only until the handshake ends: its CR_* code, or what it threw.
// A Refusal (the client cannot switch plugins) ends the login.
async function runPlugin(vio: HandshakeVio, plugin: ServerAuthPlugin, info: ServerAuthInfo, end: HandshakeEnd): Promise<{ result?: CrCode; pluginError?: unknown }> {
  try {
    try {
      await vio.restartForeignClient();
    } catch (error) {
      throw readFailure(error);
    }
    return { result: await end.race(() => plugin.authenticate(vio, info)) };
  } catch (error) {
    if (error instanceof Refusal) throw error;
    return { pluginError: error };
  }
}

/** What decided a login: the last plugin run, and its CR_* code or what it threw. */
export interface MethodsOutcome {
  plugin: ServerAuthPlugin;
  result?: CrCode;
  pluginError?: unknown;
}

/**
 * Runs the account's plugin, then, while each refuses, the next method of its OR chain, all on
 * one VIO (`vioFor` makes it for the first plugin run; it is closed at the end). A method whose
 * plugin is not loaded is passed over, unless it is the last (1524). `info` carries each
 * method's string in turn; `attempt.plugin` and `attempt.osUser` follow for the log. A failed
 * exchange, the client gone, a Refusal or the handshake's `end` stop the chain and are thrown.
 */
export async function runMethods(
  account: Account,
  info: ServerAuthInfo,
  plugins: ServerPlugins,
  attempt: LoginAttempt,
  end: HandshakeEnd,
  vioFor: (plugin: ServerAuthPlugin) => HandshakeVio,
): Promise<MethodsOutcome> {
  const chain = account.or;
  let vio: HandshakeVio | null = null;
  let outcome: MethodsOutcome | null = null;
  try {
    for (let i = 0; i <= chain.length; i++) {
      const method = i === 0 ? account : chain[i - 1];
      attempt.plugin = method.plugin;
      const plugin = plugins.get(method.plugin);
      if (plugin === undefined) {
        if (i === chain.length) throw refusal('plugin-not-loaded', undefined, method.plugin);
        continue;
      }
      // A fresh start for each method: its own string, nothing of the refusal before it.
      if (i > 0) Object.assign(info, { authString: method.authenticationString, authenticatedAs: info.userName, externalUser: null, refusalReason: undefined });
      if (vio === null) vio = vioFor(plugin);
      else vio.restart(plugin);
      outcome = { plugin, ...(await runPlugin(vio, plugin, info, end)) };
      attempt.osUser = info.externalUser ?? attempt.osUser;
      // A failed exchange decides, whatever the plugin made of it; so does the handshake's end.
      outcome.pluginError = vio.failure ?? outcome.pluginError;
      if (outcome.pluginError instanceof Refusal || errorCode(outcome.pluginError) === 'ERR_CONNECTION_CLOSED') throw outcome.pluginError;
      if (end.reason !== null) throw end.reason;
      if ((outcome.result === CR_OK || outcome.result === CR_OK_HANDSHAKE_COMPLETE) && outcome.pluginError === undefined) break;
    }
  } finally {
    vio?.close();
  }
  // Every method but the last may be passed over; the last one always runs or throws.
  return outcome!;
}
