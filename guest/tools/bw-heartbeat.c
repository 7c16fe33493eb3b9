/*
 * bw-heartbeat PATH [--interval-ms N]
 * Writes "hb <seq> <CLOCK_MONOTONIC ns> <CLOCK_REALTIME ns>\n" to PATH every N ms (default 5).
 * The host timestamps each line on arrival: the largest gap around a live migration's switchover
 * is the downtime as seen from outside the guest. Keeps going when the host has not opened the
 * port yet (writes fail or block briefly): a heartbeat must never stop by itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
  const char *path = NULL;
  long interval_ms = 5;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help")) {
      printf("usage: bw-heartbeat PATH [--interval-ms N]\n");
      return 0;
    } else if (!strcmp(argv[i], "--interval-ms") && i + 1 < argc) {
      interval_ms = atol(argv[++i]);
    } else {
      path = argv[i];
    }
  }
  if (!path || interval_ms <= 0) {
    fprintf(stderr, "bw-heartbeat: usage: bw-heartbeat PATH [--interval-ms N]\n");
    return 2;
  }
  int fd = -1;
  unsigned long long seq = 0;
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  for (;;) {
    if (fd < 0) fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) {
      char line[96];
      int n = snprintf(line, sizeof line, "hb %llu %lld %lld\n", seq, now_ns(CLOCK_MONOTONIC), now_ns(CLOCK_REALTIME));
      ssize_t w = write(fd, line, (size_t)n);
      if (w < 0 && errno != EAGAIN && errno != EINTR) {
        close(fd);
        fd = -1;
      }
    }
    seq++;
    next.tv_nsec += interval_ms * 1000000L;
    while (next.tv_nsec >= 1000000000L) {
      next.tv_nsec -= 1000000000L;
      next.tv_sec++;
    }
    /* Absolute deadlines: after a freeze (pause, migration) the beat resumes, it does not burst. */
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec > next.tv_sec + 1) next = now;
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
  }
}
