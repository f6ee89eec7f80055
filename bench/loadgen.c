/*
 * loadgen: a MySQL-protocol load generator for the benches, in C so that the client is never what
 * limits a measure. No libmysqlclient/libmariadb: it speaks the protocol itself over a plain
 * socket, only as much of it as the benches need.
 *
 *   loadgen -m MODE -a ADDRESS -u USER [-t SECONDS] [-c CONNECTIONS] [-n MAX_ID] [-q QUERY]
 *     ADDRESS  a Unix socket path (starts with '/') or IPv4 HOST:PORT (TCP_NODELAY, as clients set)
 *     modes:
 *       select     C connections, one thread each, each running "SELECT v FROM bench.t WHERE
 *                  id = <random 1..MAX_ID>" back to back; each must return exactly one row
 *       read       C connections, each running QUERY (default "SELECT v FROM bench.big") back to back
 *       handshake  C threads, each connecting, logging in and sending COM_QUIT back to back
 *   Connections are opened and logged in before the clock starts (except in handshake mode); every
 *   thread stops starting operations after SECONDS. Any protocol error or ERR packet exits 1 with a
 *   message on stderr. The result is one JSON line on stdout:
 *     {"mode", "connections", "seconds", "ops", "ops_per_s", "rows", "bytes", "mib_per_s",
 *      "cpu_s", "cpus"}
 *   bytes: payload bytes of every response packet (4-byte headers not counted); cpu_s: this
 *   process's user+system CPU time while timed; cpus: the CPUs it was allowed to run on.
 *
 * The login: HandshakeV10 in; HandshakeResponse41 out with PROTOCOL_41 | SECURE_CONNECTION |
 * PLUGIN_AUTH | TRANSACTIONS | MULTI_RESULTS | LONG_PASSWORD (no DEPRECATE_EOF: result sets end with
 * EOF packets; no SSL), plugin mysql_native_password and an EMPTY auth response: the accounts
 * have no password (or use auth_socket). An AuthSwitchRequest is answered with an empty response;
 * the login ends at OK.
 *
 * Adding a mode: write `static void my_op(struct worker *w)` that performs one operation (adding to
 * w->rows and w->bytes as it likes) and add it to MODES; `connect_first` says whether the worker's
 * connection is opened and logged in before the clock starts.
 *
 * Build: cc -O2 -pthread -o loadgen loadgen.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum {
  CLIENT_LONG_PASSWORD = 0x1,
  CLIENT_PROTOCOL_41 = 0x200,
  CLIENT_TRANSACTIONS = 0x2000,
  CLIENT_SECURE_CONNECTION = 0x8000,
  CLIENT_MULTI_RESULTS = 0x20000,
  CLIENT_PLUGIN_AUTH = 0x80000,
  SERVER_MORE_RESULTS_EXISTS = 0x8,
  COM_QUIT = 0x01,
  COM_QUERY = 0x03,
  CHARSET_UTF8MB4_GENERAL_CI = 45,
  MAX_PHYSICAL = 0xffffff,
  BUFFER_SIZE = 256 * 1024,
};

static const uint32_t CAPABILITIES = CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS |
                                     CLIENT_SECURE_CONNECTION | CLIENT_MULTI_RESULTS | CLIENT_PLUGIN_AUTH;

struct options {
  const char *mode, *address, *user, *query;
  double seconds;
  int connections;
  long max_id;
};

/* One connection: its socket and a receive buffer holding bytes [start, end). */
struct conn {
  int fd;
  unsigned char *buf;
  size_t cap, start, end;
  unsigned char seq; /* the sequence id the next packet we send carries */
};

/* One packet as read: its payload (valid until the next read), length and first byte. A packet
 * over 16 MiB comes in parts: `len` is then their sum, and `data` is NULL. */
struct packet {
  const unsigned char *data;
  size_t len;
  unsigned char first;
};

struct worker {
  const struct options *opt;
  struct conn conn;
  uint64_t rng;
  long ops, rows;
  uint64_t bytes;
  pthread_t thread;
};

static double deadline;

static void die(const char *format, ...) {
  va_list args;
  va_start(args, format);
  fputs("loadgen: ", stderr);
  vfprintf(stderr, format, args);
  fputc('\n', stderr);
  va_end(args);
  exit(1);
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

/* ---- packets ------------------------------------------------------------------------------- */

static void conn_open(struct conn *c, const char *address) {
  if (c->buf == NULL) {
    c->cap = BUFFER_SIZE;
    if ((c->buf = malloc(c->cap)) == NULL) die("out of memory");
  }
  c->start = c->end = 0;
  if (address[0] == '/') {
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(address) >= sizeof sun.sun_path) die("socket path too long: %s", address);
    strcpy(sun.sun_path, address);
    if ((c->fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0) die("socket: %s", strerror(errno));
    if (connect(c->fd, (struct sockaddr *)&sun, sizeof sun) != 0) die("connect %s: %s", address, strerror(errno));
  } else {
    char host[64];
    const char *colon = strrchr(address, ':');
    struct sockaddr_in sin = {.sin_family = AF_INET};
    if (colon == NULL || (size_t)(colon - address) >= sizeof host) die("address is /PATH or HOST:PORT: %s", address);
    memcpy(host, address, colon - address);
    host[colon - address] = '\0';
    sin.sin_port = htons(atoi(colon + 1));
    if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) die("not an IPv4 address: %s", host);
    if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0) die("socket: %s", strerror(errno));
    if (connect(c->fd, (struct sockaddr *)&sin, sizeof sin) != 0) die("connect %s: %s", address, strerror(errno));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
}

/* Until at least n bytes are buffered from start. */
static void fill(struct conn *c, size_t n) {
  while (c->end - c->start < n) {
    if (c->start + n > c->cap) {
      memmove(c->buf, c->buf + c->start, c->end - c->start);
      c->end -= c->start;
      c->start = 0;
      if (n > c->cap) {
        c->cap = n;
        if ((c->buf = realloc(c->buf, c->cap)) == NULL) die("out of memory");
      }
    }
    ssize_t got = recv(c->fd, c->buf + c->end, c->cap - c->end, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) die("recv: %s", strerror(errno));
    if (got == 0) die("the server closed the connection");
    c->end += got;
  }
}

/* One physical packet; sets the next sequence id we send. */
static const unsigned char *read_physical(struct conn *c, size_t *len) {
  fill(c, 4);
  const unsigned char *h = c->buf + c->start;
  size_t n = h[0] | h[1] << 8 | h[2] << 16;
  c->seq = h[3] + 1;
  fill(c, 4 + n);
  const unsigned char *payload = c->buf + c->start + 4;
  c->start += 4 + n;
  if (c->start == c->end) c->start = c->end = 0; /* the data stays where it is until the next fill */
  *len = n;
  return payload;
}

static struct packet read_packet(struct conn *c) {
  struct packet p;
  p.data = read_physical(c, &p.len);
  p.first = p.len > 0 ? p.data[0] : 0;
  if (p.len == MAX_PHYSICAL) {
    size_t part;
    p.data = NULL;
    do {
      read_physical(c, &part);
      p.len += part;
    } while (part == MAX_PHYSICAL);
  }
  return p;
}

static void write_packet(struct conn *c, const void *payload, size_t len) {
  unsigned char packet[4 + 4096];
  if (len > sizeof packet - 4) die("packet too long to send: %zu bytes", len);
  packet[0] = len & 0xff;
  packet[1] = len >> 8 & 0xff;
  packet[2] = len >> 16 & 0xff;
  packet[3] = c->seq++;
  memcpy(packet + 4, payload, len);
  for (size_t sent = 0; sent < 4 + len;) {
    ssize_t n = send(c->fd, packet + sent, 4 + len - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("send: %s", strerror(errno));
    sent += n;
  }
}

static void conn_close(struct conn *c) {
  close(c->fd);
  c->fd = -1;
}

static uint64_t lenenc(const unsigned char **p) {
  const unsigned char *q = *p;
  uint64_t v;
  switch (q[0]) {
    case 0xfc: v = q[1] | q[2] << 8; *p += 3; return v;
    case 0xfd: v = q[1] | q[2] << 8 | (uint32_t)q[3] << 16; *p += 4; return v;
    case 0xfe: memcpy(&v, q + 1, 8); *p += 9; return v; /* little-endian host */
    default: *p += 1; return q[0];
  }
}

static void die_on_err(struct packet p, const char *during) {
  if (p.first != 0xff) return;
  if (p.data == NULL || p.len < 3) die("%s: malformed ERR packet", during);
  int code = p.data[1] | p.data[2] << 8;
  /* protocol 4.1: '#' and a 5-character SQL state precede the message */
  size_t skip = p.len >= 9 && p.data[3] == '#' ? 9 : 3;
  die("%s: ERROR %d: %.*s", during, code, (int)(p.len - skip), p.data + skip);
}

/* The status flags of an OK (0x00) or EOF (0xfe) packet. */
static unsigned status_of(struct packet p) {
  if (p.first == 0xfe) return p.len >= 5 ? p.data[3] | p.data[4] << 8 : 0;
  const unsigned char *q = p.data + 1;
  lenenc(&q); /* affected rows */
  lenenc(&q); /* last insert id */
  return q + 2 <= p.data + p.len ? q[0] | q[1] << 8 : 0;
}

static int is_eof(struct packet p) { return p.first == 0xfe && p.len < 9; }

/* ---- login and queries ------------------------------------------------------------------------ */

static void login(struct conn *c, const char *user) {
  struct packet p = read_packet(c);
  die_on_err(p, "greeting");
  if (p.data == NULL || p.first != 10) die("greeting: not a HandshakeV10 (protocol %u)", p.first);
  /* Nothing of the greeting is needed: no scramble for an empty password, no TLS. */
  unsigned char response[512];
  size_t userlen = strlen(user), n = 0;
  static const char plugin[] = "mysql_native_password";
  if (userlen > 256) die("user name too long");
  uint32_t caps = CAPABILITIES, max_packet = 16 * 1024 * 1024;
  memcpy(response, &caps, 4); /* little-endian host */
  memcpy(response + 4, &max_packet, 4);
  response[8] = CHARSET_UTF8MB4_GENERAL_CI;
  memset(response + 9, 0, 23);
  n = 32;
  memcpy(response + n, user, userlen + 1);
  n += userlen + 1;
  response[n++] = 0; /* auth response: length 0 */
  memcpy(response + n, plugin, sizeof plugin);
  n += sizeof plugin;
  write_packet(c, response, n);
  for (;;) {
    p = read_packet(c);
    die_on_err(p, "login");
    if (p.first == 0x00) return;
    if (p.first == 0xfe) {
      write_packet(c, "", 0); /* AuthSwitchRequest: the empty response */
    } else if (p.first == 0x01 && p.len >= 2 && p.data[1] == 0x03) {
      continue; /* caching_sha2_password: fast auth succeeded, OK follows */
    } else {
      die("login: unexpected packet 0x%02x (%zu bytes): a password or TLS is needed?", p.first, p.len);
    }
  }
}

/* Sends COM_QUERY and reads its whole response: OK, or result sets up to the EOF that has no
 * SERVER_MORE_RESULTS_EXISTS. Returns the rows; adds the payload bytes to *bytes. */
static long query(struct conn *c, const char *sql, uint64_t *bytes) {
  unsigned char command[4096];
  size_t len = strlen(sql);
  if (len + 1 > sizeof command) die("query too long");
  command[0] = COM_QUERY;
  memcpy(command + 1, sql, len);
  c->seq = 0;
  write_packet(c, command, len + 1);
  long rows = 0;
  for (;;) {
    struct packet p = read_packet(c);
    *bytes += p.len;
    die_on_err(p, sql);
    if (p.first == 0x00) {
      if (status_of(p) & SERVER_MORE_RESULTS_EXISTS) continue;
      return rows;
    }
    if (p.first == 0xfb) die("%s: LOCAL INFILE request not supported", sql);
    if (p.data == NULL) die("%s: malformed column count", sql);
    const unsigned char *q = p.data;
    uint64_t columns = lenenc(&q);
    for (uint64_t i = 0; i < columns; i++) *bytes += read_packet(c).len;
    p = read_packet(c);
    *bytes += p.len;
    if (!is_eof(p)) die("%s: no EOF after the column definitions", sql);
    for (;;) {
      p = read_packet(c);
      *bytes += p.len;
      die_on_err(p, sql);
      if (is_eof(p)) break;
      rows++;
    }
    if (!(status_of(p) & SERVER_MORE_RESULTS_EXISTS)) return rows;
  }
}

/* ---- modes: one operation each ------------------------------------------------------------------ */

static uint64_t next_random(uint64_t *state) { /* xorshift64 */
  *state ^= *state << 13;
  *state ^= *state >> 7;
  *state ^= *state << 17;
  return *state;
}

static void select_op(struct worker *w) {
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT v FROM bench.t WHERE id = %ld", (long)(next_random(&w->rng) % w->opt->max_id) + 1);
  long rows = query(&w->conn, sql, &w->bytes);
  if (rows != 1) die("%s: %ld rows, expected 1", sql, rows);
  w->rows += rows;
}

static void read_op(struct worker *w) { w->rows += query(&w->conn, w->opt->query, &w->bytes); }

static void quit(struct conn *c) {
  unsigned char command = COM_QUIT;
  c->seq = 0;
  write_packet(c, &command, 1);
  conn_close(c);
}

static void handshake_op(struct worker *w) {
  conn_open(&w->conn, w->opt->address);
  login(&w->conn, w->opt->user);
  quit(&w->conn);
}

static const struct mode {
  const char *name;
  void (*op)(struct worker *);
  int connect_first;
} MODES[] = {
    {"select", select_op, 1},
    {"read", read_op, 1},
    {"handshake", handshake_op, 0},
};

/* ---- main ------------------------------------------------------------------------------------- */

static const struct mode *mode;

static void *run_worker(void *arg) {
  struct worker *w = arg;
  while (now() < deadline) {
    mode->op(w);
    w->ops++;
  }
  return NULL;
}

static double cpu_seconds(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

/* The CPUs this process may run on, as "0,1". */
static void allowed_cpus(char *out, size_t size) {
  cpu_set_t set;
  size_t n = 0;
  out[0] = '\0';
  if (sched_getaffinity(0, sizeof set, &set) != 0) return;
  for (int cpu = 0; cpu < CPU_SETSIZE && n + 8 < size; cpu++) {
    if (CPU_ISSET(cpu, &set)) n += snprintf(out + n, size - n, "%s%d", n > 0 ? "," : "", cpu);
  }
}

int main(int argc, char **argv) {
  struct options opt = {.seconds = 5, .connections = 1, .max_id = 10000, .query = "SELECT v FROM bench.big"};
  int c;
  while ((c = getopt(argc, argv, "m:a:u:t:c:n:q:")) != -1) {
    switch (c) {
      case 'm': opt.mode = optarg; break;
      case 'a': opt.address = optarg; break;
      case 'u': opt.user = optarg; break;
      case 't': opt.seconds = atof(optarg); break;
      case 'c': opt.connections = atoi(optarg); break;
      case 'n': opt.max_id = atol(optarg); break;
      case 'q': opt.query = optarg; break;
      default: die("usage: loadgen -m select|read|handshake -a ADDRESS -u USER [-t SECONDS] [-c CONNECTIONS] [-n MAX_ID] [-q QUERY]");
    }
  }
  if (opt.mode == NULL || opt.address == NULL || opt.user == NULL) die("-m, -a and -u are required");
  if (opt.connections < 1 || opt.connections > 1024 || opt.seconds <= 0 || opt.max_id < 1) die("bad -c, -t or -n");
  for (size_t i = 0; i < sizeof MODES / sizeof MODES[0]; i++) {
    if (strcmp(MODES[i].name, opt.mode) == 0) mode = &MODES[i];
  }
  if (mode == NULL) die("unknown mode %s", opt.mode);

  struct worker *workers = calloc(opt.connections, sizeof *workers);
  if (workers == NULL) die("out of memory");
  for (int i = 0; i < opt.connections; i++) {
    workers[i].opt = &opt;
    workers[i].rng = 0x9e3779b97f4a7c15ULL * (i + 1);
    if (mode->connect_first) {
      conn_open(&workers[i].conn, opt.address);
      login(&workers[i].conn, opt.user);
    }
  }

  double cpu0 = cpu_seconds(), t0 = now();
  deadline = t0 + opt.seconds;
  for (int i = 0; i < opt.connections; i++) {
    if (pthread_create(&workers[i].thread, NULL, run_worker, &workers[i]) != 0) die("pthread_create failed");
  }
  long ops = 0, rows = 0;
  uint64_t bytes = 0;
  for (int i = 0; i < opt.connections; i++) {
    pthread_join(workers[i].thread, NULL);
    ops += workers[i].ops;
    rows += workers[i].rows;
    bytes += workers[i].bytes;
  }
  double elapsed = now() - t0, cpu = cpu_seconds() - cpu0;
  if (mode->connect_first) {
    for (int i = 0; i < opt.connections; i++) quit(&workers[i].conn);
  }
  char cpus[256];
  allowed_cpus(cpus, sizeof cpus);
  printf("{\"mode\":\"%s\",\"connections\":%d,\"seconds\":%.4f,\"ops\":%ld,\"ops_per_s\":%.1f,\"rows\":%ld,"
         "\"bytes\":%llu,\"mib_per_s\":%.2f,\"cpu_s\":%.3f,\"cpus\":\"%s\"}\n",
         mode->name, opt.connections, elapsed, ops, ops / elapsed, rows, (unsigned long long)bytes,
         bytes / elapsed / (1024 * 1024), cpu, cpus);
  return 0;
}
