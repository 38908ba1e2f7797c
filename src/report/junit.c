/* SPDX-License-Identifier: MIT */
/*
 * A result as JUnit XML (<kslab/report.h>), the form Jenkins, GitLab and Azure Pipelines show
 * natively: one <testsuite> for the run (named after the command and the driver), one <testcase>
 * per scenario (a job: one, named after the job; a shard's suite and cases carry "shard I/N", so
 * that the files of a CI matrix can sit side by side in one report), and under a test case one <failure> per finding
 * of that scenario: type = the rule id, message = the finding's message, text = the rule id, the
 * driver's call site, the context and the replay command.  A run that could not be made is one
 * test case with an <error>.  Text is cleaned to UTF-8 and escaped; characters XML 1.0 does not
 * allow (control characters other than tab and newline) are dropped.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kslab/report.h>

#include "../util/afile.h"
#include "../util/utf8.h"

/* A growing text buffer; `oom` once an append failed. */
typedef struct xbuf {
    char *s;
    size_t n, cap;
    bool oom;
} xbuf;

static void put(xbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *t = realloc(b->s, cap);
        if (!t) {
            b->oom = true;
            return;
        }
        b->s = t;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}

static void puts_(xbuf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* `s` as XML character data (in_attr false: newlines and tabs stay as they are) or attribute
 * value. */
static void escape_as(xbuf *b, const char *s, bool in_attr)
{
    char *clean = ksl__utf8_clean(s ? s : "", strlen(s ? s : ""));
    if (!clean) {
        b->oom = true;
        return;
    }
    for (const unsigned char *p = (const unsigned char *)clean; *p; p++) {
        switch (*p) {
        case '&': puts_(b, "&amp;"); break;
        case '<': puts_(b, "&lt;"); break;
        case '>': puts_(b, "&gt;"); break;
        case '"': puts_(b, "&quot;"); break;
        case '\'': puts_(b, "&apos;"); break;
        case '\n': puts_(b, in_attr ? "&#10;" : "\n"); break;
        case '\t': puts_(b, in_attr ? "&#9;" : "\t"); break;
        default:
            if (*p >= 0x20)
                put(b, (const char *)p, 1);
            break;
        }
    }
    free(clean);
}

static void escaped(xbuf *b, const char *s)
{
    escape_as(b, s, false);
}

static void attr(xbuf *b, const char *name, const char *value)
{
    puts_(b, " ");
    puts_(b, name);
    puts_(b, "=\"");
    escape_as(b, value, true);
    puts_(b, "\"");
}

static void attr_u(xbuf *b, const char *name, unsigned long long v)
{
    char num[32];
    snprintf(num, sizeof num, "%llu", v);
    attr(b, name, num);
}

static void failure(xbuf *b, const ksl_result *r, const ksl_result_finding *f)
{
    puts_(b, "      <failure");
    attr(b, "type", f->rule);
    attr(b, "message", f->message);
    puts_(b, ">");
    char head[256];
    snprintf(head, sizeof head, "%s at %s:%d in %s, seed %llu\n", f->rule, f->file ? f->file : "?", f->line,
             f->context ? f->context : "?", (unsigned long long)f->seed);
    escaped(b, head);
    if (f->token) {
        escaped(b, "replay: kslab replay ");
        escaped(b, f->token);
        if (r->driver.plugin && r->driver.arg) {
            escaped(b, " --driver ");
            escaped(b, r->driver.arg);
        }
        if (r->driver.device_plugin) {
            escaped(b, " --device ");
            escaped(b, r->driver.device_plugin);
        }
        /* The files a token never loads by itself and the result knows only by their hashes. */
        if (r->scenario_file)
            escaped(b, " --scenario-file FILE");
        if (r->registry)
            escaped(b, " --registry FILE");
        escaped(b, "\n");
    }
    escaped(b, f->detail);
    puts_(b, "</failure>\n");
}

/* Whether finding f goes under the test case `name`: its scenario, or the first test case for a
 * finding of no listed scenario (none is dropped). */
static bool belongs(const ksl_result *r, const ksl_result_finding *f, const char *name, bool first)
{
    const char *sc = f->scenario ? f->scenario : "";
    if (strcmp(sc, name) == 0)
        return true;
    for (size_t i = 0; first && i < r->nscenarios; i++)
        if (strcmp(r->scenarios[i].name, sc) == 0)
            return false;
    return first;
}

static void testcase(xbuf *b, const ksl_result *r, const char *name, uint64_t executions, bool first)
{
    char cls[160], shown[200];
    snprintf(cls, sizeof cls, "kslab.%s.%s", r->command ? r->command : "run", r->driver.name ? r->driver.name : "?");
    if (r->shard_count) /* the shards' files side by side in one CI report: distinct names */
        snprintf(shown, sizeof shown, "%s [shard %u/%u]", name, r->shard_index, r->shard_count);
    else
        snprintf(shown, sizeof shown, "%s", name);
    puts_(b, "    <testcase");
    attr(b, "classname", cls);
    attr(b, "name", shown);
    attr_u(b, "assertions", executions);
    attr(b, "time", "0");
    puts_(b, ">\n");
    for (size_t i = 0; i < r->nfindings; i++)
        if (belongs(r, &r->findings[i], name, first))
            failure(b, r, &r->findings[i]);
    if (first && r->verdict == KSL_VERDICT_ERROR) {
        puts_(b, "      <error");
        attr(b, "message", r->error ? r->error : "the run could not be made");
        puts_(b, "/>\n");
    }
    puts_(b, "    </testcase>\n");
}

int ksl_write_junit(const ksl_result *r, const char *path, char *err, size_t errlen)
{
    xbuf b = {0};
    char suite[200], wall[32];
    int sl = snprintf(suite, sizeof suite, "kslab %s %s", r->command ? r->command : "run",
                      r->driver.name ? r->driver.name : "?");
    if (r->shard_count && sl > 0 && (size_t)sl < sizeof suite)
        snprintf(suite + sl, sizeof suite - (size_t)sl, " shard %u/%u", r->shard_index, r->shard_count);
    snprintf(wall, sizeof wall, "%.3f", r->wall_s);
    size_t cases = r->nscenarios ? r->nscenarios : 1;
    puts_(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites");
    attr(&b, "name", "kslab");
    attr_u(&b, "tests", cases);
    attr_u(&b, "failures", r->nfindings);
    attr_u(&b, "errors", r->verdict == KSL_VERDICT_ERROR);
    attr(&b, "time", wall);
    puts_(&b, ">\n  <testsuite");
    attr(&b, "name", suite);
    attr_u(&b, "tests", cases);
    attr_u(&b, "failures", r->nfindings);
    attr_u(&b, "errors", r->verdict == KSL_VERDICT_ERROR);
    attr(&b, "time", wall);
    puts_(&b, ">\n");
    if (r->nscenarios)
        for (size_t i = 0; i < r->nscenarios; i++)
            testcase(&b, r, r->scenarios[i].name, r->scenarios[i].executions, i == 0);
    else
        testcase(&b, r, r->nfindings && r->findings[0].scenario ? r->findings[0].scenario
                                                                : r->command ? r->command : "run",
                 r->executions, true);
    puts_(&b, "  </testsuite>\n</testsuites>\n");
    if (b.oom) {
        free(b.s);
        snprintf(err, errlen, "cannot write '%s': out of memory", path);
        return -1;
    }
    int rc = ksl__write_file(path, b.s, b.n, err, errlen);
    free(b.s);
    return rc;
}
