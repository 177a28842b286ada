/*
 * What moving a large payload costs before any IPC: memcpy of one buffer
 * (1 MiB in the bench) in one process.
 *
 *   warm: the same source to the same destination over and over, so both
 *         stay in the CPU caches (the best a transport that copies once
 *         could do);
 *   cold: walks two pools far larger than the last-level cache, so every
 *         copy reads and writes memory (what a fresh payload costs).
 *
 * Command line: memcpy <bytes> <seconds> <warm|cold>
 * Output: {"cpus":"0,1","bytes":{"count":…,"seconds":…,"msgsPerSec":…},"copy":{"64":…}}
 * where msgsPerSec counts copies and "copy" holds the per-copy time in µs
 * under the key of the size, as the latency figures of the other programs.
 */
#include "common.h" /* first: it defines _GNU_SOURCE for the system headers */

/* Each cold pool: well past any last-level cache of the machines this runs on (32 MiB here). */
#define COLD_POOL (256u << 20)

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s <bytes> <seconds> <warm|cold>\n", argv[0]);
    return 2;
  }
  size_t size = (size_t)strtoul(argv[1], NULL, 10);
  double seconds = strtod(argv[2], NULL);
  int cold = strcmp(argv[3], "cold") == 0;
  if (size == 0 || size > COLD_POOL || seconds <= 0) {
    fprintf(stderr, "bad arguments\n");
    return 2;
  }
  size_t pool = cold ? COLD_POOL / size * size : size;
  size_t chunks = pool / size;
  unsigned char *src = malloc(pool), *dst = malloc(pool);
  if (!src || !dst) die("malloc");
  // Fault every page in first: page faults are not what this row measures.
  memset(src, 'x', pool);
  memset(dst, 0, pool);

  long cap = 1 << 20;
  double *us = malloc(sizeof(double) * (size_t)cap);
  if (!us) die("malloc");
  long n = 0;
  size_t k = 0;
  uint64_t start = now_ns(), limit = (uint64_t)(seconds * 1e9);
  uint64_t end = start;
  while (end - start < limit && n < cap) {
    uint64_t t0 = now_ns();
    memcpy(dst + k * size, src + k * size, size);
    // The destination is never read: keep the compiler from dropping the copy.
    __asm__ __volatile__("" : : "r"(dst) : "memory");
    end = now_ns();
    us[n++] = (double)(end - t0) / 1000.0;
    k = (k + 1) % chunks;
  }
  printf("{");
  print_cpus();
  printf(",\"bytes\":");
  printf("{\"count\":%ld,\"seconds\":%.6f,\"msgsPerSec\":%.1f}", n, (double)(end - start) / 1e9, (double)n / ((double)(end - start) / 1e9));
  printf(",\"copy\":{");
  print_latency(size, us, n);
  printf("}}\n");
  return 0;
}
