/*
 * What every C baseline of `pnpm bench` shares: the command line, a
 * monotonic clock, shared pages for two processes made with fork(), the
 * polling pause, and the one JSON line the runner parses (bench/lib/cSession.ts).
 *
 * Command line of the ping-pong programs:
 *   prog <sizes, comma-separated> <warm-up calls> <timed calls> <max ms> <one-way seconds, 0 = skip>
 * Output: {"cpus":"0","latency":{"64":{...}},"throughput":{"64":{...}}}
 */
#ifndef PROCWIRE_BENCH_COMMON_H
#define PROCWIRE_BENCH_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Largest message any program sends: the bench's largest payload, 4 KiB. */
#define MAX_MESSAGE 4096
#define MAX_SIZES 4

struct plan {
  size_t sizes[MAX_SIZES];
  int nsizes;
  long warmup;
  long iterations;
  long max_ms;
  /* Length of the one-way measurement per size; 0 skips it. */
  double oneway_seconds;
};

static inline void die(const char *what) {
  perror(what);
  exit(1);
}

static inline uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline struct plan parse_plan(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s <sizes> <warmup> <iterations> <max-ms> <one-way-seconds>\n", argv[0]);
    exit(2);
  }
  struct plan p = {0};
  char *rest = argv[1];
  for (char *tok = strtok(rest, ","); tok && p.nsizes < MAX_SIZES; tok = strtok(NULL, ",")) {
    long size = strtol(tok, NULL, 10);
    if (size < 8 || size > MAX_MESSAGE) {
      fprintf(stderr, "size %ld outside 8..%d\n", size, MAX_MESSAGE);
      exit(2);
    }
    p.sizes[p.nsizes++] = (size_t)size;
  }
  p.warmup = strtol(argv[2], NULL, 10);
  p.iterations = strtol(argv[3], NULL, 10);
  p.max_ms = strtol(argv[4], NULL, 10);
  p.oneway_seconds = strtod(argv[5], NULL);
  if (p.nsizes == 0 || p.iterations < 1) {
    fprintf(stderr, "nothing to measure\n");
    exit(2);
  }
  return p;
}

/* Anonymous shared pages: fork() hands the same memory to the peer. */
static inline void *shared_pages(size_t bytes) {
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) die("mmap");
  memset(p, 0, bytes);
  return p;
}

/*
 * Starts the peer process; it runs `body` and exits. It dies with its parent
 * (PR_SET_PDEATHSIG), so a runner that kills a stuck baseline leaves nothing.
 */
static inline pid_t start_peer(void (*body)(void *), void *arg) {
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    body(arg);
    _exit(0);
  }
  return pid;
}

static inline void wait_peer(pid_t pid) {
  int status;
  if (waitpid(pid, &status, 0) < 0) die("waitpid");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "peer process failed (status %d)\n", status);
    exit(1);
  }
}

/*
 * True when this process may run on one CPU only (the pinned sessions,
 * `taskset -c 0`). A polling peer then cannot make progress while we poll,
 * so polling loops hand the CPU over at once.
 */
static inline int one_cpu(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
  return CPU_COUNT(&set) == 1;
}

static int g_one_cpu;

/*
 * Pauses of a polling loop before it yields the CPU (~50 us here, like
 * shm's spinMicros=50). With two CPUs the peer answers long before that;
 * the bound only matters when the scheduler put both processes on one CPU
 * (another process took the other), where pure spinning would wait for the
 * scheduler's tick, milliseconds per message.
 */
#define SPINS_BEFORE_YIELD 2000

/* One turn of a polling loop; `spins` counts the turns of the current wait (start it at 0). */
static inline void poll_pause(unsigned *spins) {
  if (g_one_cpu || ++*spins > SPINS_BEFORE_YIELD) {
    sched_yield();
    return;
  }
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield" ::: "memory");
#else
  __asm__ __volatile__("" ::: "memory");
#endif
}

/* The CPUs this process may run on, in the kernel's list format ("0", "0-1"), as /proc shows them. */
static inline void print_cpus(void) {
  cpu_set_t set;
  printf("\"cpus\":\"");
  if (sched_getaffinity(0, sizeof set, &set) != 0) {
    printf("?\"");
    return;
  }
  const char *sep = "";
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
    if (!CPU_ISSET(cpu, &set)) continue;
    int last = cpu;
    while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, &set)) last++;
    if (last > cpu)
      printf("%s%d-%d", sep, cpu, last);
    else
      printf("%s%d", sep, cpu);
    sep = ",";
    cpu = last;
  }
  printf("\"");
}

static inline int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Nearest-rank percentile of an ascending array, as bench/lib/stats.ts computes it. */
static inline double percentile(const double *sorted, long n, double p) {
  long rank = (long)((p / 100.0) * (double)n + 0.999999999);
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  return sorted[rank - 1];
}

/* Prints `"<size>":{n,p50,p90,p99,mean,min}` (µs) and sorts `us` in place. */
static inline void print_latency(size_t size, double *us, long n) {
  qsort(us, (size_t)n, sizeof *us, cmp_double);
  double sum = 0;
  for (long k = 0; k < n; k++) sum += us[k];
  printf("\"%zu\":{\"n\":%ld,\"p50\":%.4f,\"p90\":%.4f,\"p99\":%.4f,\"mean\":%.4f,\"min\":%.4f}", size, n,
         percentile(us, n, 50), percentile(us, n, 90), percentile(us, n, 99), sum / (double)n, us[0]);
}

static inline void print_rate(size_t size, long count, double seconds) {
  printf("\"%zu\":{\"count\":%ld,\"seconds\":%.6f,\"msgsPerSec\":%.1f}", size, count, seconds, (double)count / seconds);
}

/* Fills a message with a recognisable pattern and its sequence number in front. */
static inline void fill_message(unsigned char *buf, size_t size, uint64_t seq) {
  for (size_t k = 0; k < size; k++) buf[k] = (unsigned char)('a' + k % 26);
  memcpy(buf, &seq, sizeof seq);
}

static inline uint64_t message_seq(const unsigned char *buf) {
  uint64_t seq;
  memcpy(&seq, buf, sizeof seq);
  return seq;
}

#endif
