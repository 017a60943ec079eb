/*
 * conmig plate service: a stand-in for ShareOn's ALPR app.
 *
 *   GET /health          -> {"ok":true,"count":N,"pid":P,"instance":"..."}   (fast, no OCR)
 *   GET /plate[?i=K]     -> runs tesseract on plate image K (default: count mod n) and answers
 *   GET /                   {"plate":"NJ 4KX 291","expected":"...","processingMs":..,"count":N,
 *                            "pid":P,"instance":"...","startedAtMs":..,"node":"10.77.0.11"}
 *
 * State that must survive migration lives in this process's memory: the request
 * counter, the instance id (random at start) and the start time. `node` is the
 * address the request arrived on, so it changes when the container moves.
 * If tesseract is missing or fails, the answer carries "error" instead of a crash.
 *
 * Usage: plate-server [port=8080] [plates-dir=/plates] [tesseract=/usr/bin/tesseract]
 * Static, single-threaded, no open files between requests: CRIU-friendly.
 */
#include "http.h"
#include <dirent.h>
#include <sys/wait.h>

#define MAX_PLATES 64
static char plate_files[MAX_PLATES][256];
static char plate_texts[MAX_PLATES][64];
static int n_plates = 0;

static void load_plates(const char *dir) {
  /* plates.txt: one "file<TAB>text" per line */
  char list[512];
  snprintf(list, sizeof list, "%s/plates.txt", dir);
  FILE *f = fopen(list, "r");
  if (!f) return;
  char line[512];
  while (n_plates < MAX_PLATES && fgets(line, sizeof line, f)) {
    char *tab = strchr(line, '\t');
    if (!tab) continue;
    *tab = 0;
    char *nl = strchr(tab + 1, '\n');
    if (nl) *nl = 0;
    snprintf(plate_files[n_plates], sizeof plate_files[0], "%s/%s", dir, line);
    snprintf(plate_texts[n_plates], sizeof plate_texts[0], "%s", tab + 1);
    n_plates++;
  }
  fclose(f);
}

/* Run tesseract on file; put the first non-empty line in out. Returns 0 on success. */
static int ocr(const char *tess, const char *file, char *out, size_t cap, char *err, size_t ecap) {
  int p[2];
  if (pipe(p) < 0) { snprintf(err, ecap, "pipe: %s", strerror(errno)); return -1; }
  pid_t pid = fork();
  if (pid < 0) { close(p[0]); close(p[1]); snprintf(err, ecap, "fork: %s", strerror(errno)); return -1; }
  if (pid == 0) {
    dup2(p[1], 1);
    int dn = open("/dev/null", O_WRONLY);
    if (dn >= 0) dup2(dn, 2);
    close(p[0]);
    close(p[1]);
    execl(tess, tess, file, "stdout", "--psm", "7", "-l", "eng", (char *)NULL);
    _exit(127);
  }
  close(p[1]);
  char buf[1024];
  size_t n = 0;
  ssize_t r;
  while ((r = read(p[0], buf + n, sizeof buf - 1 - n)) > 0 || (r < 0 && errno == EINTR)) {
    if (r > 0) n += (size_t)r;
    if (n >= sizeof buf - 1) break;
  }
  buf[n] = 0;
  close(p[0]);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    snprintf(err, ecap, "tesseract exited with status %d", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    return -1;
  }
  char *s = buf;
  while (*s == '\n' || *s == ' ' || *s == '\f') s++;
  char *e = strpbrk(s, "\n\f");
  if (e) *e = 0;
  snprintf(out, cap, "%s", s);
  return 0;
}

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 8080;
  const char *dir = argc > 2 ? argv[2] : "/plates";
  const char *tess = argc > 3 ? argv[3] : "/usr/bin/tesseract";
  signal(SIGPIPE, SIG_IGN);
  load_plates(dir);
  uint64_t instance = make_instance_id();
  double started = wall_ms();
  unsigned long count = 0;
  int s = listen_any(port);
  for (;;) {
    int c = accept(s, NULL, NULL);
    if (c < 0) continue;
    char req[4096], method[16], body[2048], addr[64];
    char *path = read_request(c, req, sizeof req, method, sizeof method);
    local_addr(c, addr, sizeof addr);
    if (!path) { close(c); continue; }
    if (strcmp(path, "/health") == 0) {
      snprintf(body, sizeof body, "{\"ok\":true,\"count\":%lu,\"pid\":%d,\"instance\":\"%016llx\",\"node\":\"%s\"}\n",
               count, (int)getpid(), (unsigned long long)instance, addr);
      respond(c, 200, body);
    } else if (strcmp(path, "/") == 0 || strncmp(path, "/plate", 6) == 0) {
      count++;
      int k = -1;
      char *q = strstr(path, "i=");
      if (q) k = atoi(q + 2);
      char plate[256] = "", err[256] = "", eplate[512], eexp[128], eerr[512];
      const char *expected = "";
      double t0 = now_ms();
      if (n_plates == 0) snprintf(err, sizeof err, "no plate images in %s", dir);
      else {
        if (k < 0 || k >= n_plates) k = (int)((count - 1) % (unsigned long)n_plates);
        expected = plate_texts[k];
        ocr(tess, plate_files[k], plate, sizeof plate, err, sizeof err);
      }
      double ms = now_ms() - t0;
      json_escape(plate, eplate, sizeof eplate);
      json_escape(expected, eexp, sizeof eexp);
      json_escape(err, eerr, sizeof eerr);
      int n = snprintf(body, sizeof body,
                       "{\"plate\":\"%s\",\"expected\":\"%s\",\"image\":%d,\"processingMs\":%.2f,\"count\":%lu,"
                       "\"pid\":%d,\"instance\":\"%016llx\",\"startedAtMs\":%.0f,\"node\":\"%s\"",
                       eplate, eexp, k, ms, count, (int)getpid(), (unsigned long long)instance, started, addr);
      if (err[0]) n += snprintf(body + n, sizeof body - (size_t)n, ",\"error\":\"%s\"", eerr);
      snprintf(body + n, sizeof body - (size_t)n, "}\n");
      respond(c, 200, body);
    } else {
      respond(c, 404, "{\"error\":\"not found\"}\n");
    }
    close(c);
  }
}
