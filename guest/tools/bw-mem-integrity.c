/*
 * bw-mem-integrity: proves guest memory came through an event intact (memory-integrity suite).
 *
 *   bw-mem-integrity start DIR [--mib N] [--rate-mib R] [--seed S] [--max-seconds T]
 *     Forks a daemon that fills N MiB (default 64) with a per-page pattern derived from the page
 *     index, a generation counter and a seed, then rewrites it at R MiB/s (default 32, 0 = never).
 *     Before rewriting a page it checks that the page still holds what it last wrote: the running
 *     record. Prints "mem-integrity ready pid=P pages=N" once the region is filled.
 *   bw-mem-integrity verify DIR SEQ [TIMEOUT_MS]
 *     Closes window SEQ: the daemon checks every page now, repairs bad ones (so each window reports
 *     only what is new), and answers with one JSON line: everything found since the last window,
 *     the first bad page, and the window's stall profile (longest gap between two rewrite steps).
 *   bw-mem-integrity locate DIR PAGE   guest-physical address of a page (tests plant corruption there)
 *   bw-mem-integrity stop DIR
 * The daemon exits on SIGTERM, when DIR/pid disappears (its owner cleaned up) or after --max-seconds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096u
#define WORDS (PAGE / 8)
#define CHUNK_PAGES 256u /* 1 MiB: one rate-limited rewrite step */

static volatile sig_atomic_t stop_requested = 0, verify_requested = 0;
static void on_stop(int sig) { (void)sig; stop_requested = 1; }
static void on_verify(int sig) { (void)sig; verify_requested = 1; }

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static uint64_t mix(uint64_t x) { /* splitmix64 finaliser */
  x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27; x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

static uint64_t seed;
static uint64_t *region;
static size_t pages;

/* Every word differs by page, generation and position: a flipped bit, a zeroed, stale or swapped page all show. */
static inline uint64_t expected_word(size_t page, uint64_t gen, size_t j) {
  return mix(seed ^ ((uint64_t)page << 24) ^ gen) ^ (j * 0x9e3779b97f4a7c15ULL);
}
static void fill_page(size_t page, uint64_t gen) {
  uint64_t *p = region + page * WORDS;
  uint64_t base = mix(seed ^ ((uint64_t)page << 24) ^ gen);
  for (size_t j = 0; j < WORDS; j++) p[j] = base ^ (j * 0x9e3779b97f4a7c15ULL);
}
/* Index of the first wrong word, or -1. */
static long check_page(size_t page, uint64_t gen) {
  const uint64_t *p = region + page * WORDS;
  uint64_t base = mix(seed ^ ((uint64_t)page << 24) ^ gen);
  for (size_t j = 0; j < WORDS; j++)
    if (p[j] != (base ^ (j * 0x9e3779b97f4a7c15ULL))) return (long)j;
  return -1;
}

/* What one window (the time between two verify requests) found. */
struct window {
  double opened_ms;
  uint64_t writer_checked, writer_bad, verify_bad, passes;
  long first_page, first_word;
  const char *first_by;
  double first_at_ms;
  uint64_t first_expected, first_found;
  double max_gap_ms, longest_pass_ms;
};
static struct window win;
static uint64_t total_bad = 0;
static double started_ms, step_ms;

static void open_window(void) {
  memset(&win, 0, sizeof win);
  win.opened_ms = now_ms();
  win.first_page = -1;
}

static void note_bad(size_t page, long word, uint64_t gen, const char *by) {
  if (win.first_page < 0) {
    win.first_page = (long)page;
    win.first_word = word;
    win.first_by = by;
    win.first_at_ms = now_ms() - started_ms;
    win.first_expected = expected_word(page, gen, (size_t)word);
    win.first_found = region[page * WORDS + (size_t)word];
  }
  total_bad++;
  fprintf(stderr, "bad page %zu word %ld (found by %s)\n", page, word, by);
}

static char dir[2048];
static void path_in(char *out, const char *name) { snprintf(out, 4200, "%s/%s", dir, name); }

static void write_atomically(const char *name, const char *text) {
  char path[4200], temp[4300];
  path_in(path, name);
  snprintf(temp, sizeof temp, "%s.tmp", path);
  FILE *f = fopen(temp, "w");
  if (!f) return;
  fputs(text, f);
  fclose(f);
  rename(temp, path);
}

/* Check every page against the generation it should hold (pages below `cursor` are one ahead), repair, report. */
static void close_window(uint64_t pass, size_t cursor) {
  char request[64] = "", path[4200];
  path_in(path, "request");
  FILE *f = fopen(path, "r");
  if (f) {
    if (!fgets(request, sizeof request, f)) request[0] = 0;
    fclose(f);
  }
  request[strcspn(request, "\n")] = 0;
  double t0 = now_ms();
  for (size_t page = 0; page < pages; page++) {
    uint64_t gen = page < cursor ? pass : pass - 1;
    long word = check_page(page, gen);
    if (word >= 0) {
      note_bad(page, word, gen, "verify");
      win.verify_bad++;
      fill_page(page, gen);
    }
  }
  double verify_ms = now_ms() - t0;
  char report[1024];
  snprintf(report, sizeof report,
           "{\"seq\":\"%s\",\"pages\":%zu,\"page_size\":%u,\"generation\":%" PRIu64 ",\"window_ms\":%.1f,\"passes\":%" PRIu64
           ",\"writer_checked\":%" PRIu64 ",\"bad_pages\":%" PRIu64 ",\"writer_bad\":%" PRIu64 ",\"verify_bad\":%" PRIu64
           ",\"total_bad\":%" PRIu64 ",\"first_bad_page\":%ld,\"first_bad_by\":\"%s\",\"first_bad_word\":%ld,\"first_bad_at_ms\":%.1f"
           ",\"first_bad_expected\":\"0x%016" PRIx64 "\",\"first_bad_found\":\"0x%016" PRIx64 "\",\"max_gap_ms\":%.2f"
           ",\"step_ms\":%.2f,\"longest_pass_ms\":%.1f,\"verify_ms\":%.1f}\n",
           request, pages, PAGE, pass, t0 - win.opened_ms, win.passes, win.writer_checked, win.writer_bad + win.verify_bad,
           win.writer_bad, win.verify_bad, total_bad, win.first_page, win.first_by ? win.first_by : "", win.first_page < 0 ? -1 : win.first_word,
           win.first_at_ms, win.first_expected, win.first_found, win.max_gap_ms, step_ms, win.longest_pass_ms, verify_ms);
  char name[128];
  snprintf(name, sizeof name, "report-%s.json", request);
  write_atomically(name, report);
  open_window();
}

static int still_owned(void) {
  char path[4200];
  path_in(path, "pid");
  return access(path, F_OK) == 0;
}

static int run_daemon(long mib, double rate_mib, long max_seconds, int ready_fd) {
  struct sigaction sa = {0};
  sa.sa_handler = on_stop; /* no SA_RESTART: a signal cuts a sleep short */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sa.sa_handler = on_verify;
  sigaction(SIGUSR1, &sa, NULL);
  pages = ((size_t)mib << 20) / PAGE;
  region = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (region == MAP_FAILED) {
    fprintf(stderr, "bw-mem-integrity: mmap %ld MiB: %s\n", mib, strerror(errno));
    return 1;
  }
  /* 4 KiB pages that stay put: khugepaged would move them, and a planted write needs a stable address. */
  madvise(region, pages * PAGE, MADV_NOHUGEPAGE);
  mlock(region, pages * PAGE);
  started_ms = now_ms();
  for (size_t page = 0; page < pages; page++) fill_page(page, 0);
  char text[256];
  snprintf(text, sizeof text, "pid=%d addr=0x%lx pages=%zu mib=%ld seed=0x%016" PRIx64 "\n", (int)getpid(), (unsigned long)region, pages, mib, seed);
  write_atomically("info", text);
  snprintf(text, sizeof text, "%d\n", (int)getpid());
  write_atomically("pid", text);
  open_window();
  dprintf(ready_fd, "mem-integrity ready pid=%d pages=%zu\n", (int)getpid(), pages);
  close(ready_fd);

  step_ms = rate_mib > 0 ? (CHUNK_PAGES * (double)PAGE / (1 << 20)) / rate_mib * 1e3 : 0;
  double end_ms = max_seconds > 0 ? started_ms + max_seconds * 1e3 : 0;
  double next = now_ms(), last_step = now_ms(), pass_started = now_ms();
  uint64_t pass = 1;
  size_t cursor = 0;
  while (!stop_requested) {
    if (verify_requested) {
      verify_requested = 0;
      close_window(pass, cursor);
      last_step = now_ms(); /* the verify's own time is not a stall */
    }
    if (end_ms > 0 && now_ms() > end_ms) break;
    if (rate_mib <= 0) {
      usleep(20000);
      if (!still_owned()) break;
      continue;
    }
    double now = now_ms();
    if (now < next) {
      struct timespec ts = {(time_t)((next - now) / 1e3), (long)(((next - now) - (long)((next - now) / 1e3) * 1e3) * 1e6)};
      nanosleep(&ts, NULL);
      continue; /* re-check requests: the signal may have cut the sleep short */
    }
    size_t end = cursor + CHUNK_PAGES < pages ? cursor + CHUNK_PAGES : pages;
    for (size_t page = cursor; page < end; page++) {
      long word = check_page(page, pass - 1);
      win.writer_checked++;
      if (word >= 0) {
        note_bad(page, word, pass - 1, "writer");
        win.writer_bad++;
      }
      fill_page(page, pass);
    }
    cursor = end;
    double done = now_ms();
    if (done - last_step > win.max_gap_ms) win.max_gap_ms = done - last_step;
    last_step = done;
    if (cursor == pages) {
      if (done - pass_started > win.longest_pass_ms) win.longest_pass_ms = done - pass_started;
      pass_started = done;
      win.passes++;
      pass++;
      cursor = 0;
      if (!still_owned()) break;
    }
    /* After a stall (pause, migration) carry on at the set rate rather than catch up in a burst. */
    next = next + step_ms < done - 1000 ? done : next + step_ms;
  }
  return 0;
}

static int read_pid(void) {
  char path[4200], text[32] = "";
  path_in(path, "pid");
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  if (!fgets(text, sizeof text, f)) text[0] = 0;
  fclose(f);
  return atoi(text);
}

static int cmd_start(int argc, char **argv) {
  long mib = 64, max_seconds = 0;
  double rate = 32;
  seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--mib") && i + 1 < argc) mib = atol(argv[++i]);
    else if (!strcmp(argv[i], "--rate-mib") && i + 1 < argc) rate = atof(argv[++i]);
    else if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = strtoull(argv[++i], NULL, 0);
    else if (!strcmp(argv[i], "--max-seconds") && i + 1 < argc) max_seconds = atol(argv[++i]);
    else {
      fprintf(stderr, "bw-mem-integrity: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (mib <= 0) {
    fprintf(stderr, "bw-mem-integrity: --mib must be positive\n");
    return 2;
  }
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
    fprintf(stderr, "bw-mem-integrity: mkdir %s: %s\n", dir, strerror(errno));
    return 1;
  }
  int fds[2];
  if (pipe(fds) != 0) return 1;
  pid_t child = fork();
  if (child < 0) return 1;
  if (child == 0) {
    close(fds[0]);
    setsid(); /* outlives the exec that started it (guest agent, ssh, the local backend's group) */
    char log[4200];
    path_in(log, "log");
    int null = open("/dev/null", O_RDONLY), out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    dup2(null, 0);
    dup2(out, 1);
    dup2(out, 2);
    close(null);
    close(out);
    setvbuf(stderr, NULL, _IOLBF, 0);
    _exit(run_daemon(mib, rate, max_seconds, fds[1]));
  }
  close(fds[1]);
  char line[256];
  ssize_t n = read(fds[0], line, sizeof line - 1);
  if (n <= 0) {
    fprintf(stderr, "bw-mem-integrity: the daemon exited before it was ready (see %s/log)\n", dir);
    return 1;
  }
  line[n] = 0;
  fputs(line, stdout);
  return 0;
}

static int cmd_verify(const char *seq, long timeout_ms) {
  int pid = read_pid();
  if (pid <= 0) {
    fprintf(stderr, "bw-mem-integrity: no daemon in %s\n", dir);
    return 3;
  }
  char report[4200], name[64], line[2048];
  snprintf(name, sizeof name, "report-%.40s.json", seq);
  path_in(report, name);
  unlink(report);
  snprintf(line, sizeof line, "%.40s\n", seq);
  write_atomically("request", line);
  if (kill(pid, SIGUSR1) != 0) {
    fprintf(stderr, "bw-mem-integrity: the daemon (pid %d) is gone: %s\n", pid, strerror(errno));
    return 3;
  }
  double deadline = now_ms() + timeout_ms;
  while (now_ms() < deadline) {
    FILE *f = fopen(report, "r");
    if (f) {
      if (fgets(line, sizeof line, f)) {
        fputs(line, stdout);
        fclose(f);
        unlink(report);
        return 0;
      }
      fclose(f);
    }
    if (kill(pid, 0) != 0) {
      fprintf(stderr, "bw-mem-integrity: the daemon (pid %d) died before answering window %s\n", pid, seq);
      return 3;
    }
    usleep(2000);
  }
  fprintf(stderr, "bw-mem-integrity: no answer to window %s within %ld ms\n", seq, timeout_ms);
  return 4;
}

static int cmd_locate(long page) {
  char path[4200], text[256] = "";
  path_in(path, "info");
  FILE *f = fopen(path, "r");
  if (!f || !fgets(text, sizeof text, f)) {
    fprintf(stderr, "bw-mem-integrity: no daemon info in %s\n", dir);
    return 3;
  }
  fclose(f);
  int pid = 0;
  unsigned long addr = 0;
  size_t count = 0;
  if (sscanf(text, "pid=%d addr=0x%lx pages=%zu", &pid, &addr, &count) != 3 || page < 0 || (size_t)page >= count) {
    fprintf(stderr, "bw-mem-integrity: page %ld is outside the region (%s)\n", page, text);
    return 2;
  }
  snprintf(path, sizeof path, "/proc/%d/pagemap", pid);
  int fd = open(path, O_RDONLY);
  uint64_t entry = 0;
  unsigned long vaddr = addr + (unsigned long)page * PAGE;
  if (fd < 0 || pread(fd, &entry, 8, (off_t)(vaddr / PAGE) * 8) != 8) {
    fprintf(stderr, "bw-mem-integrity: reading %s: %s\n", path, strerror(errno));
    return 1;
  }
  close(fd);
  uint64_t pfn = entry & ((1ULL << 55) - 1);
  if (!(entry >> 63) || pfn == 0) {
    fprintf(stderr, "bw-mem-integrity: page %ld is not present or its frame is hidden (needs CAP_SYS_ADMIN)\n", page);
    return 1;
  }
  printf("page=%ld vaddr=0x%lx paddr=0x%" PRIx64 "\n", page, vaddr, pfn * PAGE);
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 3 || !strcmp(argv[1], "--help")) {
    printf("usage: bw-mem-integrity start DIR [--mib N] [--rate-mib R] [--seed S] [--max-seconds T]\n"
           "       bw-mem-integrity verify DIR SEQ [TIMEOUT_MS] | locate DIR PAGE | stop DIR\n");
    return argc < 3 && (argc < 2 || strcmp(argv[1], "--help")) ? 2 : 0;
  }
  snprintf(dir, sizeof dir, "%s", argv[2]);
  if (!strcmp(argv[1], "start")) return cmd_start(argc - 3, argv + 3);
  if (!strcmp(argv[1], "verify") && argc >= 4) return cmd_verify(argv[3], argc >= 5 ? atol(argv[4]) : 60000);
  if (!strcmp(argv[1], "locate") && argc >= 4) return cmd_locate(atol(argv[3]));
  if (!strcmp(argv[1], "stop")) {
    int pid = read_pid();
    char path[4200];
    path_in(path, "pid");
    unlink(path);
    if (pid > 0 && kill(pid, SIGTERM) != 0 && errno != ESRCH) return 1;
    for (int i = 0; i < 500 && pid > 0 && kill(pid, 0) == 0; i++) usleep(10000);
    return 0;
  }
  fprintf(stderr, "bw-mem-integrity: unknown command %s\n", argv[1]);
  return 2;
}
