/* SPDX-License-Identifier: MIT */
/*
 * Registry files (see registry_file.h):
 *
 *   {"kslab-registry": 1,
 *    "keys": {
 *      "Driver\\Settings": {"MasterVolume": {"REG_BINARY": "0a0a"}, "Channels": {"REG_DWORD": 2}},
 *      "Device\\Parameters": {"FriendlyName": {"REG_SZ": "AC'97"}, "": {"REG_SZ": "default value"}},
 *      "Driver\\Empty": {}}}
 *
 * A key's path starts with its root, a PcNewRegistryKey key type: General, Device, Driver,
 * HwProfile or DeviceInterface (the WDK's names with "RegistryKey" after them are accepted too);
 * the keys on the way are made.  Each value is an object of one member, its type: REG_DWORD and
 * REG_QWORD take an integer, REG_SZ and REG_EXPAND_SZ a string, REG_MULTI_SZ an array of
 * strings (stored as UTF-16LE, each NUL-terminated, the list ended by one more NUL), REG_BINARY a
 * string of hex digits.  Names are printable ASCII, at most 127 characters.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "../util/reader_error.h"
#include "registry_file.h"

#define FORMAT_VERSION 1
#define MAX_ENTRIES 4096u
#define MAX_DATA (1u << 20)

/* The value types (winnt.h's numbers). */
enum { T_SZ = 1, T_EXPAND_SZ = 2, T_BINARY = 3, T_DWORD = 4, T_MULTI_SZ = 7, T_QWORD = 11 };

typedef struct parse {
    const char *path;
    char *err;
    size_t errlen;
    const char *key, *value; /* where we are, for messages */
    bool failed;
} parse;

static void bad(parse *p, const char *fmt, ...)
{
    char where[600];
    if (p->value)
        snprintf(where, sizeof where, "--registry %s: key \"%s\", value \"%s\"", p->path, p->key, p->value);
    else if (p->key)
        snprintf(where, sizeof where, "--registry %s: key \"%s\"", p->path, p->key);
    else
        snprintf(where, sizeof where, "--registry %s", p->path);
    va_list ap;
    va_start(ap, fmt);
    ksl__reader_error(&p->failed, p->err, p->errlen, where, fmt, ap);
    va_end(ap);
}

static bool printable_name(const char *s)
{
    if (strlen(s) > KSL__REG_NAME_MAX)
        return false;
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7E || *s == '\\')
            return false;
    return true;
}

/* Root and key names of `path` into e.  */
static void read_path(parse *p, const char *path, ksl__reg_entry *e)
{
    static const char *const roots[] = {"General", "Device", "Driver", "HwProfile", "DeviceInterface"};
    char buf[(KSL__REG_NAME_MAX + 1) * (KSL__REG_PATH_MAX + 2)];
    if (strlen(path) >= sizeof buf) {
        bad(p, "the path is too long");
        return;
    }
    snprintf(buf, sizeof buf, "%s", path);
    char *save = NULL, *part = strtok_r(buf, "\\", &save);
    e->root = UINT32_MAX;
    for (uint32_t i = 0; part && i < sizeof roots / sizeof roots[0]; i++) {
        size_t n = strlen(roots[i]);
        if (strcasecmp(part, roots[i]) == 0 ||
            (strncasecmp(part, roots[i], n) == 0 && strcasecmp(part + n, "RegistryKey") == 0))
            e->root = i;
    }
    if (e->root == UINT32_MAX) {
        bad(p, "the path must start with General, Device, Driver, HwProfile or DeviceInterface");
        return;
    }
    while ((part = strtok_r(NULL, "\\", &save)) != NULL) {
        if (e->depth == KSL__REG_PATH_MAX) {
            bad(p, "more than %u keys below the root", KSL__REG_PATH_MAX);
            return;
        }
        if (!printable_name(part)) {
            bad(p, "a key name is 1-%u printable ASCII characters", KSL__REG_NAME_MAX);
            return;
        }
        snprintf(e->keys[e->depth++], sizeof e->keys[0], "%s", part);
    }
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Append UTF-16LE of ASCII `s` and its NUL to data. */
static size_t put_wide(uint8_t *data, size_t at, const char *s)
{
    for (; *s; s++) {
        data[at++] = (uint8_t)*s;
        data[at++] = 0;
    }
    data[at++] = 0;
    data[at++] = 0;
    return at;
}

static bool ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s > 0x7E)
            return false;
    return true;
}

static void read_value(parse *p, json_t *v, ksl__reg_entry *e)
{
    const char *type;
    json_t *data;
    if (!json_is_object(v) || json_object_size(v) != 1) {
        bad(p, "a value is an object of one member, its type: {\"REG_DWORD\": 1}");
        return;
    }
    json_object_foreach(v, type, data) {
        size_t size = 0;
        if (strcmp(type, "REG_DWORD") == 0 || strcmp(type, "REG_QWORD") == 0) {
            bool dword = type[4] == 'D';
            json_int_t x = json_integer_value(data);
            if (!json_is_integer(data) || x < 0 || (dword && x > (json_int_t)UINT32_MAX)) {
                bad(p, "%s takes an integer 0..%s", type, dword ? "4294967295" : "2^63-1");
                return;
            }
            e->type = dword ? T_DWORD : T_QWORD;
            size = dword ? 4 : 8;
            if (!(e->data = malloc(size)))
                goto oom;
            for (size_t i = 0; i < size; i++)
                e->data[i] = (uint8_t)((uint64_t)x >> (8 * i));
        } else if (strcmp(type, "REG_SZ") == 0 || strcmp(type, "REG_EXPAND_SZ") == 0) {
            const char *s = json_string_value(data);
            if (!s || !ascii(s) || strlen(s) > MAX_DATA / 4) {
                bad(p, "%s takes a string of ASCII characters", type);
                return;
            }
            e->type = type[4] == 'E' ? T_EXPAND_SZ : T_SZ;
            if (!(e->data = malloc(strlen(s) * 2 + 2)))
                goto oom;
            size = put_wide(e->data, 0, s);
        } else if (strcmp(type, "REG_MULTI_SZ") == 0) {
            size_t total = 2, i;
            json_t *x;
            if (!json_is_array(data)) {
                bad(p, "REG_MULTI_SZ takes an array of strings");
                return;
            }
            json_array_foreach(data, i, x) {
                const char *s = json_string_value(x);
                if (!s || !*s || !ascii(s) || strlen(s) > MAX_DATA / 4) {
                    bad(p, "REG_MULTI_SZ takes an array of non-empty ASCII strings");
                    return;
                }
                total += strlen(s) * 2 + 2;
            }
            if (total > MAX_DATA) {
                bad(p, "more than %u bytes", MAX_DATA);
                return;
            }
            e->type = T_MULTI_SZ;
            if (!(e->data = malloc(total)))
                goto oom;
            json_array_foreach(data, i, x) size = put_wide(e->data, size, json_string_value(x));
            e->data[size++] = 0;
            e->data[size++] = 0;
        } else if (strcmp(type, "REG_BINARY") == 0) {
            const char *s = json_string_value(data);
            size_t n = s ? strlen(s) : 0;
            if (!s || n % 2 || n / 2 > MAX_DATA) {
                bad(p, "REG_BINARY takes an even number of hex digits");
                return;
            }
            e->type = T_BINARY;
            if (!(e->data = malloc(n / 2 + 1)))
                goto oom;
            for (size_t i = 0; i < n; i += 2) {
                int hi = hexval(s[i]), lo = hexval(s[i + 1]);
                if (hi < 0 || lo < 0) {
                    bad(p, "REG_BINARY takes hex digits");
                    return;
                }
                e->data[size++] = (uint8_t)(hi << 4 | lo);
            }
        } else {
            bad(p, "unknown type \"%s\" (REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ, REG_DWORD, REG_QWORD, REG_BINARY)",
                type);
            return;
        }
        e->len = (uint32_t)size;
        e->has_value = true;
    }
    return;
oom:
    bad(p, "out of memory");
}

static uint64_t entry_hash(uint64_t h, const ksl__reg_entry *e)
{
    uint8_t head[12];
    for (int i = 0; i < 4; i++) {
        head[i] = (uint8_t)(e->root >> (8 * i));
        head[4 + i] = (uint8_t)(e->type >> (8 * i));
        head[8 + i] = (uint8_t)(e->len >> (8 * i));
    }
    h = ksl__fnv1a(h, head, sizeof head);
    for (uint32_t k = 0; k < e->depth; k++)
        h = ksl__fnv1a(h, e->keys[k], strlen(e->keys[k]) + 1);
    h = ksl__fnv1a(h, e->has_value ? "v" : "k", 1);
    h = ksl__fnv1a(h, e->name, strlen(e->name) + 1);
    return ksl__fnv1a(h, e->data ? (const void *)e->data : "", e->len);
}

void ksl__reg_seed_free(ksl__reg_seed *seed)
{
    for (size_t i = 0; seed->entries && i < seed->n; i++)
        free(seed->entries[i].data);
    free(seed->entries);
    memset(seed, 0, sizeof *seed);
}

static int load_doc(json_t *doc, const json_error_t *jerr, const char *path, ksl__reg_seed *seed, char *err,
                    size_t errlen)
{
    memset(seed, 0, sizeof *seed);
    if (!doc) {
        char where[600];
        snprintf(where, sizeof where, "--registry %s", path);
        ksl__json_load_error(err, errlen, where, jerr->text, jerr->line);
        return -1;
    }
    parse p = {path, err, errlen, NULL, NULL, false};
    json_t *ver = json_object_get(doc, "kslab-registry"), *keys = json_object_get(doc, "keys");
    if (!json_is_object(doc) || !json_is_integer(ver) || json_integer_value(ver) != FORMAT_VERSION ||
        !json_is_object(keys) || json_object_size(doc) != 2)
        bad(&p, "not a kslab registry file (it is {\"kslab-registry\": %d, \"keys\": {\"Driver\\\\Settings\": "
                "{...}}})", FORMAT_VERSION);
    size_t total = 0;
    const char *kpath, *vname;
    json_t *kv, *v;
    if (!p.failed)
        json_object_foreach(keys, kpath, kv) total += 1 + json_object_size(kv);
    if (!p.failed && total > MAX_ENTRIES)
        bad(&p, "more than %u keys and values", MAX_ENTRIES);
    if (!p.failed && total && !(seed->entries = calloc(total, sizeof *seed->entries)))
        bad(&p, "out of memory");
    uint64_t h = KSL__FNV_OFFSET;
    if (!p.failed) {
        json_object_foreach(keys, kpath, kv) {
            if (p.failed)
                break;
            p.key = kpath;
            p.value = NULL;
            ksl__reg_entry *k = &seed->entries[seed->n++];
            read_path(&p, kpath, k);
            if (!json_is_object(kv))
                bad(&p, "a key is an object of its values");
            h = entry_hash(h, k);
            json_object_foreach(kv, vname, v) {
                if (p.failed)
                    break;
                p.value = vname;
                if (!printable_name(vname) && vname[0])
                    bad(&p, "a value name is printable ASCII, at most %u characters", KSL__REG_NAME_MAX);
                ksl__reg_entry *e = &seed->entries[seed->n++];
                *e = *k;
                snprintf(e->name, sizeof e->name, "%s", vname);
                read_value(&p, v, e);
                h = entry_hash(h, e);
            }
        }
    }
    json_decref(doc);
    if (p.failed) {
        ksl__reg_seed_free(seed);
        return -1;
    }
    seed->hash = h ? h : 1;
    return 0;
}

int ksl__registry_file_load(const char *path, ksl__reg_seed *seed, char *err, size_t errlen)
{
    json_error_t je;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    return load_doc(doc, &je, path, seed, err, errlen);
}

int ksl__registry_text_load(const char *text, size_t n, const char *name, ksl__reg_seed *seed, char *err,
                            size_t errlen)
{
    json_error_t je;
    json_t *doc = json_loadb(text, n, JSON_REJECT_DUPLICATES, &je);
    return load_doc(doc, &je, name, seed, err, errlen);
}
