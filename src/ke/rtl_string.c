/* SPDX-License-Identifier: MIT */
/*
 * Counted strings (UNICODE_STRING, ANSI_STRING): the Rtl* routines drivers use to build and
 * compare them.  WCHAR is 16 bits whatever the host's wchar_t, so nothing here calls libc's
 * wcs* functions.  None of them is a scheduling point; they run at any IRQL for non-paged
 * strings (the WDK documents PASSIVE_LEVEL for some; kslab does not check it).
 */
#include <kslab/wdk/wdm.h>

static USHORT wide_length_bytes(PCWSTR s)
{
    size_t n = 0;
    while (s[n])
        n++;
    size_t bytes = n * sizeof(WCHAR);
    return (USHORT)(bytes > 0xfffcu ? 0xfffcu : bytes);
}

void NTAPI RtlInitUnicodeString(PUNICODE_STRING DestinationString, PCWSTR SourceString)
{
    if (!SourceString) {
        DestinationString->Length = DestinationString->MaximumLength = 0;
        DestinationString->Buffer = NULL;
        return;
    }
    DestinationString->Length = wide_length_bytes(SourceString);
    DestinationString->MaximumLength = (USHORT)(DestinationString->Length + sizeof(WCHAR));
    DestinationString->Buffer = (PWSTR)SourceString;
}

void NTAPI RtlInitAnsiString(PANSI_STRING DestinationString, PCSTR SourceString)
{
    size_t n = 0;
    if (SourceString)
        while (SourceString[n])
            n++;
    if (n > 0xfffe)
        n = 0xfffe;
    DestinationString->Length = (USHORT)n;
    DestinationString->MaximumLength = SourceString ? (USHORT)(n + 1) : 0;
    DestinationString->Buffer = (PCHAR)SourceString;
}

void NTAPI RtlCopyUnicodeString(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString)
{
    if (!SourceString) {
        DestinationString->Length = 0;
        return;
    }
    USHORT n = SourceString->Length < DestinationString->MaximumLength ? SourceString->Length
                                                                        : DestinationString->MaximumLength;
    memmove(DestinationString->Buffer, SourceString->Buffer, n);
    DestinationString->Length = n;
    if (n + sizeof(WCHAR) <= DestinationString->MaximumLength)
        DestinationString->Buffer[n / sizeof(WCHAR)] = 0;
}

static WCHAR upcase(WCHAR c)
{
    return c >= 'a' && c <= 'z' ? (WCHAR)(c - 'a' + 'A') : c;
}

LONG NTAPI RtlCompareUnicodeString(PCUNICODE_STRING String1, PCUNICODE_STRING String2, BOOLEAN CaseInSensitive)
{
    size_t n1 = String1->Length / sizeof(WCHAR), n2 = String2->Length / sizeof(WCHAR);
    for (size_t i = 0; i < n1 && i < n2; i++) {
        WCHAR a = String1->Buffer[i], b = String2->Buffer[i];
        if (CaseInSensitive) {
            a = upcase(a);
            b = upcase(b);
        }
        if (a != b)
            return (LONG)a - (LONG)b;
    }
    return (LONG)n1 - (LONG)n2;
}

BOOLEAN NTAPI RtlEqualUnicodeString(PCUNICODE_STRING String1, PCUNICODE_STRING String2, BOOLEAN CaseInSensitive)
{
    return String1->Length == String2->Length && RtlCompareUnicodeString(String1, String2, CaseInSensitive) == 0;
}

NTSTATUS NTAPI RtlAppendUnicodeStringToString(PUNICODE_STRING Destination, PCUNICODE_STRING Source)
{
    if ((size_t)Destination->Length + Source->Length > Destination->MaximumLength)
        return STATUS_BUFFER_TOO_SMALL;
    memmove((char *)Destination->Buffer + Destination->Length, Source->Buffer, Source->Length);
    Destination->Length = (USHORT)(Destination->Length + Source->Length);
    if ((size_t)Destination->Length + sizeof(WCHAR) <= Destination->MaximumLength)
        Destination->Buffer[Destination->Length / sizeof(WCHAR)] = 0;
    return STATUS_SUCCESS;
}

NTSTATUS NTAPI RtlAppendUnicodeToString(PUNICODE_STRING Destination, PCWSTR Source)
{
    UNICODE_STRING s;
    RtlInitUnicodeString(&s, Source);
    return RtlAppendUnicodeStringToString(Destination, &s);
}
