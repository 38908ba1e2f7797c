/* SPDX-License-Identifier: MIT */
/* Executions in worker processes (see workers.h). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <kslab/engine.h>

#include "workers.h"

#define MAX_WORKERS 64
#define REC_RESULT 0x52455355u /* "USER" */
#define REC_CRASH 0x48534152u  /* "RASH" */

typedef struct request {
    uint32_t scenario;
    uint32_t keep_choices;
    uint64_t seed;
    uint64_t nchoices;
    uint64_t pct_steps;  /* PCT's estimate of the run length; 0: the pool's */
    uint32_t random;     /* use the random strategy whatever the pool's is (calibration) */
    uint32_t reserved;
} request;

typedef struct result_head {
    uint32_t kind; /* REC_RESULT */
    int32_t rc;
    uint64_t steps;
    uint64_t trace_hash;
    uint64_t nchoices;
    ksl_finding finding; /* file pointers are meaningless across processes: the path is below */
    char file[256];
    char err[256];
} result_head;

typedef struct crash_rec {
    uint32_t kind; /* REC_CRASH */
    int32_t signo;
    char context[96];
} crash_rec;

typedef struct worker {
    pid_t pid;
    int req_fd, res_fd;
    bool busy;
    uint64_t tag;
    double started;
} worker;

struct wpool {
    worker w[MAX_WORKERS];
    unsigned n;
    driver_ref drv;
    ksl_config base;
    double timeout_s;
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

/* ---- the child ---------------------------------------------------------------------------- */

static int crash_fd = -1;

/* A fatal signal in the child: say which context was running, then die of it.  Runs on the
 * alternate stack (a coroutine stack may be what overflowed). */
static void on_crash(int signo)
{
    crash_rec r = {REC_CRASH, signo, {0}};
    const char *ctx = ksl_engine_current() ? ksl_context_name() : "kslab itself";
    size_t n = strlen(ctx);
    memcpy(r.context, ctx, n < sizeof r.context - 1 ? n : sizeof r.context - 1);
    if (crash_fd >= 0)
        (void)!write(crash_fd, &r, sizeof r);
    signal(signo, SIG_DFL);
    raise(signo);
}

static void child_setup(int res_fd)
{
    crash_fd = res_fd;
    static char altstack[1 << 16];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_crash;
    sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS};
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        sigaction(fatal[i], &sa, NULL);
}

static int send_outcome(int fd, const wp_outcome *o)
{
    result_head h;
    memset(&h, 0, sizeof h);
    h.kind = REC_RESULT;
    h.rc = o->rc;
    h.steps = o->steps;
    h.trace_hash = o->trace_hash;
    h.nchoices = o->nchoices;
    h.finding = o->finding;
    h.finding.file = NULL;
    snprintf(h.file, sizeof h.file, "%s", o->finding.file ? o->finding.file : o->file);
    snprintf(h.err, sizeof h.err, "%s", o->err);
    if (write_all(fd, &h, sizeof h) != 0)
        return -1;
    return o->nchoices ? write_all(fd, o->choices, o->nchoices * sizeof *o->choices) : 0;
}

size_t exec_nscenarios(driver_kind kind)
{
    size_t n;
    if (kind == DRIVER_STREAM)
        st_scenarios(&n);
    else
        wp_scenarios(&n);
    return n;
}

const char *exec_scenario_name(driver_kind kind, size_t i)
{
    size_t n;
    if (kind == DRIVER_STREAM) {
        const st_scenario *s = st_scenarios(&n);
        return i < n ? s[i].name : NULL;
    }
    const wp_scenario *s = wp_scenarios(&n);
    return i < n ? s[i].name : NULL;
}

long exec_scenario_index(driver_kind kind, const char *name)
{
    for (size_t i = 0, n = exec_nscenarios(kind); i < n; i++)
        if (strcmp(exec_scenario_name(kind, i), name) == 0)
            return (long)i;
    return -1;
}

void exec_run(const driver_ref *drv, uint32_t scenario, const ksl_config *cfg, bool keep_choices,
              ksl_trace_fn *trace_fn, void *trace_user, wp_outcome *out)
{
    size_t n;
    if (scenario >= exec_nscenarios(drv->kind)) {
        memset(out, 0, sizeof *out);
        out->rc = -1;
        snprintf(out->err, sizeof out->err, "no scenario %u", scenario);
    } else if (drv->kind == DRIVER_STREAM) {
        st_execute(&st_scenarios(&n)[scenario], drv->stream, cfg, keep_choices, trace_fn, trace_user, out);
    } else {
        wp_execute(&wp_scenarios(&n)[scenario], drv->driver, cfg, keep_choices, trace_fn, trace_user, out);
    }
}

static void worker_main(const wpool *p, int req_fd, int res_fd)
{
    child_setup(res_fd);
    for (;;) {
        request rq;
        if (read_all(req_fd, &rq, sizeof rq) != 0)
            _exit(0);
        uint32_t *choices = NULL;
        if (rq.nchoices) {
            choices = malloc(rq.nchoices * sizeof *choices);
            if (!choices || read_all(req_fd, choices, rq.nchoices * sizeof *choices) != 0)
                _exit(3);
        }
        ksl_config cfg = p->base;
        cfg.seed = rq.seed;
        if (rq.pct_steps)
            cfg.pct_steps = rq.pct_steps;
        if (rq.random)
            cfg.strategy = KSL_STRATEGY_RANDOM;
        if (rq.nchoices) {
            cfg.strategy = KSL_STRATEGY_REPLAY;
            cfg.choices = choices;
            cfg.nchoices = rq.nchoices;
        }
        wp_outcome o;
        exec_run(&p->drv, rq.scenario, &cfg, rq.keep_choices != 0, NULL, NULL, &o);
        free(choices);
        if (send_outcome(res_fd, &o) != 0)
            _exit(4);
        wp_outcome_free(&o);
    }
}

/* ---- the parent --------------------------------------------------------------------------- */

static int spawn(wpool *p, worker *w)
{
    int rq[2], rs[2];
    if (pipe(rq) != 0)
        return -1;
    if (pipe(rs) != 0) {
        close(rq[0]);
        close(rq[1]);
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(rq[0]), close(rq[1]), close(rs[0]), close(rs[1]);
        return -1;
    }
    if (pid == 0) {
        close(rq[1]);
        close(rs[0]);
        for (unsigned i = 0; i < p->n; i++) /* the siblings' pipes are not ours */
            if (&p->w[i] != w && p->w[i].pid > 0) {
                close(p->w[i].req_fd);
                close(p->w[i].res_fd);
            }
        worker_main(p, rq[0], rs[1]);
        _exit(0);
    }
    close(rq[0]);
    close(rs[1]);
    *w = (worker){pid, rq[1], rs[0], false, 0, 0};
    return 0;
}

static void reap(worker *w, int *status)
{
    close(w->req_fd);
    close(w->res_fd);
    int st = 0;
    while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (status)
        *status = st;
    w->pid = -1;
    w->busy = false;
}

wpool *wpool_create(unsigned jobs, const driver_ref *drv, const ksl_config *base, double timeout_s)
{
    if (jobs < 1 || jobs > MAX_WORKERS)
        return NULL;
    signal(SIGPIPE, SIG_IGN);
    wpool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->drv = *drv;
    p->base = *base;
    p->timeout_s = timeout_s;
    for (unsigned i = 0; i < jobs; i++) {
        p->n = i;
        if (spawn(p, &p->w[i]) != 0) {
            wpool_destroy(p);
            return NULL;
        }
    }
    p->n = jobs;
    return p;
}

void wpool_destroy(wpool *p)
{
    if (!p)
        return;
    for (unsigned i = 0; i < p->n; i++)
        if (p->w[i].pid > 0) {
            kill(p->w[i].pid, SIGKILL);
            reap(&p->w[i], NULL);
        }
    free(p);
}

bool wpool_idle(const wpool *p)
{
    for (unsigned i = 0; i < p->n; i++)
        if (!p->w[i].busy)
            return true;
    return false;
}

unsigned wpool_busy(const wpool *p)
{
    unsigned b = 0;
    for (unsigned i = 0; i < p->n; i++)
        b += p->w[i].busy;
    return b;
}

int wpool_submit(wpool *p, uint32_t scenario, uint64_t seed, const uint32_t *choices, size_t nchoices,
                 bool keep_choices, uint64_t tag)
{
    return wpool_submit_ex(p, scenario, seed, choices, nchoices, keep_choices, 0, false, tag);
}

int wpool_submit_ex(wpool *p, uint32_t scenario, uint64_t seed, const uint32_t *choices, size_t nchoices,
                    bool keep_choices, uint64_t pct_steps, bool random, uint64_t tag)
{
    for (unsigned i = 0; i < p->n; i++) {
        worker *w = &p->w[i];
        if (w->busy)
            continue;
        if (w->pid <= 0 && spawn(p, w) != 0)
            return -1;
        request rq = {scenario, keep_choices, seed, nchoices, pct_steps, random, 0};
        if (write_all(w->req_fd, &rq, sizeof rq) != 0 ||
            (nchoices && write_all(w->req_fd, choices, nchoices * sizeof *choices) != 0)) {
            kill(w->pid, SIGKILL);
            reap(w, NULL);
            return -1;
        }
        w->busy = true;
        w->tag = tag;
        w->started = now_s();
        return 0;
    }
    return -1;
}

static void crash_outcome(wp_outcome *out, int status, const crash_rec *cr)
{
    memset(out, 0, sizeof *out);
    out->rc = 1;
    out->finding.cpu = -1;
    snprintf(out->finding.rule, sizeof out->finding.rule, "K.driver-crash");
    int sig = WIFSIGNALED(status) ? WTERMSIG(status) : cr ? cr->signo : 0;
    if (sig)
        snprintf(out->finding.message, sizeof out->finding.message, "the driver crashed with signal %d (%s) in %s",
                 sig, strsignal(sig), cr && cr->context[0] ? cr->context : "an unknown context");
    else
        snprintf(out->finding.message, sizeof out->finding.message,
                 "the execution ended its process (exit status %d) in %s", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                 cr && cr->context[0] ? cr->context : "an unknown context");
    snprintf(out->finding.context, sizeof out->finding.context, "%.63s", cr && cr->context[0] ? cr->context : "?");
}

static void hang_outcome(wp_outcome *out, double timeout_s)
{
    memset(out, 0, sizeof *out);
    out->rc = 1;
    out->finding.cpu = -1;
    snprintf(out->finding.rule, sizeof out->finding.rule, "K.hang");
    snprintf(out->finding.message, sizeof out->finding.message,
             "the execution made no progress for %.0f s of wall time: the driver loops without ever calling into "
             "the kernel (no scheduling point), so it was stopped",
             timeout_s);
    snprintf(out->finding.context, sizeof out->finding.context, "?");
}

/* Read one worker's outcome after poll said it is readable. */
static void collect(worker *w, wp_outcome *out)
{
    uint32_t kind = 0;
    memset(out, 0, sizeof *out);
    if (read_all(w->res_fd, &kind, sizeof kind) == 0 && kind == REC_RESULT) {
        result_head h;
        h.kind = kind;
        if (read_all(w->res_fd, (char *)&h + sizeof kind, sizeof h - sizeof kind) == 0) {
            out->rc = h.rc;
            out->steps = h.steps;
            out->trace_hash = h.trace_hash;
            out->finding = h.finding;
            out->finding.file = NULL; /* a pointer into the worker: the path is in out->file */
            snprintf(out->file, sizeof out->file, "%s", h.file);
            snprintf(out->err, sizeof out->err, "%s", h.err);
            if (h.nchoices) {
                out->choices = malloc(h.nchoices * sizeof *out->choices);
                if (out->choices && read_all(w->res_fd, out->choices, h.nchoices * sizeof *out->choices) == 0)
                    out->nchoices = h.nchoices;
            }
            w->busy = false;
            return;
        }
    }
    /* The worker died: a crash record may precede its end. */
    crash_rec cr;
    memset(&cr, 0, sizeof cr);
    bool have = kind == REC_CRASH && read_all(w->res_fd, (char *)&cr + sizeof kind, sizeof cr - sizeof kind) == 0;
    int status = 0;
    reap(w, &status);
    crash_outcome(out, status, have ? &cr : NULL);
}

int wpool_wait(wpool *p, uint64_t *tag, wp_outcome *out)
{
    for (;;) {
        struct pollfd fds[MAX_WORKERS];
        unsigned idx[MAX_WORKERS], n = 0;
        double soonest = 1e30, now = now_s();
        for (unsigned i = 0; i < p->n; i++)
            if (p->w[i].busy) {
                fds[n] = (struct pollfd){p->w[i].res_fd, POLLIN, 0};
                idx[n++] = i;
                double left = p->w[i].started + p->timeout_s - now;
                if (left < soonest)
                    soonest = left;
            }
        if (n == 0)
            return -1;
        int ms = soonest <= 0 ? 0 : soonest > 1e6 ? -1 : (int)(soonest * 1000) + 1;
        int r = poll(fds, n, ms);
        if (r < 0 && errno == EINTR)
            continue;
        for (unsigned k = 0; k < n; k++)
            if (fds[k].revents) {
                worker *w = &p->w[idx[k]];
                *tag = w->tag;
                collect(w, out);
                return 0;
            }
        now = now_s();
        for (unsigned k = 0; k < n; k++) {
            worker *w = &p->w[idx[k]];
            if (now - w->started >= p->timeout_s) {
                *tag = w->tag;
                kill(w->pid, SIGKILL);
                reap(w, NULL);
                hang_outcome(out, p->timeout_s);
                return 0;
            }
        }
    }
}

void wp_run_isolated(double timeout_s, void (*body)(void *arg, wp_outcome *out), void *arg, wp_outcome *out)
{
    wpool p;
    memset(&p, 0, sizeof p);
    p.timeout_s = timeout_s;
    int rs[2];
    signal(SIGPIPE, SIG_IGN);
    if (pipe(rs) != 0) {
        memset(out, 0, sizeof *out);
        out->rc = -1;
        snprintf(out->err, sizeof out->err, "pipe: %s", strerror(errno));
        return;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(rs[0]);
        close(rs[1]);
        memset(out, 0, sizeof *out);
        out->rc = -1;
        snprintf(out->err, sizeof out->err, "fork: %s", strerror(errno));
        return;
    }
    if (pid == 0) {
        close(rs[0]);
        child_setup(rs[1]);
        wp_outcome o;
        memset(&o, 0, sizeof o);
        body(arg, &o);
        fflush(NULL);
        _exit(send_outcome(rs[1], &o) == 0 ? 0 : 4);
    }
    close(rs[1]);
    p.w[0] = (worker){pid, -1, rs[0], true, 0, now_s()};
    p.n = 1;
    uint64_t tag;
    if (wpool_wait(&p, &tag, out) != 0) {
        memset(out, 0, sizeof *out);
        out->rc = -1;
        snprintf(out->err, sizeof out->err, "the replay process vanished");
    }
    if (p.w[0].pid > 0) {
        close(p.w[0].res_fd);
        while (waitpid(p.w[0].pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
}
