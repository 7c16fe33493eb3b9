/*
 * bw-dirty-mem --mib N [--seconds S] [--hold]
 * Allocates N MiB and keeps writing to every page (a guest that dirties memory for migration
 * tests). With --hold it touches the memory once and then only holds it (memory pressure on a
 * physical host). Prints "dirty-mem ready" once allocated; exits after S seconds (0 = forever).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested = 0;

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
static void on_signal(int sig) { (void)sig; stop_requested = 1; }

int main(int argc, char **argv) {
  long mib = 0, seconds = 0;
  int hold = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help")) {
      printf("usage: bw-dirty-mem --mib N [--seconds S] [--hold]\n");
      return 0;
    } else if (!strcmp(argv[i], "--mib") && i + 1 < argc) mib = atol(argv[++i]);
    else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atol(argv[++i]);
    else if (!strcmp(argv[i], "--hold")) hold = 1;
  }
  if (mib <= 0) {
    fprintf(stderr, "bw-dirty-mem: --mib N is required\n");
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  size_t size = (size_t)mib << 20;
  unsigned char *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    perror("bw-dirty-mem: mmap");
    return 1;
  }
  long page = sysconf(_SC_PAGESIZE);
  for (size_t off = 0; off < size; off += (size_t)page) mem[off] = 1;
  printf("dirty-mem ready mib=%ld\n", mib);
  /* Monotonic milliseconds: time(NULL) would cut the first second short by up to 1 s. */
  long long end = seconds > 0 ? now_ms() + seconds * 1000 : 0;
  unsigned char round = 2;
  while (!stop_requested && (end == 0 || now_ms() < end)) {
    if (hold) {
      usleep(100000);
      continue;
    }
    for (size_t off = 0; off < size && !stop_requested; off += (size_t)page) mem[off] = round;
    round++;
  }
  return 0;
}
