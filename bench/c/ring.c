/*
 * The physical limit of the shm: transport: two processes, two single-
 * producer single-consumer rings in shared memory (one per direction), and
 * peers that poll instead of sleeping. Nothing is cheaper between processes:
 * a message costs a copy in, a copy out and the cache-line transfers of the
 * slot and the index.
 *
 * Round trip: the client writes a message, the server copies it out and
 * writes it back. One way: the server fills the ring as fast as the client
 * drains it; the client counts what it copied out.
 *
 * On one CPU (pinned sessions) a poller yields the CPU at once, and with
 * two it yields after ~50 us of polling (see poll_pause): spinning while the
 * peer cannot run would only wait for the scheduler's tick.
 */
#include "common.h" /* first: it defines _GNU_SOURCE for the system headers */
#include <stdatomic.h>

/* Slots per ring, a power of two: 256 x 4 KiB bounds a ring at ~1 MiB. */
#define SLOTS 256
#define CACHE_LINE 64

enum kind { K_DATA = 1, K_BURST = 2, K_END = 3, K_QUIT = 4 };

struct slot {
  uint32_t len;
  uint32_t kind;
  unsigned char data[MAX_MESSAGE];
} __attribute__((aligned(CACHE_LINE)));

/*
 * One direction. `head` is written by the producer only and `tail` by the
 * consumer only; each has its own cache line so neither write evicts the
 * other side's index.
 */
struct ring {
  _Alignas(CACHE_LINE) _Atomic uint64_t head;
  _Alignas(CACHE_LINE) _Atomic uint64_t tail;
  _Alignas(CACHE_LINE) struct slot slots[SLOTS];
};

struct shared {
  struct ring to_server;
  struct ring to_client;
  /* Set by the client to end a one-way burst. */
  _Alignas(CACHE_LINE) _Atomic int stop;
};

/*
 * Each side keeps a private copy of the other side's index and reloads it
 * only when the ring looks full (producer) or empty (consumer), so the
 * shared line moves between CPUs once per stall, not once per message.
 */
struct producer {
  struct ring *ring;
  uint64_t head;
  uint64_t tail_seen;
};

struct consumer {
  struct ring *ring;
  uint64_t tail;
  uint64_t head_seen;
};

static void send_message(struct producer *p, uint32_t kind, const unsigned char *msg, size_t len) {
  for (unsigned spins = 0; p->head - p->tail_seen >= SLOTS;) {
    p->tail_seen = atomic_load_explicit(&p->ring->tail, memory_order_acquire);
    if (p->head - p->tail_seen >= SLOTS) poll_pause(&spins);
  }
  struct slot *s = &p->ring->slots[p->head & (SLOTS - 1)];
  s->len = (uint32_t)len;
  s->kind = kind;
  memcpy(s->data, msg, len);
  p->head++;
  atomic_store_explicit(&p->ring->head, p->head, memory_order_release);
}

/* Copies the next message into `buf`; returns its kind and sets *len. */
static uint32_t receive_message(struct consumer *c, unsigned char *buf, size_t *len) {
  for (unsigned spins = 0; c->tail == c->head_seen;) {
    c->head_seen = atomic_load_explicit(&c->ring->head, memory_order_acquire);
    if (c->tail == c->head_seen) poll_pause(&spins);
  }
  const struct slot *s = &c->ring->slots[c->tail & (SLOTS - 1)];
  uint32_t kind = s->kind;
  *len = s->len;
  memcpy(buf, s->data, *len);
  // The copy out is part of the cost; this keeps the compiler from dropping it when `buf` is never read.
  __asm__ __volatile__("" : : "r"(buf) : "memory");
  c->tail++;
  atomic_store_explicit(&c->ring->tail, c->tail, memory_order_release);
  return kind;
}

static void server(void *arg) {
  struct shared *sh = arg;
  struct producer out = {&sh->to_client, 0, 0};
  struct consumer in = {&sh->to_server, 0, 0};
  unsigned char buf[MAX_MESSAGE];
  for (;;) {
    size_t len;
    uint32_t kind = receive_message(&in, buf, &len);
    if (kind == K_QUIT) return;
    if (kind == K_DATA) {
      send_message(&out, K_DATA, buf, len);
    } else if (kind == K_BURST) {
      fill_message(buf, len, 0);
      for (uint64_t seq = 0; !atomic_load_explicit(&sh->stop, memory_order_relaxed); seq++) {
        memcpy(buf, &seq, sizeof seq);
        send_message(&out, K_DATA, buf, len);
      }
      send_message(&out, K_END, buf, 0);
    }
  }
}

static void round_trips(struct producer *out, struct consumer *in, const struct plan *p, size_t size) {
  unsigned char msg[MAX_MESSAGE], back[MAX_MESSAGE];
  fill_message(msg, size, 0);
  size_t len;
  for (long i = 0; i < p->warmup; i++) {
    send_message(out, K_DATA, msg, size);
    receive_message(in, back, &len);
  }
  double *us = malloc(sizeof(double) * (size_t)p->iterations);
  if (!us) die("malloc");
  uint64_t deadline = now_ns() + (uint64_t)p->max_ms * 1000000u;
  long n = 0;
  while (n < p->iterations) {
    memcpy(msg, &(uint64_t){(uint64_t)n}, sizeof(uint64_t));
    uint64_t t0 = now_ns();
    send_message(out, K_DATA, msg, size);
    receive_message(in, back, &len);
    uint64_t t1 = now_ns();
    if (len != size || message_seq(back) != (uint64_t)n) {
      fprintf(stderr, "ring: echo %ld came back wrong\n", n);
      exit(1);
    }
    us[n++] = (double)(t1 - t0) / 1000.0;
    if ((n & 255) == 0 && t1 > deadline) break;
  }
  print_latency(size, us, n);
  free(us);
}

static void one_way(struct shared *sh, struct producer *out, struct consumer *in, const struct plan *p, size_t size) {
  unsigned char buf[MAX_MESSAGE] = {0};
  size_t len;
  atomic_store(&sh->stop, 0);
  send_message(out, K_BURST, buf, size);
  // Warm-up: the first ~20 ms fill caches and fault in the ring's pages.
  uint64_t start = now_ns();
  long count = 0;
  while (now_ns() - start < 20000000u)
    for (int k = 0; k < 1024; k++) receive_message(in, buf, &len);
  start = now_ns();
  uint64_t end = start;
  uint64_t limit = (uint64_t)(p->oneway_seconds * 1e9);
  while (end - start < limit) {
    for (int k = 0; k < 1024; k++) receive_message(in, buf, &len);
    count += 1024;
    end = now_ns();
  }
  atomic_store(&sh->stop, 1);
  while (receive_message(in, buf, &len) != K_END) {
  }
  print_rate(size, count, (double)(end - start) / 1e9);
}

int main(int argc, char **argv) {
  struct plan p = parse_plan(argc, argv);
  g_one_cpu = one_cpu();
  struct shared *sh = shared_pages(sizeof *sh);
  pid_t peer = start_peer(server, sh);
  struct producer out = {&sh->to_server, 0, 0};
  struct consumer in = {&sh->to_client, 0, 0};

  printf("{");
  print_cpus();
  printf(",\"latency\":{");
  for (int k = 0; k < p.nsizes; k++) {
    if (k) printf(",");
    round_trips(&out, &in, &p, p.sizes[k]);
  }
  printf("},\"throughput\":{");
  for (int k = 0; p.oneway_seconds > 0 && k < p.nsizes; k++) {
    if (k) printf(",");
    one_way(sh, &out, &in, &p, p.sizes[k]);
  }
  printf("}}\n");
  unsigned char none[1] = {0};
  send_message(&out, K_QUIT, none, 0);
  wait_peer(peer);
  return 0;
}
