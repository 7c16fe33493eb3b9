/*
 * bw-heartbeat PATH [--interval-ms N]
 * Writes "hb <seq> <CLOCK_MONOTONIC ns> <CLOCK_REALTIME ns> <interval ms>\n" to PATH every N ms
 * (the idle interval, default 1000). The host timestamps each line on arrival: the largest gap
 * around a live migration's switchover is the downtime as seen from outside the guest.
 * The host sets the pace on the same port: "interval N\n" beats every N ms from now on (the next
 * line at once, carrying N, is the acknowledgement), "idle\n" goes back to the idle interval.
 * A fast beat costs an idle TCG guest ~10% of a core, so it beats fast only while measured.
 * Keeps going when the host has not opened the port yet (writes fail, reads see end of file):
 * a heartbeat must never stop by itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_INTERVAL_MS 60000L

static long long now_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long ns_of(const struct timespec *ts) { return (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec; }

/* Commands received so far that have no newline yet. */
static char pending[128];
static size_t pending_len;

/* Applies the complete command lines in `pending`; returns the interval they leave in force. */
static long apply_commands(long interval_ms, long idle_ms) {
  char *start = pending;
  char *newline;
  while ((newline = memchr(start, '\n', pending_len - (size_t)(start - pending))) != NULL) {
    *newline = '\0';
    long value;
    if (!strcmp(start, "idle")) interval_ms = idle_ms;
    else if (sscanf(start, "interval %ld", &value) == 1 && value > 0 && value <= MAX_INTERVAL_MS) interval_ms = value;
    start = newline + 1;
  }
  pending_len -= (size_t)(start - pending);
  memmove(pending, start, pending_len);
  /* A line longer than the buffer is no command: dropped. */
  if (pending_len == sizeof pending) pending_len = 0;
  return interval_ms;
}

/*
 * Waits until `next` (CLOCK_MONOTONIC, absolute) while listening for commands on fd. Returns 1
 * when a command changed the interval (beat at once), 0 at the deadline.
 */
static int wait_for_beat(int fd, const struct timespec *next, long *interval_ms, long idle_ms) {
  for (;;) {
    long long left_ns = ns_of(next) - now_ns(CLOCK_MONOTONIC);
    if (left_ns <= 0) return 0;
    if (fd < 0) break;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int timeout_ms = (int)((left_ns + 999999) / 1000000);
    int ready = poll(&p, 1, timeout_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0 || !(p.revents & POLLIN)) break;
    ssize_t n = read(fd, pending + pending_len, sizeof pending - pending_len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    /* End of file: the host is not connected (or PATH is a plain file); nothing to listen to. */
    if (n <= 0) break;
    pending_len += (size_t)n;
    long before = *interval_ms;
    *interval_ms = apply_commands(before, idle_ms);
    if (*interval_ms != before) return 1;
  }
  /* Absolute deadline: poll's millisecond timeout may wake a little early. */
  clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next, NULL);
  return 0;
}

int main(int argc, char **argv) {
  const char *path = NULL;
  long idle_ms = 1000;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help")) {
      printf("usage: bw-heartbeat PATH [--interval-ms N]\n");
      return 0;
    } else if (!strcmp(argv[i], "--interval-ms") && i + 1 < argc) {
      idle_ms = atol(argv[++i]);
    } else {
      path = argv[i];
    }
  }
  if (!path || idle_ms <= 0 || idle_ms > MAX_INTERVAL_MS) {
    fprintf(stderr, "bw-heartbeat: usage: bw-heartbeat PATH [--interval-ms N]\n");
    return 2;
  }
  long interval_ms = idle_ms;
  int fd = -1;
  unsigned long long seq = 0;
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  for (;;) {
    if (fd < 0) fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) {
      char line[112];
      int n = snprintf(line, sizeof line, "hb %llu %lld %lld %ld\n", seq, now_ns(CLOCK_MONOTONIC), now_ns(CLOCK_REALTIME), interval_ms);
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
    /* A new pace starts now: its first line acknowledges it. */
    if (wait_for_beat(fd, &next, &interval_ms, idle_ms)) clock_gettime(CLOCK_MONOTONIC, &next);
  }
}
