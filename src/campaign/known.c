/* SPDX-License-Identifier: MIT */
/*
 * Known findings: a baseline (a previous result kslab wrote, JSON or SARIF) and a suppression
 * file.  A finding whose fingerprint the baseline has is KSL_KNOWN_BASELINE; one a suppression
 * matches is KSL_KNOWN_SUPPRESSED, with the suppression's justification; the others are new and
 * fail the run.  The suppression file is JSON:
 *
 *   {"suppressions": [{"rule": "W2.hw-queue-unlocked", "file": "stream.c", "function": "engine_pause",
 *                      "justification": "the ISR's write is a debug counter; tracked in #123"}]}
 *
 * `rule` and `justification` are required; `file` matches the end of the finding's path at a '/'
 * (or all of it), `function` the finding's function; an absent one matches any.  An entry that
 * matched nothing is a warning.  Host code, after the campaign.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "known.h"

/* Add every fingerprint of a kslab JSON result or SARIF log to the set. */
static int baseline_load(const char *path, json_t **set, char *err, size_t errlen)
{
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    if (!doc) {
        snprintf(err, errlen, "--baseline %s: not JSON (%s, line %d)", path, je.text, je.line);
        return -1;
    }
    *set = json_object();
    json_t *findings = json_object_get(doc, "findings"), *runs = json_object_get(doc, "runs");
    size_t i;
    json_t *v;
    if (json_is_array(findings)) {
        json_array_foreach(findings, i, v) {
            const char *fp = json_string_value(json_object_get(v, "fingerprint"));
            if (fp)
                json_object_set_new(*set, fp, json_true());
        }
    } else if (json_is_array(runs)) {
        json_t *run;
        size_t r;
        json_array_foreach(runs, r, run) {
            json_array_foreach(json_object_get(run, "results"), i, v) {
                const char *fp = json_string_value(json_object_get(json_object_get(v, "partialFingerprints"), "kslab/v1"));
                if (fp)
                    json_object_set_new(*set, fp, json_true());
            }
        }
    } else {
        snprintf(err, errlen, "--baseline %s: neither a kslab JSON result nor a SARIF log", path);
        json_decref(doc);
        json_decref(*set);
        *set = NULL;
        return -1;
    }
    json_decref(doc);
    return 0;
}

static int suppressions_load(const char *path, json_t **list, char *err, size_t errlen)
{
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    if (!doc) {
        snprintf(err, errlen, "--suppressions %s: not JSON (%s, line %d)", path, je.text, je.line);
        return -1;
    }
    json_t *a = json_object_get(doc, "suppressions");
    if (!json_is_array(a)) {
        snprintf(err, errlen, "--suppressions %s: no \"suppressions\" array", path);
        json_decref(doc);
        return -1;
    }
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        const char *rule = json_string_value(json_object_get(v, "rule"));
        const char *why = json_string_value(json_object_get(v, "justification"));
        if (!rule || !why || !why[0]) {
            snprintf(err, errlen, "--suppressions %s: entry %zu needs a \"rule\" and a non-empty \"justification\"",
                     path, i + 1);
            json_decref(doc);
            return -1;
        }
    }
    *list = json_incref(a);
    json_decref(doc);
    return 0;
}

/* `want` is the end of `path` at a '/' boundary (or all of it). */
static bool path_ends(const char *path, const char *want)
{
    size_t n = strlen(path), k = strlen(want);
    return k <= n && strcmp(path + n - k, want) == 0 && (k == n || path[n - k - 1] == '/');
}

static bool matches(json_t *s, const ksl_result_finding *f)
{
    const char *rule = json_string_value(json_object_get(s, "rule"));
    const char *file = json_string_value(json_object_get(s, "file"));
    const char *fn = json_string_value(json_object_get(s, "function"));
    return rule && strcmp(rule, f->rule) == 0 && (!file || (f->file && path_ends(f->file, file))) &&
           (!fn || (f->function && strcmp(fn, f->function) == 0));
}

int ksl__known_apply(ksl_result *r, const char *baseline, const char *suppressions, char *warn, size_t warnlen,
                     char *err, size_t errlen)
{
    json_t *set = NULL, *list = NULL;
    warn[0] = 0;
    if (baseline && baseline_load(baseline, &set, err, errlen) != 0)
        return -1;
    if (suppressions && suppressions_load(suppressions, &list, err, errlen) != 0) {
        json_decref(set);
        return -1;
    }
    size_t nlist = list ? json_array_size(list) : 0;
    bool *used = nlist ? calloc(nlist, sizeof *used) : NULL;
    for (size_t i = 0; i < r->nfindings; i++) {
        ksl_result_finding *f = &r->findings[i];
        if (set && f->fingerprint && json_object_get(set, f->fingerprint)) {
            f->known = KSL_KNOWN_BASELINE;
            continue;
        }
        for (size_t k = 0; k < nlist; k++) {
            json_t *s = json_array_get(list, k);
            if (!matches(s, f))
                continue;
            if (used)
                used[k] = true;
            f->known = KSL_KNOWN_SUPPRESSED;
            f->justification = strdup(json_string_value(json_object_get(s, "justification")));
            break;
        }
    }
    size_t unused = 0, first = 0;
    for (size_t k = 0; used && k < nlist; k++)
        if (!used[k] && !unused++)
            first = k;
    if (unused)
        snprintf(warn, warnlen, "%zu suppression(s) matched no finding (the first: entry %zu, rule %s)", unused,
                 first + 1, json_string_value(json_object_get(json_array_get(list, first), "rule")));
    free(used);
    json_decref(set);
    json_decref(list);
    return 0;
}
