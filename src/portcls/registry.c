/* SPDX-License-Identifier: MIT */
/*
 * An in-memory registry for an adapter (PcNewRegistryKey, IRegistryKey): a tree of keys, each
 * with named values (type and bytes).  Every bring-up starts from the same tree — empty, or what
 * the run's registry file seeds (registry_seed.h) — so a run does not depend on what an earlier
 * one wrote; its roots are the key types PcNewRegistryKey
 * names (the driver's software key, the device's hardware key, ...).  Names compare without
 * regard to ASCII case, as the registry's do.  Key objects are reference counted; the tree lives
 * until the adapter is removed.
 *
 * QueryRegistryValues is not offered (STATUS_NOT_IMPLEMENTED: no driver of this kind uses it).
 * Every method is PASSIVE_LEVEL, as in PortCls.
 */
#include <stdlib.h>
#include <string.h>

#include "port.h"
#include "registry_seed.h"

#define NAME_MAX_CHARS 128

typedef struct reg_value {
    WCHAR name[NAME_MAX_CHARS];
    ULONG type;
    ULONG len;
    UCHAR *data;
} reg_value;

struct pcl_regnode {
    WCHAR name[NAME_MAX_CHARS];
    struct pcl_regnode *parent;
    struct pcl_regnode **children;
    ULONG nchildren, capchildren;
    reg_value *values;
    ULONG nvalues, capvalues;
    bool deleted;
};

typedef struct pcl_regkey {
    IRegistryKey iface; /* first: the interface pointer is the object pointer */
    volatile LONG refs;
    pcl_regnode *node;
} pcl_regkey;

static pcl_regkey *from_iface(IRegistryKey *This)
{
    return (pcl_regkey *)This;
}

static WCHAR fold(WCHAR c)
{
    return c >= 'a' && c <= 'z' ? (WCHAR)(c - 'a' + 'A') : c;
}

/* The counted string s equals the 0-terminated name. */
static bool same_name(const WCHAR *name, PCUNICODE_STRING s)
{
    ULONG n = s->Length / sizeof(WCHAR), i = 0;
    for (; i < n; i++)
        if (!name[i] || fold(name[i]) != fold(s->Buffer[i]))
            return false;
    return name[i] == 0;
}

static bool copy_name(WCHAR *dst, PCUNICODE_STRING s)
{
    ULONG n = s->Length / sizeof(WCHAR);
    if (n >= NAME_MAX_CHARS)
        return false;
    memcpy(dst, s->Buffer, n * sizeof(WCHAR));
    dst[n] = 0;
    return true;
}

static ULONG name_bytes(const WCHAR *name)
{
    ULONG n = 0;
    while (name[n])
        n++;
    return n * sizeof(WCHAR);
}

static bool grow(void **arr, ULONG *cap, ULONG need, size_t elem)
{
    if (need <= *cap)
        return true;
    ULONG ncap = *cap ? *cap * 2 : 4;
    while (ncap < need)
        ncap *= 2;
    void *p = realloc(*arr, (size_t)ncap * elem);
    if (!p)
        return false;
    *arr = p;
    *cap = ncap;
    return true;
}

static pcl_regnode *new_node(pcl_regnode *parent, const WCHAR *name)
{
    pcl_regnode *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->parent = parent;
    for (ULONG i = 0; name[i] && i + 1 < NAME_MAX_CHARS; i++)
        n->name[i] = name[i];
    if (parent) {
        if (!grow((void **)&parent->children, &parent->capchildren, parent->nchildren + 1, sizeof(pcl_regnode *))) {
            free(n);
            return NULL;
        }
        parent->children[parent->nchildren++] = n;
    }
    return n;
}

static void free_node(pcl_regnode *n)
{
    for (ULONG i = 0; i < n->nchildren; i++)
        free_node(n->children[i]);
    for (ULONG i = 0; i < n->nvalues; i++)
        free(n->values[i].data);
    free(n->children);
    free(n->values);
    free(n);
}

static reg_value *find_value(pcl_regnode *n, PCUNICODE_STRING name)
{
    for (ULONG i = 0; i < n->nvalues; i++)
        if (same_name(n->values[i].name, name))
            return &n->values[i];
    return NULL;
}

/* Write the information `cls` asks for about value v into buf. */
static NTSTATUS value_info(const reg_value *v, KEY_VALUE_INFORMATION_CLASS cls, PVOID buf, ULONG len, PULONG result)
{
    ULONG nb = name_bytes(v->name), need;
    switch (cls) {
    case KeyValueBasicInformation: {
        need = (ULONG)offsetof(KEY_VALUE_BASIC_INFORMATION, Name) + nb;
        *result = need;
        if (len < need)
            return len < offsetof(KEY_VALUE_BASIC_INFORMATION, Name) ? STATUS_BUFFER_TOO_SMALL : STATUS_BUFFER_OVERFLOW;
        KEY_VALUE_BASIC_INFORMATION *b = buf;
        b->TitleIndex = 0;
        b->Type = v->type;
        b->NameLength = nb;
        memcpy(b->Name, v->name, nb);
        return STATUS_SUCCESS;
    }
    case KeyValueFullInformation:
    case KeyValueFullInformationAlign64: {
        ULONG off = (ULONG)offsetof(KEY_VALUE_FULL_INFORMATION, Name) + nb;
        off = (off + 7u) & ~7u;
        need = off + v->len;
        *result = need;
        if (len < need)
            return len < offsetof(KEY_VALUE_FULL_INFORMATION, Name) ? STATUS_BUFFER_TOO_SMALL : STATUS_BUFFER_OVERFLOW;
        KEY_VALUE_FULL_INFORMATION *f = buf;
        f->TitleIndex = 0;
        f->Type = v->type;
        f->DataOffset = off;
        f->DataLength = v->len;
        f->NameLength = nb;
        memcpy(f->Name, v->name, nb);
        memcpy((UCHAR *)buf + off, v->data, v->len);
        return STATUS_SUCCESS;
    }
    case KeyValuePartialInformation:
    case KeyValuePartialInformationAlign64: {
        need = (ULONG)offsetof(KEY_VALUE_PARTIAL_INFORMATION, Data) + v->len;
        *result = need;
        if (len < need)
            return len < offsetof(KEY_VALUE_PARTIAL_INFORMATION, Data) ? STATUS_BUFFER_TOO_SMALL : STATUS_BUFFER_OVERFLOW;
        KEY_VALUE_PARTIAL_INFORMATION *p = buf;
        p->TitleIndex = 0;
        p->Type = v->type;
        p->DataLength = v->len;
        memcpy(p->Data, v->data, v->len);
        return STATUS_SUCCESS;
    }
    }
    return STATUS_INVALID_PARAMETER;
}

static NTSTATUS key_info(const pcl_regnode *n, KEY_INFORMATION_CLASS cls, PVOID buf, ULONG len, PULONG result)
{
    if (cls != KeyBasicInformation)
        return STATUS_NOT_IMPLEMENTED; /* kslab answers KeyBasicInformation only */
    ULONG nb = name_bytes(n->name);
    ULONG need = (ULONG)offsetof(KEY_BASIC_INFORMATION, Name) + nb;
    *result = need;
    if (len < need)
        return len < offsetof(KEY_BASIC_INFORMATION, Name) ? STATUS_BUFFER_TOO_SMALL : STATUS_BUFFER_OVERFLOW;
    KEY_BASIC_INFORMATION *b = buf;
    b->LastWriteTime.QuadPart = 0;
    b->TitleIndex = 0;
    b->NameLength = nb;
    memcpy(b->Name, n->name, nb);
    return STATUS_SUCCESS;
}

static NTSTATUS new_key(pcl_regnode *node, PREGISTRYKEY *out);

/* ---- IRegistryKey --------------------------------------------------------------------------- */

static NTSTATUS rk_query_interface(IRegistryKey *This, REFIID Iid, PVOID *Object)
{
    if (!Object)
        return STATUS_INVALID_PARAMETER;
    if (IsEqualGUIDAligned(Iid, &IID_IUnknown) || IsEqualGUIDAligned(Iid, &IID_IRegistryKey)) {
        InterlockedIncrement(&from_iface(This)->refs);
        *Object = This;
        return STATUS_SUCCESS;
    }
    *Object = NULL;
    return STATUS_NOINTERFACE;
}

static ULONG rk_add_ref(IRegistryKey *This)
{
    return (ULONG)InterlockedIncrement(&from_iface(This)->refs);
}

static ULONG rk_release(IRegistryKey *This)
{
    LONG left = InterlockedDecrement(&from_iface(This)->refs);
    if (left == 0)
        free(from_iface(This));
    return (ULONG)left;
}

static NTSTATUS rk_query_key(IRegistryKey *This, KEY_INFORMATION_CLASS KeyInformationClass, PVOID KeyInformation,
                             ULONG Length, PULONG ResultLength)
{
    ksl_require_irql(PASSIVE_LEVEL, "IRegistryKey::QueryKey", __FILE__, __LINE__);
    pcl_regnode *n = from_iface(This)->node;
    if (n->deleted)
        return STATUS_KEY_DELETED;
    if (!ResultLength)
        return STATUS_INVALID_PARAMETER;
    return key_info(n, KeyInformationClass, KeyInformation, Length, ResultLength);
}

static NTSTATUS rk_enumerate_key(IRegistryKey *This, ULONG Index, KEY_INFORMATION_CLASS KeyInformationClass,
                                 PVOID KeyInformation, ULONG Length, PULONG ResultLength)
{
    ksl_require_irql(PASSIVE_LEVEL, "IRegistryKey::EnumerateKey", __FILE__, __LINE__);
    pcl_regnode *n = from_iface(This)->node;
    if (n->deleted)
        return STATUS_KEY_DELETED;
    if (!ResultLength)
        return STATUS_INVALID_PARAMETER;
    for (ULONG i = 0, live = 0; i < n->nchildren; i++)
        if (!n->children[i]->deleted && live++ == Index)
            return key_info(n->children[i], KeyInformationClass, KeyInformation, Length, ResultLength);
    return STATUS_NO_MORE_ENTRIES;
}

static NTSTATUS rk_query_value_key(IRegistryKey *This, PUNICODE_STRING ValueName,
                                   KEY_VALUE_INFORMATION_CLASS KeyValueInformationClass, PVOID KeyValueInformation,
                                   ULONG Length, PULONG ResultLength)
{
    ksl_require_irql(PASSIVE_LEVEL, "IRegistryKey::QueryValueKey", __FILE__, __LINE__);
    pcl_regnode *n = from_iface(This)->node;
    if (n->deleted)
        return STATUS_KEY_DELETED;
    if (!ValueName || !ResultLength)
        return STATUS_INVALID_PARAMETER;
    const reg_value *v = find_value(n, ValueName);
    if (!v)
        return STATUS_OBJECT_NAME_NOT_FOUND;
    return value_info(v, KeyValueInformationClass, KeyValueInformation, Length, ResultLength);
}

static NTSTATUS rk_enumerate_value_key(IRegistryKey *This, ULONG Index,
                                       KEY_VALUE_INFORMATION_CLASS KeyValueInformationClass,
                                       PVOID KeyValueInformation, ULONG Length, PULONG ResultLength)
{
    ksl_require_irql(PASSIVE_LEVEL, "IRegistryKey::EnumerateValueKey", __FILE__, __LINE__);
    pcl_regnode *n = from_iface(This)->node;
    if (n->deleted)
        return STATUS_KEY_DELETED;
    if (!ResultLength)
        return STATUS_INVALID_PARAMETER;
    if (Index >= n->nvalues)
        return STATUS_NO_MORE_ENTRIES;
    return value_info(&n->values[Index], KeyValueInformationClass, KeyValueInformation, Length, ResultLength);
}

static NTSTATUS rk_set_value_key(IRegistryKey *This, PUNICODE_STRING ValueName, ULONG Type, PVOID Data,
                                 ULONG DataSize)
{
    ksl_require_irql(PASSIVE_LEVEL, "IRegistryKey::SetValueKey", __FILE__, __LINE__);
    pcl_regnode *n = from_iface(This)->node;
    if (n->deleted)
        return STATUS_KEY_DELETED;
    UNICODE_STRING empty = {0, 0, NULL};
    if (!ValueName)
        ValueName = &empty; /* the key's default value */
    if (DataSize && !Data)
        return STATUS_INVALID_PARAMETER;
    UCHAR *copy = malloc(DataSize ? DataSize : 1);
    if (!copy)
        return STATUS_INSUFFICIENT_RESOURCES;
    if (DataSize)
        memcpy(copy, Data, DataSize);
    reg_value *v = find_value(n, ValueName);
    if (!v) {
        if (!grow((void **)&n->values, &n->capvalues, n->nvalues + 1, sizeof(reg_value))) {
            free(copy);
            return STATUS_INSUFFICIENT_RESOURCES;
        }
        v = &n->values[n->nvalues];
        memset(v, 0, sizeof *v);
        if (!copy_name(v->name, ValueName)) {
            free(copy);
            return STATUS_INVALID_PARAMETER;
        }
        n->nvalues++;
    }
    free(v->data);
    v->data = copy;
    v->len = DataSize;
    v->type = Type;
    return STATUS_SUCCESS;
}

static NTSTATUS rk_query_registry_values(IRegistryKey *This, PRTL_QUERY_REGISTRY_TABLE QueryTable, PVOID Context)
{
    (void)This, (void)QueryTable, (void)Context;
    return STATUS_NOT_IMPLEMENTED;
}

/* Open the subkey SubKeyName (one path component or several, '\'-separated), creating what is
 * missing.  *Disposition says which.  PASSIVE_LEVEL. */
static NTSTATUS rk_new_sub_key(IRegistryKey *This, IRegistryKey **RegistrySubKey, PUNKNOWN OuterUnknown,
                               ACCESS_MASK DesiredAccess, PUNICODE_STRING SubKeyName, ULONG CreateOptions,
                               PULONG Disposition)
{
    (void)OuterUnknown, (void)DesiredAccess, (void)CreateOptions;
    ksl_require_irql(PASSIVE_LEVEL, "IRegistryKey::NewSubKey", __FILE__, __LINE__);
    pcl_regnode *n = from_iface(This)->node;
    if (!RegistrySubKey || !SubKeyName)
        return STATUS_INVALID_PARAMETER;
    *RegistrySubKey = NULL;
    if (n->deleted)
        return STATUS_KEY_DELETED;
    ULONG len = SubKeyName->Length / sizeof(WCHAR), start = 0;
    bool created = false;
    while (start < len) {
        ULONG end = start;
        while (end < len && SubKeyName->Buffer[end] != '\\')
            end++;
        UNICODE_STRING part = {(USHORT)((end - start) * sizeof(WCHAR)), (USHORT)((end - start) * sizeof(WCHAR)),
                               SubKeyName->Buffer + start};
        if (part.Length) {
            pcl_regnode *child = NULL;
            for (ULONG i = 0; i < n->nchildren && !child; i++)
                if (!n->children[i]->deleted && same_name(n->children[i]->name, &part))
                    child = n->children[i];
            if (!child) {
                WCHAR name[NAME_MAX_CHARS];
                if (!copy_name(name, &part))
                    return STATUS_INVALID_PARAMETER;
                if (!(child = new_node(n, name)))
                    return STATUS_INSUFFICIENT_RESOURCES;
                created = true;
            }
            n = child;
        }
        start = end + 1;
    }
    if (Disposition)
        *Disposition = created ? REG_CREATED_NEW_KEY : REG_OPENED_EXISTING_KEY;
    return new_key(n, RegistrySubKey);
}

/* Mark the key deleted (its values and subkeys go with it); open handles see STATUS_KEY_DELETED. */
static NTSTATUS rk_delete_key(IRegistryKey *This)
{
    ksl_require_irql(PASSIVE_LEVEL, "IRegistryKey::DeleteKey", __FILE__, __LINE__);
    pcl_regnode *n = from_iface(This)->node;
    if (!n->parent)
        return STATUS_ACCESS_DENIED; /* a root */
    n->deleted = true;
    return STATUS_SUCCESS;
}

static const IRegistryKeyVtbl regkey_vtbl = {
    rk_query_interface,  rk_add_ref,       rk_release,     rk_query_key,
    rk_enumerate_key,    rk_query_value_key, rk_enumerate_value_key, rk_set_value_key,
    rk_query_registry_values, rk_new_sub_key, rk_delete_key,
};

static NTSTATUS new_key(pcl_regnode *node, PREGISTRYKEY *out)
{
    pcl_regkey *k = calloc(1, sizeof *k);
    if (!k)
        return STATUS_INSUFFICIENT_RESOURCES;
    k->iface.lpVtbl = &regkey_vtbl;
    k->refs = 1;
    k->node = node;
    *out = &k->iface;
    return STATUS_SUCCESS;
}

/* ---- the tree ------------------------------------------------------------------------------- */

static const ksl__reg_seed *seeded; /* ksl__pcl_registry_seed_use */

void ksl__pcl_registry_seed_use(const ksl__reg_seed *seed)
{
    seeded = seed;
}

/* The child of `n` named `ascii`, made when there is none; NULL when out of memory. */
static pcl_regnode *child_of(pcl_regnode *n, const char *ascii)
{
    WCHAR name[NAME_MAX_CHARS];
    size_t i = 0;
    for (; ascii[i] && i + 1 < NAME_MAX_CHARS; i++)
        name[i] = (WCHAR)(unsigned char)ascii[i];
    name[i] = 0;
    UNICODE_STRING s = {(USHORT)(i * sizeof(WCHAR)), (USHORT)(i * sizeof(WCHAR)), name};
    for (ULONG k = 0; k < n->nchildren; k++)
        if (same_name(n->children[k]->name, &s))
            return n->children[k];
    return new_node(n, name);
}

static const char *const root_names[] = {"General", "Device", "Driver", "HwProfile", "DeviceInterface"};

/* Copy the seed into a fresh tree: false when out of memory. */
static bool seed_tree(pcl_regnode *root)
{
    for (size_t i = 0; seeded && i < seeded->n; i++) {
        const ksl__reg_entry *e = &seeded->entries[i];
        pcl_regnode *n = e->root < sizeof root_names / sizeof root_names[0] ? child_of(root, root_names[e->root]) : NULL;
        for (uint32_t k = 0; n && k < e->depth; k++)
            n = child_of(n, e->keys[k]);
        if (!n)
            return false;
        if (!e->has_value)
            continue;
        WCHAR name[NAME_MAX_CHARS];
        size_t len = 0;
        for (; e->name[len] && len + 1 < NAME_MAX_CHARS; len++)
            name[len] = (WCHAR)(unsigned char)e->name[len];
        name[len] = 0;
        UNICODE_STRING vn = {(USHORT)(len * sizeof(WCHAR)), (USHORT)(len * sizeof(WCHAR)), name};
        if (!grow((void **)&n->values, &n->capvalues, n->nvalues + 1, sizeof(reg_value)))
            return false;
        reg_value *v = find_value(n, &vn);
        if (!v) {
            v = &n->values[n->nvalues++];
            memset(v, 0, sizeof *v);
            copy_name(v->name, &vn);
        }
        free(v->data);
        if (!(v->data = malloc(e->len ? e->len : 1)))
            return false;
        if (e->len)
            memcpy(v->data, e->data, e->len);
        v->len = e->len;
        v->type = e->type;
    }
    return true;
}

pcl_regnode *ksl__pcl_registry_create(void)
{
    static const WCHAR root[] = {'R', 'E', 'G', 'I', 'S', 'T', 'R', 'Y', 0};
    pcl_regnode *n = new_node(NULL, root);
    if (n && !seed_tree(n)) {
        free_node(n);
        return NULL;
    }
    return n;
}

void ksl__pcl_registry_destroy(pcl_regnode *root)
{
    if (root)
        free_node(root);
}

NTSTATUS ksl__pcl_registry_open(pcl_regnode *root, ULONG RegistryKeyType, PREGISTRYKEY *out)
{
    if (!root || !out || RegistryKeyType >= sizeof root_names / sizeof root_names[0])
        return STATUS_INVALID_PARAMETER;
    pcl_regnode *n = child_of(root, root_names[RegistryKeyType]);
    if (!n)
        return STATUS_INSUFFICIENT_RESOURCES;
    return new_key(n, out);
}
