/* SPDX-License-Identifier: MIT */
/* Worker processes (see worker.h). */
#define _GNU_SOURCE /* sigaltstack, strsignal, dl_iterate_phdr, RTLD_NOLOAD */
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <link.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <kslab/engine.h>

#include "../portcls/registry_seed.h"
#include "../util/utf8.h"
#include "proto.h"
#include "backtrace.h"
#include "watchdog.h"
#include "worker.h"

#define MAGIC_REQUEST 0x5152534Bu /* "KSRQ" */
#define MAGIC_OUTCOME 0x434F534Bu /* "KSOC" */
#define MAGIC_CRASH 0x5243534Bu   /* "KSCR" */
#define MAGIC_EXIT 0x5845534Bu    /* "KSEX" */
#define MAGIC_HANG 0x4E48534Bu    /* "KSHN": the watchdog saw a context spin (watchdog.h) */
#define MAGIC_FRAMES 0x5246534Bu  /* "KSFR": the frames of a crash (backtrace.h), after its crash record */
#define FRAME_HEAD 12u            /* magic (u32) and length (u64) */
#define MAX_FRAME (1ull << 32)            /* an outcome with the played or captured samples */
#define MAX_FRAME_SMALL (64ull << 20)     /* any other outcome (a replay's choices: 2^24 varints) */
#define CONTEXT_LEN 96u
#define SITE_LEN 256u             /* a hang record's call site */
#define HANG_LEN (4u + CONTEXT_LEN + SITE_LEN + 4u) /* CPU ms, context, file, line */
#define POLL_SLICE_MS 200         /* the longest a wait sleeps before it looks at ksl_stopped() */

typedef struct capture {
    char head[KSL__OUTPUT_KEEP];
    char tail[KSL__OUTPUT_KEEP]; /* a ring: the last bytes */
    size_t nhead;
    uint64_t total;              /* bytes seen */
} capture;

typedef struct worker {
    pid_t pid;
    int req_fd, res_fd, out_fd;
    bool busy;
    uint32_t type;               /* of the request in flight */
    uint64_t max_frame;          /* the longest outcome it may send */
    uint64_t tag;
    double started;
    uint8_t *in;                 /* bytes of the result pipe not yet taken */
    size_t nin, capin;
    bool res_eof;
    bool crashed;                /* a crash record came (a fatal signal, or a sanitizer's report) */
    int crash_signo;             /* its signal (0: a sanitizer ended the process) */
    bool exit_record;            /* an exit record came */
    bool hang_record;            /* a hang record came (the watchdog ended the process) */
    char context[CONTEXT_LEN];   /* of the crash, exit or hang record */
    char hang_file[SITE_LEN];    /* the hang's call site ("" unknown) */
    int hang_line;
    uint32_t hang_ms;            /* CPU time spent without a scheduling point */
    uint8_t *frames;             /* a frames record's body (backtrace.h; malloc'd), or NULL */
    size_t nframes_bytes;
    capture cap;
} worker;

struct ksl__pool {
    ksl__pool_cfg cfg;
    char *driver;                /* copy of cfg.driver */
    char *device;                /* copy of cfg.device */
    worker w[KSL_MAX_JOBS];
    unsigned n;
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int read_all(int fd, void *buf, size_t n)
{
    char *p = buf;
    while (n) {
        ssize_t k = read(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static void put_head(uint8_t *h, uint32_t magic, uint64_t len)
{
    for (int i = 0; i < 4; i++)
        h[i] = (uint8_t)(magic >> (8 * i));
    for (int i = 0; i < 8; i++)
        h[4 + i] = (uint8_t)(len >> (8 * i));
}

static void get_head(const uint8_t *h, uint32_t *magic, uint64_t *len)
{
    *magic = 0;
    *len = 0;
    for (int i = 0; i < 4; i++)
        *magic |= (uint32_t)h[i] << (8 * i);
    for (int i = 0; i < 8; i++)
        *len |= (uint64_t)h[4 + i] << (8 * i);
}

static int send_frame(int fd, uint32_t magic, const void *p, size_t n)
{
    uint8_t h[FRAME_HEAD];
    put_head(h, magic, n);
    return write_all(fd, h, sizeof h) == 0 && write_all(fd, p, n) == 0 ? 0 : -1;
}

/* ---- the child ----------------------------------------------------------------------------- */

static int child_res_fd = -1;
static volatile sig_atomic_t child_running; /* an execution is under way: exit() is the driver's */

/* A record of the running context (CONTEXT_LEN bytes) after a frame head. */
static void send_context_record(uint32_t magic, uint32_t value)
{
    uint8_t rec[FRAME_HEAD + 4 + CONTEXT_LEN];
    memset(rec, 0, sizeof rec);
    put_head(rec, magic, 4 + CONTEXT_LEN);
    for (int i = 0; i < 4; i++)
        rec[FRAME_HEAD + i] = (uint8_t)(value >> (8 * i));
    const char *ctx = ksl_engine_current() ? ksl_context_name() : "host code (a driver entry outside the run)";
    size_t n = strlen(ctx);
    memcpy(rec + FRAME_HEAD + 4, ctx, n < CONTEXT_LEN - 1 ? n : CONTEXT_LEN - 1);
    if (child_res_fd >= 0)
        (void)!write(child_res_fd, rec, sizeof rec);
}

/* The frames of the calling thread, from `fault_pc` outwards (backtrace.h), as a frames record.
 * The crash record goes first: should the unwinding itself fault, the crash is known. */
static void send_frames_record(uintptr_t fault_pc)
{
    static uint8_t rec[FRAME_HEAD + KSL__BT_MAX_BYTES];
    size_t n = ksl__bt_capture(fault_pc, rec + FRAME_HEAD);
    put_head(rec, MAGIC_FRAMES, n);
    if (child_res_fd >= 0)
        (void)!write(child_res_fd, rec, FRAME_HEAD + n);
}

/* A fatal signal: say which context was running and where, then die of it.  On the alternate
 * stack (a coroutine stack may be what overflowed). */
static void on_crash(int signo, siginfo_t *si, void *uc)
{
    (void)si;
    send_context_record(MAGIC_CRASH, (uint32_t)signo);
    uintptr_t pc = 0;
#if defined(__x86_64__)
    pc = (uintptr_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
#else
    (void)uc;
#endif
    send_frames_record(pc);
    signal(signo, SIG_DFL);
    raise(signo);
}

/* Sanitizer builds: a sanitizer's report (a UBSan error, an ASan error without abort_on_error)
 * ends the process through the runtime's own exit, not a signal nor exit(): the runtime calls
 * this first, so the parent knows it is a crash, not the driver's exit. */
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));
typedef void set_death_fn(void (*callback)(void));

static void on_sanitizer_death(void)
{
    send_context_record(MAGIC_CRASH, 0);
    send_frames_record(0);
}

/* Each sanitizer runtime loaded as a shared library (gcc's libasan, libubsan, libtsan) keeps its
 * own death callback: register with every one of them. */
static int hook_sanitizer(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size, (void)data;
    if (!info->dlpi_name || !strstr(info->dlpi_name, "san.so"))
        return 0;
    void *h = dlopen(info->dlpi_name, RTLD_NOW | RTLD_NOLOAD);
    if (!h)
        return 0;
    void *sym = dlsym(h, "__sanitizer_set_death_callback");
    if (sym) {
        set_death_fn *fn;
        memcpy(&fn, &sym, sizeof fn);
        fn(on_sanitizer_death);
    }
    dlclose(h);
    return 0;
}

/* The watchdog (on its own thread): a context spins without scheduling points.  Say which and
 * where, and end the process (the driver's thread cannot be stopped otherwise). */
static void on_hang(const char *context, const char *file, int line, double cpu_s)
{
    uint8_t rec[FRAME_HEAD + HANG_LEN];
    memset(rec, 0, sizeof rec);
    put_head(rec, MAGIC_HANG, HANG_LEN);
    uint8_t *b = rec + FRAME_HEAD;
    uint32_t ms = cpu_s * 1000 < (double)UINT32_MAX ? (uint32_t)(cpu_s * 1000) : UINT32_MAX;
    uint32_t ln = line > 0 ? (uint32_t)line : 0;
    for (int i = 0; i < 4; i++) {
        b[i] = (uint8_t)(ms >> (8 * i));
        b[4 + CONTEXT_LEN + SITE_LEN + i] = (uint8_t)(ln >> (8 * i));
    }
    snprintf((char *)b + 4, CONTEXT_LEN, "%s", context);
    snprintf((char *)b + 4 + CONTEXT_LEN, SITE_LEN, "%s", file ? file : "");
    if (child_res_fd >= 0)
        (void)!write(child_res_fd, rec, sizeof rec);
    _exit(5);
}

/* exit() during an execution: the driver (or something it called) ended the process. */
static void on_exit_call(void)
{
    if (child_running) {
        fflush(stdout);
        fflush(stderr);
        send_context_record(MAGIC_EXIT, 0);
    }
}

static void child_setup(int req_fd, int res_fd, int out_fd, double step_cpu_s)
{
    child_res_fd = res_fd;
    /* A program the driver starts (system(), popen()) must not hold kslab's pipes open. */
    fcntl(req_fd, F_SETFD, FD_CLOEXEC);
    fcntl(res_fd, F_SETFD, FD_CLOEXEC);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    /* What the driver prints goes to the parent, a line at a time, never to kslab's stdout. */
    fflush(stdout);
    fflush(stderr);
    dup2(out_fd, STDOUT_FILENO);
    dup2(out_fd, STDERR_FILENO);
    close(out_fd);
    setvbuf(stdout, NULL, _IOLBF, BUFSIZ);
    static char altstack[1 << 16];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_crash;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS};
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        sigaction(fatal[i], &sa, NULL);
    atexit(on_exit_call);
    ksl__bt_note_modules(); /* before any plugin code: the unwinder is loaded, kslab's modules known */
    if (step_cpu_s > 0)
        (void)ksl__watchdog_start(step_cpu_s, on_hang); /* without it the wall-clock limit remains */
    if (__sanitizer_set_death_callback) /* a runtime linked into the program */
        __sanitizer_set_death_callback(on_sanitizer_death);
    dl_iterate_phdr(hook_sanitizer, NULL);
}

/* What a worker has loaded: the driver, and the device model of a device plugin. */
typedef struct loaded {
    bool done;
    ksl__driver drv;
    const ksl_device_model *device; /* NULL: the built-in model the driver names */
} loaded;

/* Load the device plugin and the driver on the first request.  0, or -1 with err (rc 2 for the
 * request).  Constructors run here: an exit() in them is the plugin's. */
static int child_load(const ksl__pool *p, loaded *l, char *err, size_t errlen)
{
    if (l->done)
        return 0;
    int rc = 0;
    memset(l, 0, sizeof *l);
    child_running = 1;
    if (p->device)
        rc = ksl__device_load(p->device, &l->device, err, errlen);
    const char *extra = l->device ? l->device->name : NULL;
    if (rc == 0 && p->driver)
        rc = ksl__driver_is_path(p->driver) ? ksl__driver_load(p->driver, p->cfg.want, extra, &l->drv, err, errlen)
                                            : ksl__driver_builtin(p->driver, &l->drv, err, errlen);
    child_running = 0;
    if (rc == 0 && l->device && p->driver && strcmp(l->drv.device, l->device->name) != 0) {
        snprintf(err, errlen, "driver '%s' is for device '%s'; the device plugin '%s' is a model of '%s'", l->drv.name,
                 l->drv.device, p->device, l->device->name);
        rc = -1;
    }
    l->done = rc == 0;
    if (l->done) {
        ksl__bt_note_modules(); /* what a crash's frames are named by */
        ksl__plugin_state_save(); /* every execution starts from the plugins' state as loaded */
    }
    return rc;
}

static _Noreturn void child_main(const ksl__pool *p, int req_fd, int res_fd)
{
    loaded l = {0};
    ksl__pcl_registry_seed_use(p->cfg.registry && p->cfg.registry->n ? p->cfg.registry : NULL);
    char load_err[512] = "";
    for (;;) {
        uint8_t h[FRAME_HEAD];
        uint32_t magic;
        uint64_t len;
        if (read_all(req_fd, h, sizeof h) != 0) { /* the parent is done with us */
            ksl__plugins_close();                 /* their destructors: a coverage build writes its counts */
            _exit(0);
        }
        get_head(h, &magic, &len);
        if (magic != MAGIC_REQUEST || len > MAX_FRAME)
            _exit(3);
        uint8_t *buf = malloc(len ? (size_t)len : 1);
        ksl__request rq;
        if (!buf || read_all(req_fd, buf, (size_t)len) != 0 || ksl__request_decode(buf, (size_t)len, &rq) != 0)
            _exit(3);
        free(buf);
        ksl__outcome o;
        memset(&o, 0, sizeof o);
        if (child_load(p, &l, load_err, sizeof load_err) != 0) {
            o.rc = 2;
            snprintf(o.err, sizeof o.err, "%s", load_err);
        } else if (rq.type == KSL__RQ_PROBE) {
            o.probe = l.drv;
        } else {
            child_running = 1;
            ksl__plugin_state_restore();
            ksl__execute(&l.drv, l.device, &rq, p->cfg.input, p->cfg.trace_fd, &o);
            child_running = 0;
        }
        fflush(stdout);
        fflush(stderr);
        free((void *)rq.cfg.choices);
        ksl__wbuf b = {0};
        ksl__outcome_encode(&b, &o);
        ksl__outcome_free(&o);
        if (b.oom || send_frame(res_fd, MAGIC_OUTCOME, b.p, b.n) != 0)
            _exit(4);
        ksl__wbuf_free(&b);
    }
}

/* ---- the parent ---------------------------------------------------------------------------- */

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* A pipe whose ends are above 0..2: with the caller's stdin, stdout or stderr closed, pipe() hands
 * those numbers out, and the child's dup2 onto its stdout and stderr would overwrite them. */
static int pipe_above_stdio(int fds[2])
{
    if (pipe(fds) != 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        if (fds[i] > STDERR_FILENO)
            continue;
        int moved = fcntl(fds[i], F_DUPFD, STDERR_FILENO + 1);
        if (moved < 0) {
            int e = errno;
            close(fds[0]), close(fds[1]);
            errno = e;
            return -1;
        }
        close(fds[i]);
        fds[i] = moved;
    }
    return 0;
}

static int spawn(ksl__pool *p, worker *w)
{
    int rq[2], rs[2], out[2];
    if (pipe_above_stdio(rq) != 0)
        return -1;
    if (pipe_above_stdio(rs) != 0) {
        close(rq[0]), close(rq[1]);
        return -1;
    }
    if (pipe_above_stdio(out) != 0) {
        close(rq[0]), close(rq[1]), close(rs[0]), close(rs[1]);
        return -1;
    }
    fflush(NULL); /* nothing buffered in this process is written twice */
    pid_t pid = fork();
    if (pid < 0) {
        close(rq[0]), close(rq[1]), close(rs[0]), close(rs[1]), close(out[0]), close(out[1]);
        return -1;
    }
    if (pid == 0) {
        close(rq[1]);
        close(rs[0]);
        close(out[0]);
        for (unsigned i = 0; i < p->n; i++) /* the siblings' pipes are not ours */
            if (&p->w[i] != w && p->w[i].pid > 0) {
                close(p->w[i].req_fd);
                close(p->w[i].res_fd);
                close(p->w[i].out_fd);
            }
        child_setup(rq[0], rs[1], out[1], p->cfg.step_cpu_s);
        child_main(p, rq[0], rs[1]);
    }
    close(rq[0]);
    close(rs[1]);
    close(out[1]);
    fcntl(rs[0], F_SETFL, fcntl(rs[0], F_GETFL) | O_NONBLOCK);
    fcntl(out[0], F_SETFL, fcntl(out[0], F_GETFL) | O_NONBLOCK);
    fcntl(rq[1], F_SETFD, FD_CLOEXEC);
    fcntl(rs[0], F_SETFD, FD_CLOEXEC);
    fcntl(out[0], F_SETFD, FD_CLOEXEC);
    uint8_t *in = w->in;
    size_t capin = w->capin;
    memset(w, 0, sizeof *w);
    *w = (worker){.pid = pid, .req_fd = rq[1], .res_fd = rs[0], .out_fd = out[0], .in = in, .capin = capin};
    return 0;
}

/* End a worker: kill it (whatever state it is in: one that closed its pipes may still run; a
 * process that already ended keeps its status) and collect its status. */
static void reap(worker *w, int *status)
{
    close_fd(&w->req_fd);
    close_fd(&w->res_fd);
    close_fd(&w->out_fd);
    int st = 0;
    if (w->pid > 0)
        kill(w->pid, SIGKILL);
    while (w->pid > 0 && waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (status)
        *status = st;
    w->pid = -1;
    w->busy = false;
}

ksl__pool *ksl__pool_create(const ksl__pool_cfg *cfg, char *err, size_t errlen)
{
    if (cfg->jobs < 1 || cfg->jobs > KSL_MAX_JOBS) {
        snprintf(err, errlen, "worker processes: %u (1..%u)", cfg->jobs, KSL_MAX_JOBS);
        return NULL;
    }
    ksl__pool *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->cfg = *cfg;
    p->driver = cfg->driver ? strdup(cfg->driver) : NULL;
    if (cfg->driver && !p->driver) {
        free(p);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->cfg.driver = p->driver;
    p->device = cfg->device ? strdup(cfg->device) : NULL;
    if (cfg->device && !p->device) {
        free(p->driver);
        free(p);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->cfg.device = p->device;
    for (unsigned i = 0; i < cfg->jobs; i++) {
        p->w[i] = (worker){.pid = -1, .req_fd = -1, .res_fd = -1, .out_fd = -1};
        p->n = i;
        if (spawn(p, &p->w[i]) != 0) {
            snprintf(err, errlen, "cannot start a worker process: %s", strerror(errno));
            ksl__pool_destroy(p);
            return NULL;
        }
    }
    p->n = cfg->jobs;
    return p;
}

/* How long an idle worker may take to end once its request pipe is closed (it closes its plugins:
 * a coverage build writes its counts) before it is killed. */
#define END_GRACE_S 2.0

void ksl__pool_destroy(ksl__pool *p)
{
    if (!p)
        return;
    /* Idle workers end by themselves at the end of their request pipe; busy ones are killed. */
    for (unsigned i = 0; i < p->n; i++)
        if (p->w[i].pid > 0 && !p->w[i].busy)
            close_fd(&p->w[i].req_fd);
    double until = now_s() + END_GRACE_S;
    for (unsigned i = 0; i < p->n; i++) {
        worker *w = &p->w[i];
        while (w->pid > 0 && w->req_fd < 0 && now_s() < until) {
            pid_t r = waitpid(w->pid, NULL, WNOHANG);
            if (r == w->pid || (r < 0 && errno != EINTR)) {
                w->pid = -1; /* ended (or not ours to wait for): reap must not wait again */
                break;
            }
            struct timespec nap = {0, 1000000};
            nanosleep(&nap, NULL);
        }
    }
    for (unsigned i = 0; i < p->n; i++) {
        if (p->w[i].pid > 0)
            kill(p->w[i].pid, SIGKILL);
        reap(&p->w[i], NULL);
        free(p->w[i].in);
        free(p->w[i].frames);
    }
    free(p->driver);
    free(p->device);
    free(p);
}

bool ksl__pool_idle(const ksl__pool *p)
{
    for (unsigned i = 0; i < p->n; i++)
        if (!p->w[i].busy)
            return true;
    return false;
}

static void drain_output(worker *w);

/* Whether an idle worker is still there to take a request (one can die between requests: killed
 * from outside, or by a program its driver started); a dead one is collected. */
static bool alive(worker *w)
{
    if (w->pid <= 0)
        return false;
    int st;
    pid_t r = waitpid(w->pid, &st, WNOHANG);
    if (r == 0)
        return true;
    if (r == w->pid)
        w->pid = -1; /* collected: reap must not wait for it again */
    reap(w, NULL);
    return false;
}

/* Send a request frame with SIGPIPE blocked, so a worker that died never kills the caller (a
 * library caller has its own SIGPIPE disposition).  0, or -1. */
static int send_request(worker *w, const void *p, size_t n)
{
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    sigpending(&pending);
    bool was_pending = sigismember(&pending, SIGPIPE);
    int rc = send_frame(w->req_fd, MAGIC_REQUEST, p, n);
    if (rc != 0 && errno == EPIPE && !was_pending) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

int ksl__pool_submit(ksl__pool *p, const ksl__request *rq, uint64_t tag)
{
    for (unsigned i = 0; i < p->n; i++) {
        worker *w = &p->w[i];
        if (w->busy)
            continue;
        ksl__wbuf b = {0};
        ksl__request_encode(&b, rq);
        if (b.oom) {
            ksl__wbuf_free(&b);
            return -1;
        }
        /* A worker that died since its last request is replaced; so is one that cannot be reached
         * (once: a fresh worker that cannot be reached is a failure). */
        int rc = -1;
        for (int attempt = 0; attempt < 2 && rc != 0; attempt++) {
            if (!alive(w) && spawn(p, w) != 0)
                break;
            if (w->out_fd >= 0)
                drain_output(w); /* printed between requests: not the next request's */
            w->cap.nhead = 0;
            w->cap.total = 0;
            rc = send_request(w, b.p, b.n);
            if (rc != 0)
                reap(w, NULL);
        }
        ksl__wbuf_free(&b);
        if (rc != 0)
            return -1;
        w->busy = true;
        w->type = rq->type;
        w->max_frame = (rq->flags & KSL__RQ_KEEP_OUTPUT) ? MAX_FRAME : MAX_FRAME_SMALL;
        w->tag = tag;
        w->started = now_s();
        w->nin = 0;
        w->crashed = false;
        w->crash_signo = 0;
        w->exit_record = false;
        w->hang_record = false;
        free(w->frames);
        w->frames = NULL;
        w->nframes_bytes = 0;
        w->context[0] = 0;
        return 0;
    }
    return -1;
}

/* ---- the driver's output ------------------------------------------------------------------- */

static void capture_add(capture *c, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (c->nhead < sizeof c->head)
            c->head[c->nhead++] = p[i];
        else
            c->tail[(c->total - sizeof c->head) % sizeof c->tail] = p[i];
        c->total++;
    }
}

static void drain_output(worker *w)
{
    char buf[8192];
    for (;;) {
        ssize_t k = read(w->out_fd, buf, sizeof buf);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return;
        capture_add(&w->cap, buf, (size_t)k);
    }
}

/* What the driver printed during the request: head, and tail after a gap note (malloc'd UTF-8),
 * or NULL when nothing. */
static char *capture_text(const capture *c)
{
    if (!c->total)
        return NULL;
    uint64_t ntail = c->total - c->nhead;
    size_t keep_tail = ntail < sizeof c->tail ? (size_t)ntail : sizeof c->tail;
    char *raw = malloc(c->nhead + keep_tail + 96);
    if (!raw)
        return NULL;
    size_t o = 0;
    memcpy(raw, c->head, c->nhead);
    o = c->nhead;
    if (ntail > keep_tail)
        o += (size_t)snprintf(raw + o, 96, "\n[... %llu bytes not shown ...]\n",
                              (unsigned long long)(ntail - keep_tail));
    uint64_t start = c->total - keep_tail; /* absolute index of the first kept tail byte */
    for (size_t i = 0; i < keep_tail; i++)
        raw[o++] = c->tail[(start + i - sizeof c->head) % sizeof c->tail];
    char *clean = ksl__utf8_clean(raw, o);
    free(raw);
    return clean;
}

/* ---- outcomes of a worker's end ------------------------------------------------------------- */

static void finding_outcome(ksl__outcome *o, const char *rule, const char *context)
{
    memset(o, 0, sizeof *o);
    o->rc = 1;
    o->finding.cpu = -1;
    snprintf(o->finding.rule, sizeof o->finding.rule, "%s", rule);
    snprintf(o->finding.context, sizeof o->finding.context, "%.63s", context && context[0] ? context : "?");
}

/* The crash's frames into the outcome: the faulting frame's text into `where`, the backtrace into
 * the detail, the driver's innermost line as the finding's location. */
static void crash_frames(const ksl__pool *p, const worker *w, ksl__outcome *o, char *where, size_t wlen)
{
    where[0] = 0;
    ksl__bt_frame f[KSL__BT_MAX_FRAMES];
    int n = w->frames ? ksl__bt_decode(w->frames, w->nframes_bytes, f) : -1;
    if (n <= 0)
        return;
    const char *driver = p->driver && ksl__driver_is_path(p->driver) ? p->driver : NULL;
    int line = 0;
    ksl__bt_describe(f, n, driver, where, wlen, o->finding.detail, sizeof o->finding.detail, o->file, sizeof o->file,
                     &line);
    o->finding.line = o->file[0] ? line : 0;
}

/* `cut`: the worker was alive when its result pipe ended (the driver closed descriptors it does
 * not own); kslab killed it. */
static void death_outcome(const ksl__pool *p, const worker *w, int status, bool cut, ksl__outcome *o)
{
    const char *ctx = w->context[0] ? w->context : "an unknown context";
    int sig = WIFSIGNALED(status) ? WTERMSIG(status) : w->crash_signo;
    if (w->type == KSL__RQ_PROBE) {
        memset(o, 0, sizeof *o);
        o->rc = 2;
        if (cut)
            snprintf(o->err, sizeof o->err,
                     "cannot load driver plugin '%s': it closed kslab's pipe to the worker process while loading",
                     p->driver ? p->driver : p->device ? p->device : "?");
        else if (w->exit_record)
            snprintf(o->err, sizeof o->err, "cannot load driver plugin '%s': it called exit() while loading",
                     p->driver ? p->driver : p->device ? p->device : "?");
        else if (sig)
            snprintf(o->err, sizeof o->err, "cannot load driver plugin '%s': it crashed while loading (signal %d, %s)",
                     p->driver ? p->driver : "?", sig, strsignal(sig));
        else if (w->crashed)
            snprintf(o->err, sizeof o->err,
                     "cannot load driver plugin '%s': it crashed while loading (a sanitizer stopped it)",
                     p->driver ? p->driver : "?");
        else
            snprintf(o->err, sizeof o->err,
                     "cannot load driver plugin '%s': it ended the process while loading (exit status %d)",
                     p->driver ? p->driver : "?", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return;
    }
    if (w->hang_record) {
        finding_outcome(o, "K.hang", ctx);
        char since[SITE_LEN + 32] = " since it began";
        if (w->hang_file[0]) {
            snprintf(o->file, sizeof o->file, "%s", w->hang_file);
            o->finding.line = w->hang_line;
            snprintf(since, sizeof since, " after its call at %s:%d", w->hang_file, w->hang_line);
        }
        /* A long call site may cut the message: the location is in the finding too. */
        int k = snprintf(o->finding.message, sizeof o->finding.message,
                         "%s ran %" PRIu32 " ms of CPU time without a scheduling point%s: a loop that never calls "
                         "the kernel, stopped by the CPU-time budget between scheduling points (--step-cpu)",
                         ctx, w->hang_ms, since);
        (void)k;
    } else if (cut) {
        finding_outcome(o, "K.driver-crash", ctx);
        snprintf(o->finding.message, sizeof o->finding.message,
                 "the driver closed kslab's pipe to its worker process in %s (a file descriptor it does not own)",
                 ctx);
    } else if (w->exit_record) { /* exit() was called; a leak check after it may still have aborted */
        finding_outcome(o, "K.driver-exit", ctx);
        snprintf(o->finding.message, sizeof o->finding.message,
                 "the driver called exit() in %s: a driver must never end its process", ctx);
    } else if (sig) {
        finding_outcome(o, "K.driver-crash", ctx);
        char where[300];
        crash_frames(p, w, o, where, sizeof where);
        snprintf(o->finding.message, sizeof o->finding.message, "the driver crashed with signal %d (%s) in %s%s%s",
                 sig, strsignal(sig), ctx, where[0] ? " at " : "", where);
    } else if (w->crashed) {
        finding_outcome(o, "K.driver-crash", ctx);
        char where[300];
        crash_frames(p, w, o, where, sizeof where);
        snprintf(o->finding.message, sizeof o->finding.message,
                 "a sanitizer stopped the driver in %s (its report is in the driver's output)", ctx);
    } else {
        finding_outcome(o, "K.driver-exit", ctx);
        snprintf(o->finding.message, sizeof o->finding.message,
                 "the driver ended its process with exit status %d in %s: a driver must never exit",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1, ctx);
    }
}

static void hang_outcome(const ksl__pool *p, const worker *w, ksl__outcome *o)
{
    if (w->type == KSL__RQ_PROBE) {
        memset(o, 0, sizeof *o);
        o->rc = 2;
        snprintf(o->err, sizeof o->err, "cannot load driver plugin '%s': it did not finish loading within %.0f s",
                 p->driver ? p->driver : "?", p->cfg.timeout_s);
        return;
    }
    finding_outcome(o, "K.hang", "?");
    snprintf(o->finding.message, sizeof o->finding.message,
             "the execution did not finish within %.0f s of wall time (--timeout), so it was stopped: the driver "
             "loops without calling into the kernel, or the run goes on without end (a stream that stopped moving "
             "while a client keeps working, a livelock)",
             p->cfg.timeout_s);
}

/* Records and the outcome frame in w->in.  1 when an outcome was taken into *o, 0 when more is
 * needed, -1 when the bytes are garbage. */
static int parse_in(worker *w, ksl__outcome *o)
{
    for (;;) {
        if (w->nin < FRAME_HEAD)
            return 0;
        uint32_t magic;
        uint64_t len;
        get_head(w->in, &magic, &len);
        if (magic == MAGIC_OUTCOME  ? len > w->max_frame
            : magic == MAGIC_HANG   ? len != HANG_LEN
            : magic == MAGIC_FRAMES ? len > KSL__BT_MAX_BYTES
                                    : (magic != MAGIC_CRASH && magic != MAGIC_EXIT) || len != 4 + CONTEXT_LEN)
            return -1;
        if (w->nin - FRAME_HEAD < len)
            return 0;
        const uint8_t *body = w->in + FRAME_HEAD;
        int rc = 0;
        if (magic == MAGIC_OUTCOME) {
            rc = ksl__outcome_decode(body, (size_t)len, o) == 0 ? 1 : -1;
        } else if (magic == MAGIC_FRAMES) {
            free(w->frames);
            w->nframes_bytes = 0;
            if ((w->frames = malloc(len ? (size_t)len : 1)) != NULL) {
                memcpy(w->frames, body, (size_t)len);
                w->nframes_bytes = (size_t)len;
            }
        } else {
            uint32_t v = (uint32_t)body[0] | (uint32_t)body[1] << 8 | (uint32_t)body[2] << 16 | (uint32_t)body[3] << 24;
            memcpy(w->context, body + 4, CONTEXT_LEN);
            w->context[CONTEXT_LEN - 1] = 0;
            if (magic == MAGIC_HANG) {
                w->hang_record = true;
                w->hang_ms = v;
                memcpy(w->hang_file, body + 4 + CONTEXT_LEN, SITE_LEN);
                w->hang_file[SITE_LEN - 1] = 0;
                const uint8_t *l = body + 4 + CONTEXT_LEN + SITE_LEN;
                uint32_t ln = (uint32_t)l[0] | (uint32_t)l[1] << 8 | (uint32_t)l[2] << 16 | (uint32_t)l[3] << 24;
                w->hang_line = ln <= INT32_MAX ? (int)ln : 0;
            } else if (magic == MAGIC_CRASH) {
                w->crashed = true;
                w->crash_signo = (int)v;
            } else {
                w->exit_record = true;
            }
        }
        size_t used = FRAME_HEAD + (size_t)len;
        memmove(w->in, w->in + used, w->nin - used);
        w->nin -= used;
        if (rc)
            return rc;
    }
}

/* Read what the result pipe has: 1 while it is open, 0 at its end, -1 when the worker sends more
 * than any outcome of its request can be (or memory runs out): it is not to be trusted. */
static int read_results(worker *w)
{
    const size_t records = 4u * (FRAME_HEAD + HANG_LEN) + FRAME_HEAD + KSL__BT_MAX_BYTES;
    for (;;) {
        if (w->nin == w->capin) {
            if ((uint64_t)w->capin > w->max_frame + FRAME_HEAD + records)
                return -1;
            size_t cap = w->capin ? w->capin * 2 : 65536;
            uint8_t *n = realloc(w->in, cap);
            if (!n)
                return -1;
            w->in = n;
            w->capin = cap;
        }
        ssize_t k = read(w->res_fd, w->in + w->nin, w->capin - w->nin);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 1;
        if (k <= 0)
            return 0;
        w->nin += (size_t)k;
    }
}

/* The worker's request ends with outcome `o` (the driver's output attached). */
static void finish(worker *w, ksl__outcome *o, uint64_t *tag)
{
    if (w->out_fd >= 0)
        drain_output(w);
    o->driver_output = capture_text(&w->cap);
    *tag = w->tag;
    w->busy = false;
}

/* A busy worker's end: it died, closed its result pipe, or sent garbage (its memory is not to be
 * trusted).  `status`: its wait status when already collected, else NULL.  Fills *out. */
static void ended(ksl__pool *p, worker *w, bool garbage, const int *status, ksl__outcome *out, uint64_t *tag)
{
    int st = status ? *status : 0;
    if (w->out_fd >= 0)
        drain_output(w);
    bool cut = false;
    if (status) {
        w->pid = -1; /* collected */
    } else if (!garbage && w->pid > 0) {
        /* The result pipe ended.  A dying process closes its descriptors a moment before it can be
         * collected: give it 100 ms; one that still runs then closed the pipe itself. */
        pid_t r = 0;
        for (int i = 0; i < 50 && (r = waitpid(w->pid, &st, WNOHANG)) == 0; i++)
            nanosleep(&(struct timespec){0, 2000000}, NULL);
        cut = r == 0;
        if (r == w->pid)
            w->pid = -1;
    }
    reap(w, status || w->pid < 0 ? NULL : &st);
    if (garbage && !w->crashed) {
        memset(out, 0, sizeof *out);
        finding_outcome(out, "K.driver-crash", "?");
        snprintf(out->finding.message, sizeof out->finding.message,
                 "the worker's report was garbled: the driver overwrote kslab's memory");
    } else {
        death_outcome(p, w, st, cut, out);
    }
    finish(w, out, tag);
}

/* Read a busy worker's result pipe: 1 with an outcome in *out, 0 when nothing yet. */
static int settle(ksl__pool *p, worker *w, ksl__outcome *out, uint64_t *tag)
{
    int rr = read_results(w);
    int pr = rr < 0 ? -1 : parse_in(w, out);
    if (pr == 1) {
        finish(w, out, tag);
        return 1;
    }
    if (pr < 0 || rr == 0) {
        ended(p, w, pr < 0, NULL, out, tag);
        return 1;
    }
    return 0;
}

/* The first busy worker past its time limit: killed, K.hang (a load error for a probe). */
static int timed_out(ksl__pool *p, ksl__outcome *out, uint64_t *tag)
{
    double now = now_s();
    for (unsigned i = 0; i < p->n; i++) {
        worker *w = &p->w[i];
        if (w->busy && now - w->started >= p->cfg.timeout_s) {
            if (w->out_fd >= 0)
                drain_output(w);
            reap(w, NULL);
            hang_outcome(p, w, out);
            finish(w, out, tag);
            return 1;
        }
    }
    return 0;
}

/* A busy worker that ended without closing its result pipe (a process it started holds it): what
 * it sent before, else its death.  1 with an outcome, 0 when every busy worker lives. */
static int died(ksl__pool *p, ksl__outcome *out, uint64_t *tag)
{
    for (unsigned i = 0; i < p->n; i++) {
        worker *w = &p->w[i];
        int st;
        if (!w->busy || w->pid <= 0 || waitpid(w->pid, &st, WNOHANG) != w->pid)
            continue;
        int rr = read_results(w);
        int pr = rr < 0 ? -1 : parse_in(w, out);
        if (pr == 1) {
            w->pid = -1;
            reap(w, NULL);
            finish(w, out, tag);
        } else {
            ended(p, w, pr < 0, &st, out, tag);
        }
        return 1;
    }
    return 0;
}

int ksl__pool_wait(ksl__pool *p, uint64_t *tag, ksl__outcome *out)
{
    for (;;) {
        if (ksl_stopped())
            return -2;
        if (timed_out(p, out, tag))
            return 0;
        struct pollfd fds[2 * KSL_MAX_JOBS];
        unsigned idx[2 * KSL_MAX_JOBS], n = 0;
        double soonest = 1e30, now = now_s();
        for (unsigned i = 0; i < p->n; i++) {
            worker *w = &p->w[i];
            if (!w->busy)
                continue;
            fds[n] = (struct pollfd){w->res_fd, POLLIN, 0};
            idx[n++] = i;
            if (w->out_fd >= 0) {
                fds[n] = (struct pollfd){w->out_fd, POLLIN, 0};
                idx[n++] = i;
            }
            double left = w->started + p->cfg.timeout_s - now;
            if (left < soonest)
                soonest = left;
        }
        if (n == 0)
            return -1;
        int ms = soonest <= 0 ? 0 : soonest * 1000 > POLL_SLICE_MS ? POLL_SLICE_MS : (int)(soonest * 1000) + 1;
        int r = poll(fds, n, ms);
        if (r < 0 && errno != EINTR)
            return -1;
        for (unsigned k = 0; r > 0 && k < n; k++) {
            if (!fds[k].revents)
                continue;
            worker *w = &p->w[idx[k]];
            if (!w->busy)
                continue;
            if (fds[k].fd == w->out_fd) {
                char buf[8192];
                ssize_t got = read(w->out_fd, buf, sizeof buf);
                if (got > 0)
                    capture_add(&w->cap, buf, (size_t)got);
                else if (got == 0)
                    close_fd(&w->out_fd);
                continue;
            }
            if (settle(p, w, out, tag))
                return 0;
        }
        if (r == 0 && died(p, out, tag))
            return 0;
    }
}
