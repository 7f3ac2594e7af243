// A wall clock shifted by a fixed number of seconds, for every process of a
// test run: `npm test -- --at 2026-12-24T18:30:00+01:00` preloads it
// (LD_PRELOAD) into node, cargo, the test binaries, wrangler and workerd, so
// the whole suite runs as if it were that moment, with time running on from
// there. It proves the suite depends on no particular hour, weekday, date
// or daylight-saving state (docs/development.md: "How it is tested").
//
// Why not libfaketime (Debian's faketime): its constructor calls dlsym,
// whose error path allocates, and workerd's tcmalloc deadlocks initialising
// under it — workerd hangs before printing its version. This file allocates
// nothing, resolves nothing and has no constructor: each call asks the
// kernel directly and adds SHIFTED_CLOCK_OFFSET (seconds, may be negative)
// to the wall clock. Monotonic clocks are left alone, so timers, timeouts
// and measured durations are real.
//
// Built by scripts/test.mjs with the machine's C compiler:
//   cc -O2 -shared -fPIC -o .tools/shifted-clock.so tests/clock/shifted-clock.c
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static long long offset_seconds(void) {
  // Read once; getenv neither allocates nor locks.
  static int known;
  static long long offset;
  if (!known) {
    const char *value = getenv("SHIFTED_CLOCK_OFFSET");
    offset = value ? strtoll(value, NULL, 10) : 0;
    known = 1;
  }
  return offset;
}

static int is_wall_clock(clockid_t clock) {
  return clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE || clock == CLOCK_TAI;
}

int clock_gettime(clockid_t clock, struct timespec *now) {
  long result = syscall(SYS_clock_gettime, clock, now);
  if (result == 0 && is_wall_clock(clock)) now->tv_sec += offset_seconds();
  return (int)result;
}

int gettimeofday(struct timeval *restrict now, void *restrict zone) {
  struct timespec precise;
  (void)zone; // obsolete: always UTC
  if (clock_gettime(CLOCK_REALTIME, &precise) != 0) return -1;
  now->tv_sec = precise.tv_sec; // never NULL: glibc declares it nonnull
  now->tv_usec = precise.tv_nsec / 1000;
  return 0;
}

time_t time(time_t *out) {
  struct timespec precise;
  if (clock_gettime(CLOCK_REALTIME, &precise) != 0) return (time_t)-1;
  if (out) *out = precise.tv_sec;
  return precise.tv_sec;
}
