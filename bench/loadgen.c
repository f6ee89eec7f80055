/*
 * loadgen: the benches' load generator, in C on libmariadb (MariaDB Connector/C, what the mariadb
 * CLI and most C programs use), so that the client is never what limits a measure and every
 * server is driven by the same real client library.
 *
 *   loadgen -m MODE -a ADDRESS -u USER [-t SECONDS] [-c CONNECTIONS] [-n MAX_ID] [-N TOTAL] [-q QUERY]
 *     ADDRESS  a Unix socket path (starts with '/') or IPv4 HOST:PORT (libmariadb sets TCP_NODELAY)
 *     USER     logged in without a password (the accounts use auth_socket / unix_socket, or none)
 *     modes:
 *       select     C connections, one thread each, each running "SELECT v FROM bench.t WHERE
 *                  id = <random 1..MAX_ID>" back to back; each must return exactly one row
 *       read       C connections, each running QUERY (default "SELECT v FROM bench.big") back to back
 *       handshake  C threads, each looping mysql_init + mysql_real_connect + mysql_close (COM_QUIT)
 *   Connections are opened and logged in before the clock starts (except in handshake mode). Every
 *   thread stops starting operations after SECONDS, or once TOTAL operations were started by all
 *   threads together (-N; none by default). In select and read mode any error exits 1 with a
 *   message on stderr; in handshake mode a failed login is counted in "failures" and the first
 *   one's mysql_error() is printed on stderr, once. The result is one JSON line on stdout:
 *     {"mode", "connections", "seconds", "ops", "ops_per_s", "failures", "rows", "bytes",
 *      "mib_per_s", "cpu_s", "cpus"}
 *   ops: operations that succeeded; bytes: the bytes of the rows' values (mysql_fetch_lengths);
 *   cpu_s: this process's user+system CPU time while timed; cpus: the CPUs it was allowed on.
 *
 * No option files are read (libmariadb reads them only when asked); no TLS is asked for.
 *
 * Adding a mode: write `static int my_op(struct worker *w)` that performs one operation (adding to
 * w->rows and w->bytes as it likes) and returns whether it succeeded, and add it to MODES;
 * `connect_first` says whether the worker's connection is opened and logged in before the clock.
 *
 * Build: cc -O2 $(mariadb_config --cflags) -pthread -o loadgen loadgen.c $(mariadb_config --libs)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <mysql.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

struct options {
  const char *mode, *address, *user, *query;
  double seconds;
  int connections;
  long max_id, total;
  /* ADDRESS split: a socket path, or a host and port */
  const char *socket_path;
  char host[64];
  unsigned port;
};

struct worker {
  const struct options *opt;
  MYSQL *mysql; /* the connection of select and read mode */
  uint64_t rng;
  long ops, failures, rows;
  uint64_t bytes;
  pthread_t thread;
};

static double deadline;
static long started_ops; /* operations claimed so far, against -N */
static pthread_mutex_t first_error_lock = PTHREAD_MUTEX_INITIALIZER;
static int first_error_printed;

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

/* ---- connections ------------------------------------------------------------------------------ */

static void parse_address(struct options *opt) {
  if (opt->address[0] == '/') {
    opt->socket_path = opt->address;
    return;
  }
  const char *colon = strrchr(opt->address, ':');
  if (colon == NULL || (size_t)(colon - opt->address) >= sizeof opt->host) die("address is /PATH or HOST:PORT: %s", opt->address);
  memcpy(opt->host, opt->address, colon - opt->address);
  opt->host[colon - opt->address] = '\0';
  opt->port = (unsigned)atoi(colon + 1);
}

/* A new logged-in connection, or NULL with the error in *error (a handle to mysql_close). */
static MYSQL *open_connection(const struct options *opt, MYSQL **error) {
  MYSQL *m = mysql_init(NULL);
  if (m == NULL) die("mysql_init: out of memory");
  unsigned timeout = 10;
  mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  /* "localhost" with a socket path is libmariadb's Unix socket; an IP address is TCP. */
  const char *host = opt->socket_path != NULL ? "localhost" : opt->host;
  if (mysql_real_connect(m, host, opt->user, NULL, NULL, opt->port, opt->socket_path, CLIENT_MULTI_RESULTS) == NULL) {
    *error = m;
    return NULL;
  }
  return m;
}

static MYSQL *connect_or_die(const struct options *opt) {
  MYSQL *error = NULL, *m = open_connection(opt, &error);
  if (m == NULL) die("login to %s as %s: ERROR %u: %s", opt->address, opt->user, mysql_errno(error), mysql_error(error));
  return m;
}

/* Runs `sql` and reads its whole response, every result set (mysql_use_result: rows are read as
 * they come, never all held). Returns the rows; adds the bytes of their values to *bytes. */
static long query(MYSQL *m, const char *sql, uint64_t *bytes) {
  if (mysql_real_query(m, sql, strlen(sql)) != 0) die("%s: ERROR %u: %s", sql, mysql_errno(m), mysql_error(m));
  long rows = 0;
  int more;
  do {
    MYSQL_RES *result = mysql_use_result(m);
    if (result != NULL) {
      unsigned fields = mysql_num_fields(result);
      while (mysql_fetch_row(result) != NULL) {
        const unsigned long *lengths = mysql_fetch_lengths(result);
        for (unsigned i = 0; i < fields; i++) *bytes += lengths[i];
        rows++;
      }
      if (mysql_errno(m) != 0) die("%s: ERROR %u: %s", sql, mysql_errno(m), mysql_error(m));
      mysql_free_result(result);
    } else if (mysql_field_count(m) != 0) {
      die("%s: ERROR %u: %s", sql, mysql_errno(m), mysql_error(m));
    }
    more = mysql_next_result(m);
    if (more > 0) die("%s: ERROR %u: %s", sql, mysql_errno(m), mysql_error(m));
  } while (more == 0);
  return rows;
}

/* ---- modes: one operation each ------------------------------------------------------------------ */

static uint64_t next_random(uint64_t *state) { /* xorshift64 */
  *state ^= *state << 13;
  *state ^= *state >> 7;
  *state ^= *state << 17;
  return *state;
}

static int select_op(struct worker *w) {
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT v FROM bench.t WHERE id = %ld", (long)(next_random(&w->rng) % w->opt->max_id) + 1);
  long rows = query(w->mysql, sql, &w->bytes);
  if (rows != 1) die("%s: %ld rows, expected 1", sql, rows);
  w->rows += rows;
  return 1;
}

static int read_op(struct worker *w) {
  w->rows += query(w->mysql, w->opt->query, &w->bytes);
  return 1;
}

static int handshake_op(struct worker *w) {
  MYSQL *error = NULL, *m = open_connection(w->opt, &error);
  if (m == NULL) {
    pthread_mutex_lock(&first_error_lock);
    if (!first_error_printed) {
      first_error_printed = 1;
      fprintf(stderr, "loadgen: login to %s as %s failed (further failures are only counted): ERROR %u: %s\n", w->opt->address,
              w->opt->user, mysql_errno(error), mysql_error(error));
    }
    pthread_mutex_unlock(&first_error_lock);
    mysql_close(error);
    return 0;
  }
  mysql_close(m); /* sends COM_QUIT */
  return 1;
}

static const struct mode {
  const char *name;
  int (*op)(struct worker *);
  int connect_first;
} MODES[] = {
    {"select", select_op, 1},
    {"read", read_op, 1},
    {"handshake", handshake_op, 0},
};

/* ---- main ------------------------------------------------------------------------------------- */

static const struct mode *mode;

/* Whether another operation may start: the clock, and the -N budget shared by every thread. */
static int may_start(const struct options *opt) {
  if (now() >= deadline) return 0;
  return opt->total == 0 || __atomic_fetch_add(&started_ops, 1, __ATOMIC_RELAXED) < opt->total;
}

static void *run_worker(void *arg) {
  struct worker *w = arg;
  /* libmariadb (3.3) calls usleep(1) after every connect(), even one that succeeded; with the
   * default 50 us timer slack that sleep was a third of a whole login at one thread. */
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  mysql_thread_init();
  while (may_start(w->opt)) {
    if (mode->op(w)) w->ops++;
    else w->failures++;
  }
  mysql_thread_end();
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
  while ((c = getopt(argc, argv, "m:a:u:t:c:n:N:q:")) != -1) {
    switch (c) {
      case 'm': opt.mode = optarg; break;
      case 'a': opt.address = optarg; break;
      case 'u': opt.user = optarg; break;
      case 't': opt.seconds = atof(optarg); break;
      case 'c': opt.connections = atoi(optarg); break;
      case 'n': opt.max_id = atol(optarg); break;
      case 'N': opt.total = atol(optarg); break;
      case 'q': opt.query = optarg; break;
      default: die("usage: loadgen -m select|read|handshake -a ADDRESS -u USER [-t SECONDS] [-c CONNECTIONS] [-n MAX_ID] [-N TOTAL] [-q QUERY]");
    }
  }
  if (opt.mode == NULL || opt.address == NULL || opt.user == NULL) die("-m, -a and -u are required");
  if (opt.connections < 1 || opt.connections > 1024 || opt.seconds <= 0 || opt.max_id < 1 || opt.total < 0) die("bad -c, -t, -n or -N");
  for (size_t i = 0; i < sizeof MODES / sizeof MODES[0]; i++) {
    if (strcmp(MODES[i].name, opt.mode) == 0) mode = &MODES[i];
  }
  if (mode == NULL) die("unknown mode %s", opt.mode);
  parse_address(&opt);
  /* Before any thread: mysql_init() would otherwise do it, and it is not thread-safe. */
  if (mysql_library_init(0, NULL, NULL) != 0) die("mysql_library_init failed");

  struct worker *workers = calloc(opt.connections, sizeof *workers);
  if (workers == NULL) die("out of memory");
  for (int i = 0; i < opt.connections; i++) {
    workers[i].opt = &opt;
    workers[i].rng = 0x9e3779b97f4a7c15ULL * (i + 1);
    if (mode->connect_first) workers[i].mysql = connect_or_die(&opt);
  }

  double cpu0 = cpu_seconds(), t0 = now();
  deadline = t0 + opt.seconds;
  for (int i = 0; i < opt.connections; i++) {
    if (pthread_create(&workers[i].thread, NULL, run_worker, &workers[i]) != 0) die("pthread_create failed");
  }
  long ops = 0, failures = 0, rows = 0;
  uint64_t bytes = 0;
  for (int i = 0; i < opt.connections; i++) {
    pthread_join(workers[i].thread, NULL);
    ops += workers[i].ops;
    failures += workers[i].failures;
    rows += workers[i].rows;
    bytes += workers[i].bytes;
  }
  double elapsed = now() - t0, cpu = cpu_seconds() - cpu0;
  for (int i = 0; i < opt.connections; i++) {
    if (workers[i].mysql != NULL) mysql_close(workers[i].mysql);
  }
  mysql_library_end();
  char cpus[256];
  allowed_cpus(cpus, sizeof cpus);
  printf("{\"mode\":\"%s\",\"connections\":%d,\"seconds\":%.4f,\"ops\":%ld,\"ops_per_s\":%.1f,\"failures\":%ld,\"rows\":%ld,"
         "\"bytes\":%llu,\"mib_per_s\":%.2f,\"cpu_s\":%.3f,\"cpus\":\"%s\"}\n",
         mode->name, opt.connections, elapsed, ops, ops / elapsed, failures, rows, (unsigned long long)bytes,
         bytes / elapsed / (1024 * 1024), cpu, cpus);
  return 0;
}
