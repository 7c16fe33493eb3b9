/*
 * bw-perf-probe: can this (virtual) CPU count architectural events? Opens hardware cycles and
 * instructions with perf_event_open for the current task (user space only), runs a short loop and
 * prints one JSON line: {"cycles":{"ok":true,"count":N},"instructions":{"ok":false,"errno":"ENOENT"}}
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *errno_name(int e) {
  switch (e) {
    case ENOENT: return "ENOENT";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EINVAL: return "EINVAL";
    case ENODEV: return "ENODEV";
    case ENOSYS: return "ENOSYS";
    default: return "EOTHER";
  }
}

static void probe(const char *name, unsigned long long config, int last) {
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.type = PERF_TYPE_HARDWARE;
  attr.size = sizeof attr;
  attr.config = config;
  attr.disabled = 1;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  int fd = (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
  if (fd < 0) {
    printf("\"%s\":{\"ok\":false,\"errno\":\"%s\"}%s", name, errno_name(errno), last ? "" : ",");
    return;
  }
  ioctl(fd, PERF_EVENT_IOC_RESET, 0);
  ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
  volatile unsigned long sink = 0;
  for (unsigned long i = 0; i < 2000000UL; i++) sink += i;
  ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
  long long count = 0;
  if (read(fd, &count, sizeof count) != (ssize_t)sizeof count) count = -1;
  close(fd);
  printf("\"%s\":{\"ok\":%s,\"count\":%lld}%s", name, count > 0 ? "true" : "false", count, last ? "" : ",");
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--help")) {
    printf("usage: bw-perf-probe   (prints one JSON line)\n");
    return 0;
  }
  printf("{");
  probe("cycles", PERF_COUNT_HW_CPU_CYCLES, 0);
  probe("instructions", PERF_COUNT_HW_INSTRUCTIONS, 1);
  printf("}\n");
  return 0;
}
