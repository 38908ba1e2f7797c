/* SPDX-License-Identifier: MIT */
/*
 * A result as SARIF 2.1.0 (<kslab/report.h>), in the form GitHub code scanning accepts
 * (github/codeql-action/upload-sarif):
 *
 *  - runs[0].tool.driver: name "kslab", version, and every rule of the catalog (ksl_rules()),
 *    in catalog order: id, shortDescription (the summary), fullDescription (summary, what it is
 *    modelled on, its RULES.md number), help (text and markdown: what it means, how to fix it),
 *    helpUri (with a docs URL: the URL and the anchor of the rule's heading in docs/CHECKS.md),
 *    defaultConfiguration.level (ksl_rule_level: "warning" for budgets, the S7 ratio and lock
 *    order, else "error"), properties.rule; informationUri, the docs URL;
 *  - invocations[0]: executionSuccessful (false when the run could not be made) and exitCode;
 *  - results: one per finding: ruleId, ruleIndex, level (its rule's), message.text, locations[0] (the
 *    call site, relative to %SRCROOT% when under the source root), for a race relatedLocations[0]
 *    (the other side's call site, id 1, linked from the message), partialFingerprints "kslab/v1"
 *    (the finding's fingerprint: rule, call site file name and function, and a race's other
 *    function), properties
 *    (replay token, context, CPU, IRQL, step, virtual time, detail, scenario, seed) and
 *    codeFlows[0]: the finding's events as one thread flow per context (thread, DPC, ISR, work
 *    item, "idle on CPU n", "device") in order of first appearance, each event a
 *    threadFlowLocation with an executionOrder numbering the events across flows in the order
 *    they happened, ending with the finding itself in the context that broke it.
 *
 * Locations: GitHub refuses a result whose location has no artifact URI, so a finding without a
 * call site (a deadlock, a hang) is placed at the last event of its CPU that has one (else the
 * last event with one, else the driver's own file), and its message says so; a thread-flow step
 * without a call site is placed at the previous step of its flow that has one.  URIs: a file
 * under the source root (or whose real path is) becomes relative to it; another relative file
 * stays as it is; another absolute file becomes a file:// URI.  Characters outside
 * [A-Za-z0-9-._~/] are percent-encoded.  Messages, event texts and details name files by absolute
 * path: the source root (its spelling and its real path) is dropped from them, so a file written
 * with `--srcroot` set to the checkout carries no path of the build machine.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kslab/report.h>
#include <kslab/rules.h>

#include "../util/afile.h"
#include "jsonw.h"
#include "recorder.h"

#define URI_MAX 2048

typedef struct srcroot {
    bool have;
    char root[PATH_MAX];   /* without trailing slashes */
    size_t len;
    char *real;            /* its real path (malloc'd), or NULL */
    size_t real_len;
} srcroot;

typedef struct site {
    const char *file;      /* NULL: unknown */
    int line;
} site;

/* ---- URIs --------------------------------------------------------------------------------- */

static size_t trimmed_len(const char *s)
{
    size_t n = strlen(s);
    while (n && s[n - 1] == '/')
        n--;
    return n;
}

/* The part of `file` under the directory root[0, n), or NULL. */
static const char *under(const char *file, const char *root, size_t n)
{
    if (strncmp(file, root, n) != 0 || file[n] != '/')
        return NULL;
    const char *rest = file + n;
    while (*rest == '/')
        rest++;
    return *rest ? rest : NULL;
}

static void percent_encode(char *out, size_t len, const char *prefix, const char *s)
{
    size_t o = 0;
    for (const char *p = prefix; *p && o + 1 < len; p++)
        out[o++] = *p;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '.' || c == '_' || c == '~' || c == '/';
        if (keep && o + 1 < len) {
            out[o++] = (char)c;
        } else if (!keep && o + 3 < len) {
            static const char hex[] = "0123456789ABCDEF";
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        } else {
            break;
        }
    }
    out[o] = 0;
}

/* The artifact URI of `file`; *relative: it is relative to %SRCROOT%. */
static void make_uri(const srcroot *w, const char *file, char *out, size_t len, bool *relative)
{
    const char *rel = w->have ? under(file, w->root, w->len) : NULL;
    char *real = NULL;
    if (!rel && w->real && file[0] == '/' && (real = realpath(file, NULL)) != NULL)
        rel = under(real, w->real, w->real_len); /* a symlinked checkout */
    if (!rel && file[0] != '/') {
        rel = file;
        while (rel[0] == '.' && rel[1] == '/')
            for (rel += 2; *rel == '/';)
                rel++;
    }
    *relative = rel != NULL;
    if (rel)
        percent_encode(out, len, "", rel);
    else
        percent_encode(out, len, "file://", file);
    free(real);
}

/* ---- pieces ------------------------------------------------------------------------------- */

static json_t *text(const char *s)
{
    return json_pack("{s:o}", "text", ksl__json_str(s));
}

/* Drop every "ROOT/" of the source root (its spelling and its real path) from `s`: messages and
 * details name files by absolute path, and the SARIF file must not carry the build machine's. */
static void strip_root(char *s, const char *root, size_t n)
{
    if (!n || n == 1) /* "/" as the root: nothing to strip */
        return;
    for (char *p = s; (p = strstr(p, root)) != NULL;) {
        if (p[n] != '/') {
            p += n;
            continue;
        }
        memmove(p, p + n + 1, strlen(p + n + 1) + 1);
    }
}

static json_t *rel_str(const srcroot *w, const char *s)
{
    if (!s || !w->have)
        return ksl__json_str(s);
    char *copy = strdup(s);
    if (!copy)
        return ksl__json_str(s);
    strip_root(copy, w->root, w->len);
    if (w->real)
        strip_root(copy, w->real, w->real_len);
    json_t *j = ksl__json_str(copy);
    free(copy);
    return j;
}

static json_t *rel_text(const srcroot *w, const char *s)
{
    return json_pack("{s:o}", "text", rel_str(w, s));
}

static json_t *physical_location(const srcroot *w, site s)
{
    char uri[URI_MAX];
    bool relative;
    make_uri(w, s.file, uri, sizeof uri, &relative);
    json_t *art = json_pack("{s:o}", "uri", ksl__json_str(uri));
    if (relative)
        json_object_set_new(art, "uriBaseId", json_string("%SRCROOT%"));
    json_t *pl = json_pack("{s:o}", "artifactLocation", art);
    if (s.line > 0)
        json_object_set_new(pl, "region", json_pack("{s:i}", "startLine", s.line));
    return json_pack("{s:o}", "physicalLocation", pl);
}

/* The anchor a Markdown renderer (GitHub, GitLab, MkDocs) gives the heading `id`: lower case,
 * letters, digits, '-' and '_' kept, the rest dropped. */
static void anchor_of(const char *id, char *buf, size_t len)
{
    size_t n = 0;
    for (const char *p = id; *p && n + 1 < len; p++) {
        char c = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')
            buf[n++] = c;
    }
    buf[n] = 0;
}

static json_t *rules_json(const char *docs_url)
{
    size_t n;
    const ksl_rule *r = ksl_rules(&n);
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        char full[1024];
        if (strcmp(r[i].rule, "kernel") == 0)
            snprintf(full, sizeof full, "%s. Modelled on %s. A kernel check of kslab.", r[i].summary, r[i].modelled);
        else
            snprintf(full, sizeof full, "%s. Modelled on %s. Rule %s of RULES.md.", r[i].summary, r[i].modelled,
                     r[i].rule);
        char help[2048], md[2048];
        snprintf(help, sizeof help, "%s. How to fix: %s", full, ksl_rule_fix(&r[i]));
        snprintf(md, sizeof md, "**%s** (`%s`)\n\n%s.\n\nModelled on %s.\n\n**How to fix:** %s\n\n"
                 "`kslab replay TOKEN` reproduces a finding exactly; `kslab rules` lists every check.",
                 r[i].id, strcmp(r[i].rule, "kernel") == 0 ? "kernel check" : r[i].rule, r[i].summary, r[i].modelled,
                 ksl_rule_fix(&r[i]));
        json_t *rule = json_pack("{s:s,s:o,s:o,s:{s:s,s:s},s:{s:s},s:{s:s}}", "id", r[i].id, "shortDescription",
                                 text(r[i].summary), "fullDescription", text(full), "help", "text", help, "markdown",
                                 md, "defaultConfiguration", "level", ksl_rule_level(&r[i]), "properties", "rule",
                                 r[i].rule);
        if (rule && docs_url && *docs_url) {
            char anchor[96], uri[URI_MAX];
            anchor_of(r[i].id, anchor, sizeof anchor);
            snprintf(uri, sizeof uri, "%s#%s", docs_url, anchor);
            json_object_set_new(rule, "helpUri", json_string(uri));
        }
        json_array_append_new(a, rule);
    }
    return a;
}

/* The thread flow an event belongs to: its context ("idle" is per CPU). */
static void flow_key(char *buf, size_t len, int32_t cpu, const char *context)
{
    if (cpu < 0)
        snprintf(buf, len, "device");
    else if (!context || !context[0] || strcmp(context, "idle") == 0 || strcmp(context, "host code") == 0)
        snprintf(buf, len, "idle on CPU %d", (int)cpu);
    else
        snprintf(buf, len, "%s", context);
}

/* Where the result is: the finding's call site; else the last event with one, on its CPU first;
 * else the driver's own file. */
static site finding_site(const ksl_result_finding *f, const char *driver_file, bool *fallback)
{
    *fallback = false;
    if (f->file && f->file[0])
        return (site){f->file, f->line};
    *fallback = true;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = f->nevents; i-- > 0;)
            if (f->events[i].file[0] && (pass == 1 || (f->cpu >= 0 && f->events[i].cpu == f->cpu)))
                return (site){f->events[i].file, f->events[i].line};
    return (site){driver_file && driver_file[0] ? driver_file : NULL, 0};
}

static json_t *kinds_of(const ksl_run_event *e)
{
    if (e->phase == 'B')
        return json_pack("[s]", "enter");
    if (e->phase == 'E')
        return json_pack("[s]", "exit");
    const char *cat = recorder_category(e->what);
    if (strcmp(cat, "lock") == 0)
        return strstr(e->what, "release") ? json_pack("[s,s]", "release", "lock")
               : strstr(e->what, "acquire") ? json_pack("[s,s]", "acquire", "lock")
                                            : json_pack("[s]", "lock");
    if (strcmp(cat, "port") == 0)
        return json_pack("[s,s]", "call", "function");
    return NULL;
}

static void describe(const ksl_run_event *e, char *buf, size_t len)
{
    const char *what = e->phase == 'B' ? "begins running" : e->phase == 'E' ? "stops running" : e->what;
    char ib[16];
    if (e->cpu < 0)
        snprintf(buf, len, "device: %s", what);
    else
        snprintf(buf, len, "CPU %d %s %s: %s", (int)e->cpu, ksl_irql_name(e->irql, ib, sizeof ib), e->context, what);
}

static json_t *code_flow(const srcroot *w, const ksl_result_finding *f, site primary)
{
    size_t nev = f->nevents;
    char (*keys)[160] = malloc((nev + 1) * sizeof *keys);
    size_t *flow = malloc((nev + 1) * sizeof *flow);
    json_t *flows = json_array();
    if (!keys || !flow || !flows) {
        free(keys);
        free(flow);
        json_decref(flows);
        return NULL;
    }
    size_t nflows = 0;
    for (size_t i = 0; i <= nev; i++) { /* i == nev: the finding */
        char key[160];
        if (i < nev)
            flow_key(key, sizeof key, f->events[i].cpu, f->events[i].context);
        else
            flow_key(key, sizeof key, f->cpu, f->context);
        size_t k = 0;
        while (k < nflows && strcmp(keys[k], key) != 0)
            k++;
        if (k == nflows)
            memcpy(keys[nflows++], key, sizeof key);
        flow[i] = k;
    }
    for (size_t k = 0; k < nflows; k++) {
        json_t *locs = json_array();
        site last = primary; /* where steps without a call site are shown: the previous step's site */
        for (size_t i = 0; i <= nev; i++) {
            if (flow[i] != k)
                continue;
            char msg[1024];
            site s;
            bool anchored = false;
            json_t *kinds = NULL;
            if (i < nev) {
                const ksl_run_event *e = &f->events[i];
                describe(e, msg, sizeof msg);
                anchored = !e->file[0];
                s = anchored ? last : (site){e->file, e->line};
                kinds = kinds_of(e);
            } else {
                snprintf(msg, sizeof msg, "finding %s: %s", f->rule, f->message);
                s = primary;
            }
            if (!anchored && s.file)
                last = s;
            json_t *loc = s.file ? physical_location(w, s) : json_object();
            json_object_set_new(loc, "message", rel_text(w, msg));
            json_t *tfl = json_pack("{s:o,s:I}", "location", loc, "executionOrder", (json_int_t)(i + 1));
            if (kinds)
                json_object_set_new(tfl, "kinds", kinds);
            if (i < nev) {
                json_t *props = json_pack("{s:I,s:I}", "step", (json_int_t)f->events[i].step, "timeNs",
                                          (json_int_t)f->events[i].time_ns);
                if (anchored && s.file)
                    json_object_set_new(props, "callSite", json_string("unknown: shown at the previous step"));
                json_object_set_new(tfl, "properties", props);
            }
            json_array_append_new(locs, tfl);
        }
        json_array_append_new(flows, json_pack("{s:o,s:o,s:o}", "id", ksl__json_str(keys[k]), "message",
                                               text(keys[k]), "locations", locs));
    }
    free(keys);
    free(flow);
    return json_pack("[{s:o,s:o}]", "message",
                     text("The events of the run before the finding, one thread flow per context; executionOrder "
                          "gives the interleaving."),
                     "threadFlows", flows);
}

static json_t *result_of(const srcroot *w, const ksl_result *r, const ksl_result_finding *f)
{
    size_t nrules, index = SIZE_MAX;
    const ksl_rule *rules = ksl_rules(&nrules);
    for (size_t i = 0; i < nrules; i++)
        if (strcmp(rules[i].id, f->rule) == 0)
            index = i;
    bool fallback;
    site primary = finding_site(f, r->driver.plugin ? r->driver.arg : NULL, &fallback);
    char msg[1024];
    snprintf(msg, sizeof msg, "%s%s", f->message,
             fallback && primary.file ? " (no call site was recorded: shown at the last event before the finding that "
                                        "has one)"
                                      : "");
    json_t *res = json_pack("{s:o,s:s,s:o}", "ruleId", ksl__json_str(f->rule), "level",
                            index != SIZE_MAX ? ksl_rule_level(&rules[index]) : "error", "message", rel_text(w, msg));
    if (index != SIZE_MAX)
        json_object_set_new(res, "ruleIndex", json_integer((json_int_t)index));
    if (primary.file)
        json_object_set_new(res, "locations", json_pack("[o]", physical_location(w, primary)));
    if (f->racing_file && f->racing_file[0]) { /* a race: the other side, linked from the message */
        json_t *other = physical_location(w, (site){f->racing_file, f->racing_line});
        char about[300];
        snprintf(about, sizeof about, "the other side of the race: %s%s%s", f->racing_context,
                 f->racing_function ? " in " : "", f->racing_function ? f->racing_function : "");
        json_object_set_new(other, "id", json_integer(1));
        json_object_set_new(other, "message", text(about));
        json_object_set_new(res, "relatedLocations", json_pack("[o]", other));
        char with[1300];
        snprintf(with, sizeof with, "%s (races with [%s](1))", msg, f->racing_context);
        json_object_set_new(res, "message", rel_text(w, with));
    }
    /* The same bug is the same alert from run to run, whatever lines move around it: kslab's own
     * key (rule, call site file name and function); primaryLocationLineHash is GitHub's to add. */
    if (f->fingerprint)
        json_object_set_new(res, "partialFingerprints", json_pack("{s:s}", "kslab/v1", f->fingerprint));
    if (f->nevents || primary.file) {
        json_t *cf = code_flow(w, f, primary);
        if (cf)
            json_object_set_new(res, "codeFlows", cf);
    }
    char ib[16];
    json_t *props = json_pack("{s:o,s:i,s:s,s:I,s:I,s:o,s:o,s:I}", "context", ksl__json_str(f->context), "cpu",
                              (int)f->cpu, "irql", ksl_irql_name(f->irql, ib, sizeof ib), "step", (json_int_t)f->steps,
                              "timeNs", (json_int_t)f->time_ns, "detail", rel_str(w, f->detail), "scenario",
                              ksl__json_str(f->scenario), "seed", (json_int_t)f->seed);
    if (f->token)
        json_object_set_new(props, "replay", ksl__json_str(f->token));
    json_object_set_new(res, "properties", props);
    return res;
}

static json_t *log_of(const srcroot *w, const ksl_result *r, const char *docs_url)
{
    json_t *results = json_array();
    for (size_t i = 0; i < r->nfindings; i++)
        json_array_append_new(results, result_of(w, r, &r->findings[i]));
    json_t *run = json_pack(
        "{s:{s:{s:s,s:s,s:s,s:o}},s:[{s:b,s:i}],s:o}", "tool", "driver", "name", "kslab", "version", KSLAB_VERSION,
        "semanticVersion", KSLAB_VERSION, "rules", rules_json(docs_url), "invocations", "executionSuccessful",
        r->verdict == KSL_VERDICT_CLEAN || r->verdict == KSL_VERDICT_FOUND, "exitCode", ksl_result_exit_status(r),
        "results", results);
    if (r->nfindings && r->findings[0].token)
        json_object_set_new(run, "properties", json_pack("{s:o}", "replay", ksl__json_str(r->findings[0].token)));
    return json_pack("{s:s,s:s,s:[o]}", "$schema", "https://json.schemastore.org/sarif-2.1.0.json", "version", "2.1.0",
                     "runs", run);
}

int ksl_write_sarif(const ksl_result *r, const char *path, const char *root, char *err, size_t errlen)
{
    ksl_sarif_opts o = {root, NULL};
    return ksl_write_sarif_opts(r, path, &o, err, errlen);
}

int ksl_write_sarif_opts(const ksl_result *r, const char *path, const ksl_sarif_opts *o, char *err, size_t errlen)
{
    const char *root = o->srcroot, *docs_url = o->docs_url ? o->docs_url : KSLAB_DOCS_URL;
    srcroot w;
    memset(&w, 0, sizeof w);
    if (root && *root)
        snprintf(w.root, sizeof w.root, "%s", root);
    else if (!getcwd(w.root, sizeof w.root))
        w.root[0] = 0;
    if (w.root[0]) {
        w.have = true;
        w.len = trimmed_len(w.root);
        if ((w.real = realpath(w.root, NULL)) != NULL)
            w.real_len = trimmed_len(w.real);
    }
    json_t *log = log_of(&w, r, docs_url);
    if (log && docs_url[0])
        json_object_set_new(json_object_get(json_object_get(json_array_get(json_object_get(log, "runs"), 0), "tool"),
                                            "driver"),
                            "informationUri", json_string(docs_url));
    char *s = log ? json_dumps(log, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(log);
    free(w.real);
    if (!s) {
        snprintf(err, errlen, "cannot write '%s': out of memory", path);
        return -1;
    }
    size_t n = strlen(s);
    s[n] = 0;
    int rc = ksl__write_file(path, s, n, err, errlen);
    free(s);
    return rc;
}
