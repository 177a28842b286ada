/*
 * A Unix stream socket between two processes in C: what the raw Node floor
 * (bench/cases/raw.ts) would cost without JavaScript, msgpack or an event
 * loop. Same framing as that floor (a length in front of each message, one
 * write() per message); blocking reads, so the peer sleeps in the kernel.
 *
 * Round trip: the client writes a message, the server reads it whole and
 * writes it back. One way: the server writes messages until told to stop;
 * the client reads up to 64 KiB at a time and counts whole messages.
 */
#include "common.h" /* first: it defines _GNU_SOURCE for the system headers */
#include <stdatomic.h>
#include <sys/socket.h>

enum kind { K_DATA = 1, K_BURST = 2, K_END = 3, K_QUIT = 4 };

struct header {
  uint32_t len;
  uint32_t kind;
};

#define HEADER ((size_t)sizeof(struct header))
#define READ_CHUNK (64 * 1024)

struct shared {
  /* Set by the client to end a one-way burst (the socket carries only data). */
  _Atomic int stop;
};

static int g_client_fd, g_server_fd;

static void write_full(int fd, const void *buf, size_t len) {
  const unsigned char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) die("write");
    p += n;
    len -= (size_t)n;
  }
}

/* Returns 0 at end of stream before the first byte. */
static int read_full(int fd, void *buf, size_t len) {
  unsigned char *p = buf;
  size_t got = 0;
  while (got < len) {
    ssize_t n = read(fd, p + got, len - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("read");
    if (n == 0) {
      if (got == 0) return 0;
      fprintf(stderr, "unixsock: stream ended mid-message\n");
      exit(1);
    }
    got += (size_t)n;
  }
  return 1;
}

static void server(void *arg) {
  struct shared *sh = arg;
  close(g_client_fd);
  int fd = g_server_fd;
  unsigned char buf[HEADER + MAX_MESSAGE];
  for (;;) {
    struct header h;
    if (!read_full(fd, &h, HEADER) || h.kind == K_QUIT) return;
    if (h.kind == K_DATA) {
      memcpy(buf, &h, HEADER);
      read_full(fd, buf + HEADER, h.len);
      write_full(fd, buf, HEADER + h.len);
    } else if (h.kind == K_BURST) {
      struct header data = {h.len, K_DATA};
      memcpy(buf, &data, HEADER);
      fill_message(buf + HEADER, h.len, 0);
      for (uint64_t seq = 0; !atomic_load_explicit(&sh->stop, memory_order_relaxed); seq++) {
        memcpy(buf + HEADER, &seq, sizeof seq);
        write_full(fd, buf, HEADER + h.len);
      }
      struct header end = {0, K_END};
      write_full(fd, &end, HEADER);
    }
  }
}

static void round_trips(const struct plan *p, size_t size) {
  int fd = g_client_fd;
  unsigned char msg[HEADER + MAX_MESSAGE], back[HEADER + MAX_MESSAGE];
  struct header h = {(uint32_t)size, K_DATA};
  memcpy(msg, &h, HEADER);
  fill_message(msg + HEADER, size, 0);
  for (long i = 0; i < p->warmup; i++) {
    write_full(fd, msg, HEADER + size);
    read_full(fd, back, HEADER + size);
  }
  double *us = malloc(sizeof(double) * (size_t)p->iterations);
  if (!us) die("malloc");
  uint64_t deadline = now_ns() + (uint64_t)p->max_ms * 1000000u;
  long n = 0;
  while (n < p->iterations) {
    memcpy(msg + HEADER, &(uint64_t){(uint64_t)n}, sizeof(uint64_t));
    uint64_t t0 = now_ns();
    write_full(fd, msg, HEADER + size);
    read_full(fd, back, HEADER + size);
    uint64_t t1 = now_ns();
    if (message_seq(back + HEADER) != (uint64_t)n) {
      fprintf(stderr, "unixsock: echo %ld came back wrong\n", n);
      exit(1);
    }
    us[n++] = (double)(t1 - t0) / 1000.0;
    if ((n & 255) == 0 && t1 > deadline) break;
  }
  print_latency(size, us, n);
  free(us);
}

/*
 * Reads one chunk and counts the whole messages in it; a partial message
 * stays in `buf`. Returns 1 once the END header has been read.
 */
static int read_and_count(int fd, unsigned char *buf, size_t *have, long *count) {
  ssize_t n = read(fd, buf + *have, READ_CHUNK);
  if (n < 0 && errno == EINTR) return 0;
  if (n <= 0) die("read");
  *have += (size_t)n;
  size_t at = 0;
  int ended = 0;
  while (*have - at >= HEADER) {
    struct header h;
    memcpy(&h, buf + at, HEADER);
    if (h.kind == K_END) {
      ended = 1;
      at += HEADER;
      break;
    }
    if (*have - at < HEADER + h.len) break;
    at += HEADER + h.len;
    (*count)++;
  }
  memmove(buf, buf + at, *have - at);
  *have -= at;
  return ended;
}

static void one_way(struct shared *sh, const struct plan *p, size_t size) {
  int fd = g_client_fd;
  // Room for one chunk plus a message left over from the previous one.
  static unsigned char buf[READ_CHUNK + HEADER + MAX_MESSAGE];
  size_t have = 0;
  long count = 0, ignored = 0;
  atomic_store(&sh->stop, 0);
  struct header h = {(uint32_t)size, K_BURST};
  write_full(fd, &h, HEADER);
  uint64_t start = now_ns();
  while (now_ns() - start < 20000000u) read_and_count(fd, buf, &have, &ignored);
  start = now_ns();
  uint64_t end = start;
  uint64_t limit = (uint64_t)(p->oneway_seconds * 1e9);
  while (end - start < limit) {
    read_and_count(fd, buf, &have, &count);
    end = now_ns();
  }
  atomic_store(&sh->stop, 1);
  while (!read_and_count(fd, buf, &have, &ignored)) {
  }
  print_rate(size, count, (double)(end - start) / 1e9);
}

int main(int argc, char **argv) {
  struct plan p = parse_plan(argc, argv);
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) die("socketpair");
  g_client_fd = fds[0];
  g_server_fd = fds[1];
  struct shared *sh = shared_pages(sizeof *sh);
  pid_t peer = start_peer(server, sh);
  close(g_server_fd);
  printf("{");
  print_cpus();
  printf(",\"latency\":{");
  for (int k = 0; k < p.nsizes; k++) {
    if (k) printf(",");
    round_trips(&p, p.sizes[k]);
  }
  printf("},\"throughput\":{");
  for (int k = 0; p.oneway_seconds > 0 && k < p.nsizes; k++) {
    if (k) printf(",");
    one_way(sh, &p, p.sizes[k]);
  }
  printf("}}\n");
  struct header quit = {0, K_QUIT};
  write_full(g_client_fd, &quit, HEADER);
  wait_peer(peer);
  return 0;
}
