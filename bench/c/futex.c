/*
 * The cheapest sleeping hand-over between two processes: a futex word in
 * shared memory, ping-pong. Each side copies the message into or out of
 * the shared page, bumps the word, FUTEX_WAKEs the peer and sleeps in
 * FUTEX_WAIT until the answer: no polling at all, so this is the floor for
 * a transport whose peer sleeps (shm: with wait=sleep wakes through an
 * eventfd and an event loop on top of this).
 *
 * The word counts steps: odd = a request is waiting for the server, even =
 * the answer is waiting for the client.
 */
#include "common.h" /* first: it defines _GNU_SOURCE for the system headers */
#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/syscall.h>

struct shared {
  _Atomic uint32_t step;
  uint32_t len;
  /* Set with the last request: the server returns instead of answering. */
  uint32_t quit;
  unsigned char data[MAX_MESSAGE];
};

static void futex_wait(_Atomic uint32_t *word, uint32_t seen) {
  // Returns at once (EAGAIN) when the word no longer holds `seen`; spurious wake-ups are re-checked by the caller.
  syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT, seen, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *word) {
  syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, 1, NULL, NULL, 0);
}

/* Sleeps until the word holds `want`. */
static void wait_for(_Atomic uint32_t *word, uint32_t want) {
  for (;;) {
    uint32_t seen = atomic_load_explicit(word, memory_order_acquire);
    if (seen == want) return;
    futex_wait(word, seen);
  }
}

static void server(void *arg) {
  struct shared *sh = arg;
  unsigned char buf[MAX_MESSAGE];
  for (uint32_t step = 1;; step += 2) {
    wait_for(&sh->step, step);
    if (sh->quit) return;
    size_t len = sh->len;
    memcpy(buf, sh->data, len);
    memcpy(sh->data, buf, len);
    atomic_store_explicit(&sh->step, step + 1, memory_order_release);
    futex_wake(&sh->step);
  }
}

static uint32_t g_step;

static void round_trip(struct shared *sh, const unsigned char *msg, unsigned char *back, size_t size) {
  sh->len = (uint32_t)size;
  memcpy(sh->data, msg, size);
  atomic_store_explicit(&sh->step, ++g_step, memory_order_release);
  futex_wake(&sh->step);
  wait_for(&sh->step, ++g_step);
  memcpy(back, sh->data, size);
}

static void round_trips(struct shared *sh, const struct plan *p, size_t size) {
  unsigned char msg[MAX_MESSAGE], back[MAX_MESSAGE];
  fill_message(msg, size, 0);
  for (long i = 0; i < p->warmup; i++) round_trip(sh, msg, back, size);
  double *us = malloc(sizeof(double) * (size_t)p->iterations);
  if (!us) die("malloc");
  uint64_t deadline = now_ns() + (uint64_t)p->max_ms * 1000000u;
  long n = 0;
  while (n < p->iterations) {
    memcpy(msg, &(uint64_t){(uint64_t)n}, sizeof(uint64_t));
    uint64_t t0 = now_ns();
    round_trip(sh, msg, back, size);
    uint64_t t1 = now_ns();
    if (message_seq(back) != (uint64_t)n) {
      fprintf(stderr, "futex: echo %ld came back wrong\n", n);
      exit(1);
    }
    us[n++] = (double)(t1 - t0) / 1000.0;
    if ((n & 255) == 0 && t1 > deadline) break;
  }
  print_latency(size, us, n);
  free(us);
}

int main(int argc, char **argv) {
  struct plan p = parse_plan(argc, argv);
  struct shared *sh = shared_pages(sizeof *sh);
  pid_t peer = start_peer(server, sh);
  printf("{");
  print_cpus();
  printf(",\"latency\":{");
  for (int k = 0; k < p.nsizes; k++) {
    if (k) printf(",");
    round_trips(sh, &p, p.sizes[k]);
  }
  // A sleeping peer has no one-way figure of its own here: the ring row is the one-way limit.
  printf("},\"throughput\":{}}\n");
  sh->quit = 1;
  atomic_store_explicit(&sh->step, ++g_step, memory_order_release);
  futex_wake(&sh->step);
  wait_peer(peer);
  return 0;
}
