/*
 * demo-server: a small daemon that behaves like many real ones. At start it sizes its worker
 * pool to the number of online CPUs and never looks again, unless started with --adaptive, which
 * re-reads the CPU count every 200 ms and resizes the pool. It allocates memory (--alloc-mib),
 * prints a heartbeat, answers a health check on a unix socket, and stops cleanly on SIGTERM.
 *
 *   demo-server [--adaptive] [--alloc-mib N] [--heartbeat-ms N] [--socket PATH] [--duration-s N]
 *   demo-server --health [--socket PATH]     exits 0 when the server answers "ok workers=N"
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS 256

static volatile sig_atomic_t stop_requested = 0;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int wanted_workers = 0; /* workers with index >= wanted exit */
static int running_workers = 0;
static pthread_t workers[MAX_WORKERS];
static int worker_alive[MAX_WORKERS];

static void on_signal(int sig) { (void)sig; stop_requested = 1; }

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *worker_main(void *arg) {
  int index = (int)(long)arg;
  pthread_mutex_lock(&lock);
  while (!stop_requested && index < wanted_workers) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 1;
    pthread_cond_timedwait(&changed, &lock, &until);
  }
  worker_alive[index] = 0;
  running_workers--;
  pthread_mutex_unlock(&lock);
  return NULL;
}

/* Grow or shrink the pool to n workers. */
static void resize_pool(int n) {
  if (n > MAX_WORKERS) n = MAX_WORKERS;
  if (n < 1) n = 1;
  pthread_mutex_lock(&lock);
  int old = wanted_workers;
  wanted_workers = n;
  pthread_cond_broadcast(&changed);
  pthread_mutex_unlock(&lock);
  for (int i = 0; i < MAX_WORKERS; i++) {
    if (i < old && i >= n) pthread_join(workers[i], NULL);
  }
  for (int i = old; i < n; i++) {
    pthread_mutex_lock(&lock);
    worker_alive[i] = 1;
    running_workers++;
    pthread_mutex_unlock(&lock);
    pthread_create(&workers[i], NULL, worker_main, (void *)(long)i);
  }
}

static int current_workers(void) {
  pthread_mutex_lock(&lock);
  int n = wanted_workers;
  pthread_mutex_unlock(&lock);
  return n;
}

static void *health_main(void *arg) {
  int server = (int)(long)arg;
  while (!stop_requested) {
    int client = accept(server, NULL, NULL);
    if (client < 0) {
      if (errno == EINTR) continue;
      break;
    }
    char reply[64];
    int n = snprintf(reply, sizeof reply, "ok workers=%d\n", current_workers());
    if (write(client, reply, (size_t)n) < 0) { /* the client went away */ }
    close(client);
  }
  return NULL;
}

static int health_check(const char *path) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    fprintf(stderr, "demo-server --health: cannot connect to %s: %s\n", path, strerror(errno));
    return 1;
  }
  char buf[64] = {0};
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n > 3 && !strncmp(buf, "ok ", 3)) {
    printf("%s", buf);
    return 0;
  }
  fprintf(stderr, "demo-server --health: unexpected answer: %s\n", buf);
  return 1;
}

int main(int argc, char **argv) {
  int adaptive = 0, health = 0;
  long alloc_mib = 0, heartbeat_ms = 1000, duration_s = 0;
  const char *socket_path = "/run/demo-server.sock";
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help")) {
      printf("usage: demo-server [--adaptive] [--alloc-mib N] [--heartbeat-ms N] [--socket PATH] [--duration-s N]\n"
             "       demo-server --health [--socket PATH]\n");
      return 0;
    } else if (!strcmp(argv[i], "--adaptive")) adaptive = 1;
    else if (!strcmp(argv[i], "--health")) health = 1;
    else if (!strcmp(argv[i], "--alloc-mib") && i + 1 < argc) alloc_mib = atol(argv[++i]);
    else if (!strcmp(argv[i], "--heartbeat-ms") && i + 1 < argc) heartbeat_ms = atol(argv[++i]);
    else if (!strcmp(argv[i], "--duration-s") && i + 1 < argc) duration_s = atol(argv[++i]);
    else if (!strcmp(argv[i], "--socket") && i + 1 < argc) socket_path = argv[++i];
    else {
      fprintf(stderr, "demo-server: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (health) return health_check(socket_path);

  setvbuf(stdout, NULL, _IOLBF, 0);
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  if (alloc_mib > 0) {
    size_t size = (size_t)alloc_mib << 20;
    unsigned char *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
      perror("demo-server: allocating memory");
      return 1;
    }
    for (size_t off = 0; off < size; off += 4096) mem[off] = 1;
  }

  unlink(socket_path);
  int server = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  strncpy(addr.sun_path, socket_path, sizeof addr.sun_path - 1);
  if (bind(server, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(server, 8) < 0) {
    fprintf(stderr, "demo-server: cannot listen on %s: %s\n", socket_path, strerror(errno));
    return 1;
  }
  pthread_t health_thread;
  pthread_create(&health_thread, NULL, health_main, (void *)(long)server);

  int cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
  resize_pool(cpus);
  printf("demo-server ready workers=%d cpus=%d adaptive=%d\n", current_workers(), cpus, adaptive);

  long long started = now_ms(), last_beat = started;
  while (!stop_requested) {
    usleep(adaptive ? 200000 : (useconds_t)(heartbeat_ms < 200 ? heartbeat_ms * 1000 : 200000));
    long long now = now_ms();
    if (adaptive) {
      int online = (int)sysconf(_SC_NPROCESSORS_ONLN);
      if (online != current_workers()) {
        resize_pool(online);
        printf("demo-server resized workers=%d cpus=%d\n", current_workers(), online);
      }
    }
    if (now - last_beat >= heartbeat_ms) {
      last_beat = now;
      printf("demo-server alive t=%lld workers=%d\n", now - started, current_workers());
    }
    if (duration_s > 0 && now - started >= duration_s * 1000) break;
  }
  stop_requested = 1;
  pthread_mutex_lock(&lock);
  int pool = wanted_workers;
  pthread_cond_broadcast(&changed);
  pthread_mutex_unlock(&lock);
  for (int i = 0; i < pool; i++) pthread_join(workers[i], NULL);
  shutdown(server, SHUT_RDWR);
  close(server);
  unlink(socket_path);
  printf("demo-server stopped\n");
  return 0;
}
