/* SPDX-License-Identifier: MIT */
/* SARIF 2.1.0 for a run's outcome (see sarif.h). */
#define _XOPEN_SOURCE 700 /* POSIX 2008 with XSI: open, fdopen, fsync, realpath, rename, unlink */

#include "sarif.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kslab/rules.h>

#include "json.h"

#ifndef KSLAB_VERSION
#define KSLAB_VERSION "0.0.0"
#endif

#define KEY_LEN (RECORDER_CONTEXT + 24)

typedef struct writer {
    FILE *f;
    bool have_root;
    const char *root;      /* srcroot without trailing slashes ("" for "/") */
    size_t rootlen;
    char *root_real;       /* its real path (malloc'd), or NULL */
    size_t root_real_len;
} writer;

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
static void make_uri(const writer *w, const char *file, char *out, size_t len, bool *relative)
{
    const char *rel = w->have_root ? under(file, w->root, w->rootlen) : NULL;
    char *real = NULL;
    if (!rel && w->root_real && file[0] == '/' && (real = realpath(file, NULL)) != NULL)
        rel = under(real, w->root_real, w->root_real_len); /* a symlinked checkout */
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

static void text_obj(FILE *f, const char *key, const char *text)
{
    fprintf(f, "\"%s\":{\"text\":", key);
    json_write_string(f, text);
    fputc('}', f);
}

static void physical_location(const writer *w, site s)
{
    char uri[RECORDER_FILE * 3 + 16];
    bool relative;
    make_uri(w, s.file, uri, sizeof uri, &relative);
    fputs("\"physicalLocation\":{\"artifactLocation\":{\"uri\":", w->f);
    json_write_string(w->f, uri);
    if (relative)
        fputs(",\"uriBaseId\":\"%SRCROOT%\"", w->f);
    fputc('}', w->f);
    if (s.line > 0)
        fprintf(w->f, ",\"region\":{\"startLine\":%d}", s.line);
    fputc('}', w->f);
}

static void write_rules(FILE *f)
{
    size_t n;
    const ksl_rule *r = ksl_rules(&n);
    for (size_t i = 0; i < n; i++) {
        char full[1024];
        if (strcmp(r[i].rule, "kernel") == 0)
            snprintf(full, sizeof full, "%s. Modelled on %s. A kernel check of kslab.", r[i].summary, r[i].modelled);
        else
            snprintf(full, sizeof full, "%s. Modelled on %s. Rule %s of RULES.md.", r[i].summary, r[i].modelled,
                     r[i].rule);
        fprintf(f, "%s\n            {\"id\":", i ? "," : "");
        json_write_string(f, r[i].id);
        fputc(',', f);
        text_obj(f, "shortDescription", r[i].summary);
        fputc(',', f);
        text_obj(f, "fullDescription", full);
        fputs(",\"defaultConfiguration\":{\"level\":\"error\"},\"properties\":{\"rule\":", f);
        json_write_string(f, r[i].rule);
        fputs("}}", f);
    }
}

/* The thread flow an event belongs to: its context ("idle" is per CPU). */
static void flow_key(char *buf, int32_t cpu, const char *context)
{
    if (cpu < 0)
        snprintf(buf, KEY_LEN, "device");
    else if (!context[0] || strcmp(context, "idle") == 0 || strcmp(context, "host code") == 0)
        snprintf(buf, KEY_LEN, "idle on CPU %d", (int)cpu);
    else
        snprintf(buf, KEY_LEN, "%s", context);
}

static uint64_t fnv1a(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001B3ull;
    }
    return h;
}

/* Where the result is: the finding's call site; else the last event with one, on its CPU first. */
static site finding_site(const ksl_finding *f, const recorder_entry *ev, size_t nev, bool *fallback)
{
    *fallback = false;
    if (f->file && f->file[0])
        return (site){f->file, f->line};
    *fallback = true;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = nev; i-- > 0;)
            if (ev[i].file[0] && (pass == 1 || (f->cpu >= 0 && ev[i].cpu == f->cpu)))
                return (site){ev[i].file, ev[i].line};
    return (site){NULL, 0};
}

static const char *lock_kind(const recorder_entry *e)
{
    if (e->phase == 'B')
        return "[\"enter\"]";
    if (e->phase == 'E')
        return "[\"exit\"]";
    const char *cat = recorder_category(e->what);
    if (strcmp(cat, "lock") == 0)
        return strstr(e->what, "release") ? "[\"release\",\"lock\"]"
               : strstr(e->what, "acquire") ? "[\"acquire\",\"lock\"]"
                                            : "[\"lock\"]";
    if (strcmp(cat, "port") == 0)
        return "[\"call\",\"function\"]";
    return NULL;
}

static int write_code_flow(const writer *w, const ksl_finding *f, site primary, const recorder_entry *ev, size_t nev)
{
    FILE *out = w->f;
    char (*keys)[KEY_LEN] = malloc((nev + 1) * sizeof *keys);
    size_t *flow = malloc((nev + 1) * sizeof *flow);
    if (!keys || !flow) {
        free(keys);
        free(flow);
        return -1;
    }
    size_t nflows = 0;
    char key[KEY_LEN];
    for (size_t i = 0; i <= nev; i++) { /* i == nev: the finding */
        if (i < nev)
            flow_key(key, ev[i].cpu, ev[i].context);
        else
            flow_key(key, f->cpu, f->context);
        size_t k = 0;
        while (k < nflows && strcmp(keys[k], key) != 0)
            k++;
        if (k == nflows)
            memcpy(keys[nflows++], key, KEY_LEN);
        flow[i] = k;
    }
    fputs(",\"codeFlows\":[{", out);
    text_obj(out, "message",
             "The last events of the run before the finding, one thread flow per context; executionOrder gives "
             "the interleaving.");
    fputs(",\"threadFlows\":[", out);
    for (size_t k = 0; k < nflows; k++) {
        fprintf(out, "%s\n          {\"id\":", k ? "," : "");
        json_write_string(out, keys[k]);
        fputc(',', out);
        text_obj(out, "message", keys[k]);
        fputs(",\"locations\":[", out);
        site last = primary;   /* where steps without a call site are shown: the previous step's site */
        bool first = true;
        for (size_t i = 0; i <= nev; i++) {
            if (flow[i] != k)
                continue;
            char msg[RECORDER_WHAT + RECORDER_CONTEXT + sizeof f->message + 96];
            site s;
            bool anchored = false;
            const char *kinds = NULL;
            if (i < nev) {
                recorder_describe(&ev[i], msg, sizeof msg);
                anchored = !ev[i].file[0];
                s = anchored ? last : (site){ev[i].file, ev[i].line};
                kinds = lock_kind(&ev[i]);
            } else {
                snprintf(msg, sizeof msg, "finding %s: %s", f->rule, f->message);
                s = primary;
            }
            if (!anchored && s.file)
                last = s;
            fprintf(out, "%s\n            {\"location\":{", first ? "" : ",");
            first = false;
            if (s.file) {
                physical_location(w, s);
                fputc(',', out);
            }
            text_obj(out, "message", msg);
            fputc('}', out);
            if (kinds)
                fprintf(out, ",\"kinds\":%s", kinds);
            fprintf(out, ",\"executionOrder\":%zu", i + 1);
            if (i < nev)
                fprintf(out, ",\"properties\":{\"step\":%" PRIu64 ",\"timeNs\":%" PRIu64 "%s}", ev[i].step,
                        ev[i].time_ns,
                        anchored && s.file ? ",\"callSite\":\"unknown: shown at the previous step\"" : "");
            fputc('}', out);
        }
        fputs("]}", out);
    }
    fputs("]}]", out);
    free(keys);
    free(flow);
    return 0;
}

static int write_result(const writer *w, const ksl_finding *f, const recorder_entry *ev, size_t nev, const char *token)
{
    FILE *out = w->f;
    size_t nrules, index = SIZE_MAX;
    const ksl_rule *rules = ksl_rules(&nrules);
    for (size_t i = 0; i < nrules; i++)
        if (strcmp(rules[i].id, f->rule) == 0)
            index = i;
    bool fallback;
    site primary = finding_site(f, ev, nev, &fallback);
    fputs("\n        {\"ruleId\":", out);
    json_write_string(out, f->rule);
    if (index != SIZE_MAX)
        fprintf(out, ",\"ruleIndex\":%zu", index);
    fputs(",\"level\":\"error\",", out);
    char msg[sizeof f->message + 160];
    snprintf(msg, sizeof msg, "%s%s", f->message,
             fallback && primary.file ? " (no call site was recorded: shown at the last event before the finding that "
                                        "has one)"
                                      : "");
    text_obj(out, "message", msg);
    if (primary.file) {
        fputs(",\"locations\":[{", out);
        physical_location(w, primary);
        fputs("}]", out);
        /* The same bug is the same alert from run to run: rule, repository-relative file, line. */
        char uri[RECORDER_FILE * 3 + 16], line[16];
        bool relative;
        make_uri(w, primary.file, uri, sizeof uri, &relative);
        snprintf(line, sizeof line, "%d", primary.line);
        uint64_t h = 0xCBF29CE484222325ull;
        h = fnv1a(h, f->rule, strlen(f->rule) + 1);
        h = fnv1a(h, uri, strlen(uri) + 1);
        h = fnv1a(h, line, strlen(line));
        fprintf(out, ",\"partialFingerprints\":{\"primaryLocationLineHash\":\"%016" PRIx64 ":1\"}", h);
    }
    if ((nev || primary.file) && write_code_flow(w, f, primary, ev, nev) != 0)
        return -1;
    char ib[16];
    fputs(",\"properties\":{", out);
    if (token) {
        fputs("\"replay\":", out);
        json_write_string(out, token);
        fputc(',', out);
    }
    fputs("\"context\":", out);
    json_write_string(out, f->context);
    fprintf(out, ",\"cpu\":%d,\"irql\":\"%s\",\"step\":%" PRIu64 ",\"timeNs\":%" PRIu64 ",\"detail\":", (int)f->cpu,
            ksl_irql_name(f->irql, ib, sizeof ib), f->step, f->time_ns);
    json_write_string(out, f->detail);
    fputs("}}", out);
    return 0;
}

static int write_log(const writer *w, const ksl_finding *f, const recorder_entry *ev, size_t nev, const char *token)
{
    FILE *out = w->f;
    fputs("{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n  \"version\": \"2.1.0\",\n"
          "  \"runs\": [\n    {\n      \"tool\": {\"driver\": {\"name\": \"kslab\", \"version\": \"" KSLAB_VERSION
          "\", \"semanticVersion\": \"" KSLAB_VERSION "\",\n          \"rules\": [",
          out);
    write_rules(out);
    fputs("]}},\n      \"invocations\": [{\"executionSuccessful\": true}],\n      \"results\": [", out);
    if (f && write_result(w, f, ev, nev, token) != 0)
        return -1;
    fputs("]", out);
    if (token) {
        fputs(",\n      \"properties\": {\"replay\": ", out);
        json_write_string(out, token);
        fputs("}", out);
    }
    fputs("\n    }\n  ]\n}\n", out);
    return 0;
}

/* ---- the file ----------------------------------------------------------------------------- */

int sarif_write(const char *path, const ksl_finding *f, const recorder_entry *ev, size_t nev, const char *token,
                const char *srcroot, char *err, size_t errlen)
{
    if (!path || !*path) {
        snprintf(err, errlen, "no SARIF file name");
        return -1;
    }
    if (!ev)
        nev = 0;
    writer w = {0};
    if (srcroot && *srcroot) {
        w.have_root = true;
        w.root = srcroot;
        w.rootlen = trimmed_len(srcroot);
        if ((w.root_real = realpath(srcroot, NULL)) != NULL)
            w.root_real_len = trimmed_len(w.root_real);
    }
    size_t tlen = strlen(path) + 48;
    char *tmp = malloc(tlen);
    if (!tmp) {
        free(w.root_real);
        snprintf(err, errlen, "cannot write '%s': out of memory", path);
        return -1;
    }
    int fd = -1;
    for (unsigned attempt = 0; attempt < 100 && fd < 0; attempt++) {
        snprintf(tmp, tlen, "%s.tmp.%ld.%u", path, (long)getpid(), attempt);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
        free(tmp);
        free(w.root_real);
        return -1;
    }
    int rc = 0;
    const char *what = NULL;
    int saved = 0;
    w.f = fdopen(fd, "w");
    if (!w.f) {
        saved = errno;
        close(fd);
        rc = -1;
    } else {
        if (write_log(&w, f, ev, nev, token) != 0) {
            saved = ENOMEM;
            rc = -1;
        }
        errno = 0;
        if (fflush(w.f) != 0 || ferror(w.f) || fsync(fd) != 0) {
            saved = saved ? saved : errno ? errno : EIO;
            rc = -1;
        }
        if (fclose(w.f) != 0 && rc == 0) {
            saved = errno;
            rc = -1;
        }
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        saved = errno;
        what = "cannot replace";
        rc = -1;
    }
    if (rc != 0) {
        unlink(tmp);
        snprintf(err, errlen, "%s '%s': %s", what ? what : "cannot write", path, strerror(saved ? saved : EIO));
    }
    free(tmp);
    free(w.root_real);
    return rc;
}
