/*
 * conmig synthetic workload: a memory footprint and a page-dirtying rate to
 * migrate, plus an HTTP counter that must survive migration.
 *
 *   synthetic [port=8081] [memoryMiB=64] [dirtyMiBps=0] [service=fixed:20] [seed] [hotKiB=0]
 *
 * ("-" for service or seed: the default.) Allocates memoryMiB (16..1024), touches every page, then dirties pages at
 * dirtyMiBps (one write per 4 KiB page, in 10 ms ticks, cycling through the
 * area). GET / (or /health) answers
 *   {"count":N,"pid":P,"instance":"...","memoryMiB":M,"dirtyMiBps":D,
 *    "dirtiedMiB":X,"checksum":C,"node":"10.77.0.11"}
 * where count counts requests, dirtiedMiB the pages written since start, and
 * checksum a sum over the area (so the memory is really there after restore):
 * every request reads every page. With hotKiB > 0 the service is a cache with a
 * small hot set instead: a request reads the first hotKiB of the area (its
 * "index") and one "item" page elsewhere (a different one each request, spread
 * over the area by a multiplicative hash of the count), and checksum sums those
 * pages only; the answer then also says "hotKiB". That is the working set a
 * post-copy migration has to fetch before the first answer (docs/migrate.md).
 * GET /work?cpuMs=X is a CPU-bound job: the process spins until its own CPU
 * time (CLOCK_PROCESS_CPUTIME_ID) has advanced X ms (0 < X <= 10000; summed per
 * step, so a job interrupted by a migration finishes its remaining CPU), then
 * answers {"cpuMs":X,"wallMs":W,"count":N,"node":"..."}: W is the wall time the
 * job took on this node (the service time, without the network), so on a node
 * limited to half a core W is about 2 X. GET /work (no cpuMs) draws X from the
 * service-time distribution given at start, the simulator's kinds:
 *   fixed:V | exp:MEAN | lognormal:MEAN:SD | uniform:A:B      (ms of CPU)
 * from its own seeded stream (seed argument, default: the instance id), and
 * answers the same JSON plus "processingMs":W (what the live backend records as
 * the service part of a request).
 * Static, single-threaded: CRIU-friendly.
 */
#include "http.h"
#include <poll.h>
#include <math.h>
#include <sys/mman.h>

#define PAGE 4096UL

static double cpu_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* xorshift64*: the service-time stream (state survives a migration with the process). */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static double rng_uniform(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  uint64_t v = rng_state * 2685821657736338717ULL;
  return ((v >> 11) + 0.5) / 9007199254740992.0; /* (0, 1) */
}

enum { SVC_FIXED, SVC_EXP, SVC_LOGNORMAL, SVC_UNIFORM };
static int svc_kind = SVC_FIXED;
static double svc_a = 20, svc_b = 0, svc_mu = 0, svc_sigma = 0;

/* "fixed:V", "exp:MEAN", "lognormal:MEAN:SD", "uniform:A:B"; 0 if valid. */
static int parse_service(const char *spec) {
  char kind[16] = {0};
  double a = 0, b = 0;
  int n = sscanf(spec, "%15[a-z]:%lf:%lf", kind, &a, &b);
  if (n < 2 || !(a > 0)) return -1;
  svc_a = a;
  svc_b = b;
  if (strcmp(kind, "fixed") == 0) svc_kind = SVC_FIXED;
  else if (strcmp(kind, "exp") == 0) svc_kind = SVC_EXP;
  else if (strcmp(kind, "uniform") == 0 && n == 3 && b > a) svc_kind = SVC_UNIFORM;
  else if (strcmp(kind, "lognormal") == 0 && n == 3 && b >= 0) {
    svc_kind = SVC_LOGNORMAL;
    svc_sigma = sqrt(log(1 + (b * b) / (a * a)));
    svc_mu = log(a) - svc_sigma * svc_sigma / 2;
  } else return -1;
  return 0;
}

static double draw_service_ms(void) {
  double x;
  switch (svc_kind) {
    case SVC_EXP: x = -svc_a * log(rng_uniform()); break;
    case SVC_UNIFORM: x = svc_a + (svc_b - svc_a) * rng_uniform(); break;
    case SVC_LOGNORMAL: {
      double z = sqrt(-2 * log(rng_uniform())) * cos(2 * M_PI * rng_uniform());
      x = exp(svc_mu + svc_sigma * z);
      break;
    }
    default: x = svc_a;
  }
  if (x < 0.01) x = 0.01;
  if (x > 10000) x = 10000;
  return x;
}

/*
 * Spin for `ms` of this process's CPU time; returns the wall ms it took. The CPU time is
 * summed step by step, not read as "now - start": a process restored by CRIU is a new
 * process to the kernel, its CPU clock starts again near 0. Measured from the start, a job
 * in progress at a checkpoint would then spin after the restore until the new clock reached
 * the old start value, i.e. for all the CPU time the process had used before (seconds on a
 * limited node: the testbed's "restore stalls", BENCHMARKS.md). A step whose clock went
 * backwards (the restore) counts nothing; one that advanced more than the wall time it took
 * (only possible across a restore, single-threaded) counts its wall time.
 */
static double spin_cpu_ms(double ms) {
  double w0 = now_ms(), done = 0, c = cpu_ms(), w = w0;
  volatile uint64_t x = 1;
  while (done < ms) {
    for (int i = 0; i < 2000; i++) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    double c2 = cpu_ms(), w2 = now_ms(), d = c2 - c;
    if (d > w2 - w) d = w2 - w;
    if (d > 0) done += d;
    c = c2;
    w = w2;
  }
  return now_ms() - w0;
}

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 8081;
  long mem_mib = argc > 2 ? atol(argv[2]) : 64;
  double dirty_mibps = argc > 3 ? atof(argv[3]) : 0;
  if (mem_mib < 1 || mem_mib > 1024) { fprintf(stderr, "memoryMiB must be 1..1024\n"); return 2; }
  if (dirty_mibps < 0) dirty_mibps = 0;
  if (argc > 4 && strcmp(argv[4], "-") != 0 && parse_service(argv[4]) != 0) {
    fprintf(stderr, "service must be fixed:V, exp:MEAN, lognormal:MEAN:SD or uniform:A:B (ms, > 0), got %s\n", argv[4]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  size_t bytes = (size_t)mem_mib << 20;
  unsigned char *area = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (area == MAP_FAILED) { perror("mmap"); return 1; }
  size_t pages = bytes / PAGE;
  for (size_t i = 0; i < pages; i++) area[i * PAGE] = (unsigned char)(i * 31 + 7);
  uint64_t instance = make_instance_id();
  rng_state = argc > 5 && strcmp(argv[5], "-") != 0 ? (uint64_t)strtoull(argv[5], NULL, 10) * 0x9e3779b97f4a7c15ULL + 1 : instance | 1;
  long hot_kib = argc > 6 ? atol(argv[6]) : 0;
  if (hot_kib < 0 || (size_t)hot_kib * 1024 >= bytes) { fprintf(stderr, "hotKiB must be 0 (every page) or below memoryMiB * 1024\n"); return 2; }
  size_t hot_pages = ((size_t)hot_kib * 1024 + PAGE - 1) / PAGE;
  unsigned long count = 0;
  double dirtied_pages = 0, owed = 0;
  size_t cursor = 0;
  const double pages_per_ms = dirty_mibps * (1 << 20) / PAGE / 1000.0;
  int s = listen_any(port);
  double last = now_ms();
  for (;;) {
    struct pollfd pf = {s, POLLIN, 0};
    int r = poll(&pf, 1, dirty_mibps > 0 ? 10 : -1);
    double t = now_ms();
    if (dirty_mibps > 0) {
      owed += (t - last) * pages_per_ms;
      /* cap the catch-up (e.g. after being frozen for a checkpoint) to one second */
      if (owed > pages_per_ms * 1000) owed = pages_per_ms * 1000;
      while (owed >= 1) {
        area[cursor * PAGE] += 1;
        cursor = (cursor + 1) % pages;
        owed -= 1;
        dirtied_pages += 1;
      }
    }
    last = t;
    if (r <= 0 || !(pf.revents & POLLIN)) continue;
    int c = accept(s, NULL, NULL);
    if (c < 0) continue;
    char req[4096], method[16], body[512], addr[64];
    char *path = read_request(c, req, sizeof req, method, sizeof method);
    local_addr(c, addr, sizeof addr);
    if (path && (strcmp(path, "/") == 0 || strcmp(path, "/health") == 0)) {
      count++;
      uint64_t sum = 0;
      char hot[32] = "";
      if (hot_pages == 0) {
        for (size_t i = 0; i < pages; i++) sum += area[i * PAGE];
      } else {
        for (size_t i = 0; i < hot_pages; i++) sum += area[i * PAGE];
        /* one item page outside the hot set, a different one per request */
        size_t item = hot_pages + (size_t)((count * 2654435761ULL) % (pages - hot_pages));
        sum += area[item * PAGE];
        snprintf(hot, sizeof hot, ",\"hotKiB\":%ld", hot_kib);
      }
      snprintf(body, sizeof body,
               "{\"count\":%lu,\"pid\":%d,\"instance\":\"%016llx\",\"memoryMiB\":%ld,\"dirtyMiBps\":%.2f,"
               "\"dirtiedMiB\":%.2f,\"checksum\":%llu%s,\"node\":\"%s\"}\n",
               count, (int)getpid(), (unsigned long long)instance, mem_mib, dirty_mibps,
               dirtied_pages * PAGE / (1 << 20), (unsigned long long)sum, hot, addr);
      respond(c, 200, body);
    } else if (path && strncmp(path, "/work", 5) == 0 && (path[5] == 0 || path[5] == '?')) {
      const char *q = strstr(path, "cpuMs=");
      double ms = q ? atof(q + 6) : draw_service_ms();
      if (!(ms > 0 && ms <= 10000)) {
        respond(c, 400, "{\"error\":\"cpuMs must be in (0, 10000]\"}\n");
      } else {
        count++;
        double w = spin_cpu_ms(ms);
        snprintf(body, sizeof body, "{\"cpuMs\":%.3f,\"wallMs\":%.3f,\"processingMs\":%.3f,\"count\":%lu,\"instance\":\"%016llx\",\"node\":\"%s\"}\n",
                 ms, w, w, count, (unsigned long long)instance, addr);
        respond(c, 200, body);
      }
    } else {
      respond(c, 404, "{\"error\":\"not found\"}\n");
    }
    close(c);
  }
}
