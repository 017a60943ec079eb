/*
 * Tiny HTTP/1.0 helpers shared by the conmig workloads (static, single-threaded,
 * CRIU-friendly: one listening socket, no threads, no files kept open).
 * Every response closes the connection.
 */
#ifndef CONMIG_HTTP_H
#define CONMIG_HTTP_H
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

__attribute__((unused)) static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

__attribute__((unused)) static double wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A random id fixed at start: a restarted process gets a new one, a migrated one keeps it. */
static uint64_t make_instance_id(void) {
  uint64_t v = 0;
  int fd = open("/dev/urandom", O_RDONLY);
  if (fd >= 0) {
    if (read(fd, &v, sizeof v) != sizeof v) v = 0;
    close(fd);
  }
  if (v == 0) v = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ (uint64_t)(now_ms() * 1000);
  return v;
}

/* Listen on 0.0.0.0:port: binding the wildcard (not the node's address) lets the
 * socket be restored in another node's network namespace after migration. */
static int listen_any(int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) { perror("socket"); exit(1); }
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) { perror("bind"); exit(1); }
  if (listen(s, 64) < 0) { perror("listen"); exit(1); }
  return s;
}

/* Read the request head (up to 4 KiB or the blank line); returns the path or NULL. */
static char *read_request(int c, char *buf, size_t cap, char *method, size_t mcap) {
  size_t n = 0;
  struct timeval tv = {5, 0};
  setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  while (n + 1 < cap) {
    ssize_t r = read(c, buf + n, cap - 1 - n);
    if (r <= 0) break;
    n += (size_t)r;
    buf[n] = 0;
    if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n")) break;
  }
  buf[n] = 0;
  char *sp = strchr(buf, ' ');
  if (!sp) return NULL;
  size_t ml = (size_t)(sp - buf);
  if (ml >= mcap) ml = mcap - 1;
  memcpy(method, buf, ml);
  method[ml] = 0;
  char *path = sp + 1;
  char *end = strpbrk(path, " \r\n");
  if (end) *end = 0;
  return path;
}

static void write_all(int c, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(c, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    n -= (size_t)w;
  }
}

static void respond(int c, int status, const char *body) {
  char head[256];
  const char *reason = status == 200 ? "OK" : status == 404 ? "Not Found" : status == 500 ? "Internal Server Error" : "Error";
  int hn = snprintf(head, sizeof head,
                    "HTTP/1.0 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                    status, reason, strlen(body));
  write_all(c, head, (size_t)hn);
  write_all(c, body, strlen(body));
}

/* The node's address as seen by this connection (changes when the container migrates). */
static void local_addr(int c, char *out, size_t cap) {
  struct sockaddr_in a;
  socklen_t l = sizeof a;
  if (getsockname(c, (struct sockaddr *)&a, &l) == 0) inet_ntop(AF_INET, &a.sin_addr, out, (socklen_t)cap);
  else snprintf(out, cap, "unknown");
}

/* JSON-escape s into out (quotes not added). */
static void json_escape(const char *s, char *out, size_t cap) {
  size_t o = 0;
  for (; *s && o + 7 < cap; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\') { out[o++] = '\\'; out[o++] = (char)ch; }
    else if (ch < 0x20) o += (size_t)snprintf(out + o, cap - o, "\\u%04x", ch);
    else out[o++] = (char)ch;
  }
  out[o] = 0;
}

#endif
