// Where each upstream response ends, read from packet heads alone, so a proxy that relays bytes
// unchanged knows when the upstream is idle and it may answer the client itself. A pure state
// machine: commands in, packets in, no sockets, no timers. It mirrors the readers of the client
// side: MySQL's sql-common/client.cc (cli_read_query_result, cli_read_metadata_ex, read_rows,
// handle_local_infile) and libmysql/libmysql.cc (prepare, execute with a cursor, fetch), with
// mysql2's lib/commands/{query,prepare,execute}.js and the mariadb connector's lib/cmd/parser.js
// as second readings; the server side is sql/protocol_classic.cc and sql/sql_cursor.cc.
import { Capability } from '../protocol/constants';
import {
  CURSOR_EXISTS,
  desync,
  EOF,
  EOF_MAX_LENGTH,
  ERR,
  Expect,
  Head,
  hex,
  LOCAL_INFILE,
  MariadbCapability,
  MAX_PACKET_LENGTH,
  MORE_RESULTS_EXISTS,
  OK,
  OPTIONAL_RESULTSET_METADATA,
  Pending,
  PROGRESS_ERRNO,
  PS_OUT_PARAMS,
  responseTo,
} from './response-shapes';

export { MariadbCapability };

/**
 * Follows the responses to the commands a client sent, in order (the server answers strictly in
 * turn, so pipelined commands queue). Usage: command() for each packet the client starts a
 * command with (sequence id 0), serverPacket() for each logical packet the upstream sends;
 * `idle` says when every command has had its whole response. After a throw the tracker is out
 * of step for good: the proxy should close both connections.
 */
export class ResponseTracker {
  private readonly queue: Pending[] = [];
  private expect: Expect = 'status';
  /** Definitions still to come in the current section. */
  private remaining = 0;
  /** Column definitions a prepared statement announces after its parameters. */
  private prepareColumns = 0;
  /** The prepare OK said no definitions follow (OPTIONAL_RESULTSET_METADATA with @@resultset_metadata=NONE). */
  private prepareSkipsDefinitions = false;
  /** The result set's metadata EOF carried SERVER_PS_OUT_PARAMS: a final OK follows it. */
  private outParams = false;
  private fileIncoming = false;
  private readonly deprecateEof: boolean;
  private readonly localFiles: boolean;
  private readonly metadataByte: boolean;
  private readonly progress: boolean;

  /**
   * capabilities: the flags the client and the upstream agreed (Capability.*). mariadbCapabilities:
   * MariaDB's extended flags both agreed (MariadbCapability.*), 0 for MySQL or a client that set
   * CLIENT_MYSQL. MULTI_RESULTS and PS_MULTI_RESULTS change nothing here: a server chains results
   * only with SERVER_MORE_RESULTS_EXISTS, the one thing libmysql's mysql_more_results() reads.
   */
  constructor(capabilities: number, mariadbCapabilities = 0) {
    this.deprecateEof = (capabilities & Capability.DEPRECATE_EOF) !== 0;
    this.localFiles = (capabilities & Capability.LOCAL_FILES) !== 0;
    this.metadataByte =
      (capabilities & OPTIONAL_RESULTSET_METADATA) !== 0 ||
      (mariadbCapabilities & MariadbCapability.CACHE_METADATA) !== 0;
    this.progress = (mariadbCapabilities & MariadbCapability.PROGRESS) !== 0;
  }

  /** True when every command passed to command() has had its whole response. */
  get idle(): boolean {
    return this.queue.length === 0;
  }

  /** Commands sent and not yet wholly answered, the one being answered included. */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * True from the upstream's LOCAL INFILE request until the client's empty packet ends the file
   * (localInfileSent()), or else until the upstream answers it: every client packet meanwhile is
   * file contents, whatever its sequence id (ids wrap to 0 after 256 packets), never a command.
   */
  get awaitingLocalInfile(): boolean {
    return this.fileIncoming;
  }

  /** The client's empty packet ended its LOCAL INFILE contents. */
  localInfileSent(): void {
    if (!this.fileIncoming) throw desync('the client ended a file nobody asked for');
    this.fileIncoming = false;
  }

  /**
   * The client sent a command (a packet with sequence id 0 starting a new logical packet); head =
   * its first up to 64 payload bytes. Returns false for a command the tracker does not understand
   * (the proxy will not forward it and will refuse it itself).
   */
  command(head: Buffer, payloadLength: number): boolean {
    if (this.fileIncoming) throw desync('a command arrived inside LOCAL INFILE contents');
    if (payloadLength === 0 || head.length === 0) return false;
    const pending = responseTo(head, payloadLength);
    if (pending === undefined) return false;
    if (pending !== null) {
      this.queue.push(pending);
      if (this.queue.length === 1) this.expect = pending.first;
    }
    return true;
  }

  /**
   * The upstream sent one packet (a whole logical packet's length, continuations joined, and its
   * first up to 64 payload bytes). Throws ERR_PROXY_DESYNC when it cannot belong to any expected
   * response. An ERR while idle is taken and ends nothing: servers send one unasked before they
   * close a connection (1927 ER_CONNECTION_KILLED, 1053 ER_SERVER_SHUTDOWN).
   */
  serverPacket(head: Buffer, payloadLength: number): void {
    if (payloadLength > 0 && head.length === 0) throw desync('a packet came without its head');
    const first = payloadLength === 0 ? -1 : head[0];
    // MariaDB's progress report (sql_class.cc thd_progress_report), ERR-shaped: never an end.
    if (first === ERR && this.progress && new Head(head, 'progress report').skip(1).int2() === PROGRESS_ERRNO) return;
    const current = this.queue[0];
    if (current === undefined) {
      if (first === ERR) return;
      throw desync(`packet 0x${hex(first)} of ${payloadLength} bytes while no command awaits a response`);
    }
    if (first === ERR) return this.done();
    if (payloadLength === 0 && this.expect !== 'any') throw desync(`an empty packet where ${this.expect} was expected`);
    switch (this.expect) {
      case 'status':
        if (first === OK || first === EOF) return this.done();
        break;
      case 'any':
        return this.done();
      case 'response':
        return this.response(current, head, payloadLength);
      case 'file':
        // The answer after the file: the client has sent it all, reported or not.
        this.fileIncoming = false;
        if (first === OK) return this.afterOk(head);
        break;
      case 'columns':
        if (first !== EOF) return this.columnDefinition();
        break;
      case 'columnsEof':
        if (first === EOF && payloadLength <= EOF_MAX_LENGTH) return this.metadataEof(current, head);
        break;
      case 'rows':
        if (first === EOF && payloadLength < MAX_PACKET_LENGTH && (this.deprecateEof || payloadLength <= EOF_MAX_LENGTH)) {
          return this.resultEnd(current, this.terminatorStatus(head));
        }
        // A text row starts with a length (0xfe only before a value of 16 MiB or more; libmysql's
        // read_rows takes any other 0xfe for a row too); a binary row with 0x00.
        if (!current.binary || first === OK) return;
        break;
      case 'prepareOk':
        if (first === OK) return this.prepareOk(head, payloadLength);
        break;
      case 'params':
        // mysql2's prepare.js: a server may announce more parameters than it describes; its EOF ends them.
        if (first === EOF && payloadLength <= EOF_MAX_LENGTH && !this.deprecateEof) return this.startPrepareColumns();
        if (first !== EOF) return this.parameterDefinition();
        break;
      case 'paramsEof':
        if (first === EOF && payloadLength <= EOF_MAX_LENGTH) return this.startPrepareColumns();
        break;
      case 'prepareColumns':
        if (first !== EOF) return this.prepareColumnDefinition();
        break;
      case 'prepareColumnsEof':
        if (first === EOF && payloadLength <= EOF_MAX_LENGTH) return this.done();
        break;
      case 'fieldList':
        // Definitions up to my_eof(): an EOF_Packet, or under DEPRECATE_EOF an OK with the 0xfe header.
        if (first === EOF && payloadLength < MAX_PACKET_LENGTH) return this.done();
        if (first !== EOF) return;
        break;
    }
    throw desync(`packet 0x${hex(first)} of ${payloadLength} bytes where ${this.expect} was expected`);
  }

  /** The first packet of a COM_QUERY or COM_STMT_EXECUTE response, or of the next result of one. */
  private response(current: Pending, head: Buffer, payloadLength: number): void {
    const first = head[0];
    if (first === OK) return this.afterOk(head);
    if (first === LOCAL_INFILE) {
      // The server asks only a client that agreed to CLIENT_LOCAL_FILES, and only for a text query.
      if (!this.localFiles || current.binary) throw desync('LOCAL INFILE request the client cannot have asked for');
      this.fileIncoming = true;
      this.expect = 'file';
      return;
    }
    if (first === EOF || payloadLength === 0) throw desync(`packet 0x${hex(first)} where a result was expected`);
    const reader = new Head(head, 'column count');
    const columns = reader.lenenc();
    if (columns === 0) throw desync('a result set of no columns');
    // protocol_classic.cc start_result_metadata: 0 there means the definitions are left out.
    const definitions = this.metadataByte && reader.int1() === 0 ? 0 : columns;
    this.outParams = false;
    this.remaining = definitions;
    if (definitions === 0) return this.afterColumns();
    this.expect = 'columns';
  }

  private columnDefinition(): void {
    if (--this.remaining === 0) this.afterColumns();
  }

  private afterColumns(): void {
    this.expect = this.deprecateEof ? 'rows' : 'columnsEof';
  }

  /** The EOF between definitions and rows: with a cursor opened (sql_cursor.cc Materialized_cursor::open) it is the last packet. */
  private metadataEof(current: Pending, head: Buffer): void {
    const status = new Head(head, 'EOF').skip(3).int2();
    if (current.cursor && (status & CURSOR_EXISTS) !== 0) return this.resultEnd(current, status);
    // The mariadb connector's readIntermediateEOF: before MySQL 5.7.5 only this EOF said OUT parameters.
    this.outParams = (status & PS_OUT_PARAMS) !== 0;
    this.expect = 'rows';
  }

  private terminatorStatus(head: Buffer): number {
    if (!this.deprecateEof) return new Head(head, 'EOF').skip(3).int2();
    return this.okStatus(head);
  }

  /** Status flags of an OK packet (either header): after the affected rows and the last insert id. */
  private okStatus(head: Buffer): number {
    const reader = new Head(head, 'OK').skip(1);
    reader.lenenc();
    reader.lenenc();
    return reader.int2();
  }

  private afterOk(head: Buffer): void {
    if ((this.okStatus(head) & MORE_RESULTS_EXISTS) !== 0) this.expect = 'response';
    else this.done();
  }

  private resultEnd(current: Pending, status: number): void {
    const more = !current.fetch && ((status & MORE_RESULTS_EXISTS) !== 0 || this.outParams);
    this.outParams = false;
    if (more) this.expect = 'response';
    else this.done();
  }

  /** COM_STMT_PREPARE's OK (protocol_classic.cc store_ps_status): id, columns, parameters, warnings. */
  private prepareOk(head: Buffer, payloadLength: number): void {
    if (payloadLength < 12) throw desync('a prepare OK shorter than 12 bytes');
    const reader = new Head(head, 'prepare OK').skip(5);
    this.prepareColumns = reader.int2();
    const params = reader.int2();
    this.prepareSkipsDefinitions = this.metadataByte && payloadLength > 12 && reader.skip(3).int1() === 0;
    if (params === 0) return this.startPrepareColumns();
    this.remaining = params;
    if (this.prepareSkipsDefinitions) return this.parametersDescribed();
    this.expect = 'params';
  }

  private parameterDefinition(): void {
    if (--this.remaining === 0) this.parametersDescribed();
  }

  private parametersDescribed(): void {
    if (this.deprecateEof) this.startPrepareColumns();
    else this.expect = 'paramsEof';
  }

  private startPrepareColumns(): void {
    this.remaining = this.prepareColumns;
    if (this.remaining === 0) return this.done();
    if (this.prepareSkipsDefinitions) return this.prepareColumnsDescribed();
    this.expect = 'prepareColumns';
  }

  private prepareColumnDefinition(): void {
    if (--this.remaining === 0) this.prepareColumnsDescribed();
  }

  private prepareColumnsDescribed(): void {
    if (this.deprecateEof) this.done();
    else this.expect = 'prepareColumnsEof';
  }

  /** The current response is whole: the next queued command's starts. */
  private done(): void {
    this.queue.shift();
    this.fileIncoming = false;
    this.outParams = false;
    const next = this.queue[0];
    if (next !== undefined) this.expect = next.first;
  }
}
