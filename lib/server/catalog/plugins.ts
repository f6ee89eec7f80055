// The server's plugins as mysqld keeps them (sql/sql_plugin.cc): built-in ones, always active;
// loadable ones, from a library, for one run (--plugin-load-add) or installed (INSTALL PLUGIN,
// recorded as a mysql.plugin row that the datadir keeps, so every later start loads it). The
// handshake looks plugins up here, so INSTALL and UNINSTALL take effect on the next login.
import { ServerAuthPlugin } from '../plugin';
import { sqlError } from '../sql-error';
import { openLibrary } from './plugin-library';

/** A mysql.plugin row: an installed plugin and its library. */
export interface PluginRow {
  name: string;
  library: string;
}

export interface LoadedPlugin {
  readonly plugin: ServerAuthPlugin;
  /** The library it came from (as named when loaded); null for built-in plugins. */
  readonly library: string | null;
  /** Recorded by INSTALL PLUGIN: loaded at every start until UNINSTALL PLUGIN. */
  readonly installed: boolean;
}

const key = (name: string) => name.toLowerCase();

export class ServerPlugins {
  private readonly loaded = new Map<string, LoadedPlugin>();

  constructor(
    private readonly pluginDir: string | null,
    builtins: readonly ServerAuthPlugin[],
  ) {
    for (const plugin of builtins) this.loaded.set(key(plugin.name), { plugin, library: null, installed: false });
  }

  /** The active plugin of that name (case-insensitive, as MySQL), or undefined. */
  get(name: string): ServerAuthPlugin | undefined {
    return this.loaded.get(key(name))?.plugin;
  }

  /** Every active plugin, built-in ones first. */
  list(): LoadedPlugin[] {
    return [...this.loaded.values()];
  }

  /** The rows INSTALL PLUGIN recorded, for the datadir. */
  installedRows(): PluginRow[] {
    return this.list()
      .filter((entry) => entry.installed)
      .map((entry) => ({ name: entry.plugin.name, library: entry.library as string }));
  }

  /**
   * --plugin-load-add's `name=library` or `library` (every plugin in it), for this run only. A
   * plugin already active is left as it is.
   */
  loadForRun(entry: string): LoadedPlugin[] {
    const eq = entry.indexOf('=');
    const library = eq < 0 ? entry : entry.slice(eq + 1);
    const plugins = this.pick(library, eq < 0 ? null : entry.slice(0, eq));
    return plugins.filter((plugin) => !this.loaded.has(key(plugin.name))).map((plugin) => this.add(plugin, library, false));
  }

  /**
   * INSTALL PLUGIN name SONAME 'library'. Errors as MySQL's: 1125 when a plugin of that name is
   * active, 1126 when the library cannot be opened, 1127 when it has no such plugin.
   */
  install(name: string, library: string): LoadedPlugin {
    if (this.loaded.has(key(name))) throw sqlError('ER_UDF_EXISTS', name);
    const [plugin] = this.pick(library, name);
    return this.add(plugin, library, true);
  }

  /** Puts back the plugins list() returned (a change that could not be made durable is undone). */
  restore(snapshot: readonly LoadedPlugin[]): void {
    this.loaded.clear();
    for (const entry of snapshot) this.loaded.set(key(entry.plugin.name), entry);
  }

  /**
   * UNINSTALL PLUGIN name: unloads it (installed or loaded for this run); returns whether a
   * mysql.plugin row went with it. 1305 when no such plugin is active; built-in ones stay.
   */
  uninstall(name: string): boolean {
    const entry = this.loaded.get(key(name));
    if (entry === undefined) throw sqlError('ER_SP_DOES_NOT_EXIST', 'PLUGIN', name);
    if (entry.library === null) throw sqlError('ER_PLUGIN_DELETE_BUILTIN');
    this.loaded.delete(key(name));
    return entry.installed;
  }

  /** The plugins of `library`: all of them, or the one named (1127 when it is not there). */
  private pick(library: string, name: string | null): readonly ServerAuthPlugin[] {
    const plugins = openLibrary(library, this.pluginDir, name !== null);
    if (name === null) {
      if (plugins.length === 0) throw sqlError('ER_CANT_FIND_DL_ENTRY', library);
      return plugins;
    }
    const wanted = plugins.filter((plugin) => key(plugin.name) === key(name));
    if (wanted.length === 0) throw sqlError('ER_CANT_FIND_DL_ENTRY', name);
    return wanted;
  }

  private add(plugin: ServerAuthPlugin, library: string, installed: boolean): LoadedPlugin {
    const entry = { plugin, library, installed };
    this.loaded.set(key(plugin.name), entry);
    return entry;
  }
}
