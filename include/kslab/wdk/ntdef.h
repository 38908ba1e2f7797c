/* SPDX-License-Identifier: MIT */
/*
 * ntdef.h-style base types: the NT and Win32 scalar types, LARGE_INTEGER, UNICODE_STRING, status
 * codes, calling-convention and SAL annotation macros (no-ops here), the same text compiling as
 * C11 and as C++17.  Every other WDK-named header of kslab starts here.
 *
 * WCHAR is a 16-bit type in both languages: uint16_t in C, wchar_t in C++ -- which C++ drivers
 * must compile with -fshort-wchar (the build helper and pkg-config pass it), checked below so
 * that L"..." literals have the layout the WDK gives them.  kslab never calls libc's wcs*
 * functions on driver strings.
 *
 * Names, values and layouts follow the WDK's documentation; the text is kslab's.
 */
#ifndef KSLAB_WDK_NTDEF_H
#define KSLAB_WDK_NTDEF_H

#include <stddef.h>
#include <stdint.h>

#include <kslab/ke.h>

/* ---- language glue ---------------------------------------------------------------------- */

#ifdef __cplusplus
#define EXTERN_C extern "C"
#define KSL_WDK_BEGIN extern "C" {
#define KSL_WDK_END }
#else
#define EXTERN_C extern
#define KSL_WDK_BEGIN
#define KSL_WDK_END
#endif

/* Calling conventions: one convention on x86-64 Linux. */
#define NTAPI
#define NTSYSAPI
#define NTSYSCALLAPI
#define NTKERNELAPI
#define NTHALAPI
#define WINAPI
#define CDECL
#define __cdecl
#define __stdcall
#define __fastcall
#define FASTCALL
#define STDMETHODCALLTYPE
#define STDMETHODVCALLTYPE
#define STDAPICALLTYPE
#define DECLSPEC_IMPORT
#define DECLSPEC_EXPORT
#define DECLSPEC_NOINLINE __attribute__((noinline))
#define DECLSPEC_NORETURN __attribute__((noreturn))
#define DECLSPEC_SELECTANY __attribute__((weak))
#define DECLSPEC_ALIGN(x) __attribute__((aligned(x)))
#define DECLSPEC_NOVTABLE
#define DECLSPEC_UUID(x)
#define FORCEINLINE static inline
#define NTAPI_INLINE
#ifndef __forceinline
#define __forceinline inline
#endif

/* Parameter annotations of old: documentation only. */
#define IN
#define OUT
#define OPTIONAL
#define CONST const
#define UNALIGNED
#define RESTRICTED_POINTER

/* ---- scalar types ----------------------------------------------------------------------- */

#define VOID void
typedef void *PVOID, **PPVOID;
typedef const void *PCVOID;
typedef char CHAR, CCHAR, *PCHAR, *PSTR, *LPSTR;
typedef const char *PCSTR, *LPCSTR, *PCSZ;
typedef signed char SCHAR, *PSCHAR;
typedef unsigned char UCHAR, *PUCHAR, BYTE, *PBYTE, *LPBYTE, BOOLEAN, *PBOOLEAN;
typedef int16_t SHORT, *PSHORT, CSHORT;
typedef uint16_t USHORT, *PUSHORT, WORD, *PWORD, *LPWORD;
typedef int32_t LONG, *PLONG, *LPLONG, INT, *PINT, BOOL, *PBOOL, *LPBOOL, HRESULT, NTSTATUS, *PNTSTATUS;
typedef uint32_t ULONG, *PULONG, UINT, *PUINT, DWORD, *PDWORD, *LPDWORD, ULONG32, DWORD32, UINT32;
typedef int32_t LONG32, INT32;
typedef int64_t LONGLONG, *PLONGLONG, LONG64, *PLONG64, INT64;
typedef uint64_t ULONGLONG, *PULONGLONG, ULONG64, *PULONG64, DWORD64, *PDWORD64, UINT64, DWORDLONG;
typedef intptr_t LONG_PTR, *PLONG_PTR, INT_PTR, SSIZE_T;
typedef uintptr_t ULONG_PTR, *PULONG_PTR, UINT_PTR, DWORD_PTR, KAFFINITY, *PKAFFINITY;
typedef size_t SIZE_T, *PSIZE_T;
typedef float FLOAT;
typedef double DOUBLE;
typedef void *HANDLE, **PHANDLE;
typedef ULONG LCID, ACCESS_MASK, *PACCESS_MASK, LOGICAL, *PLOGICAL;
typedef uint8_t KIRQL, *PKIRQL;
typedef LONG KPRIORITY;
typedef uint32_t KSPIN_LOCK_QUEUE_NUMBER;

#ifdef __cplusplus
typedef wchar_t WCHAR;
static_assert(sizeof(wchar_t) == 2, "kslab: compile C++ drivers with -fshort-wchar (WCHAR is 16 bits in the WDK)");
#else
typedef uint16_t WCHAR;
#endif
typedef WCHAR *PWCHAR, *PWCH, *PWSTR, *LPWSTR, *PWCHAR_T;
typedef const WCHAR *PCWCH, *PCWSTR, *LPCWSTR;

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif
#ifndef NULL
#define NULL ((void *)0)
#endif

#define MINCHAR 0x80
#define MAXCHAR 0x7f
#define MINSHORT 0x8000
#define MAXSHORT 0x7fff
#define MINLONG 0x80000000
#define MAXLONG 0x7fffffff
#define MAXUCHAR 0xff
#define MAXUSHORT 0xffff
#define MAXULONG 0xffffffffu
#define MAXLONGLONG 0x7fffffffffffffffll
#define MAXULONG_PTR (~(ULONG_PTR)0)
#define MAXSIZE_T (~(SIZE_T)0)

/* LowPart/HighPart directly and through `u`, as the WDK declares them.  __extension__: ISO C++
 * has no anonymous structs, and every compiler kslab supports has them. */
typedef union _LARGE_INTEGER {
    __extension__ struct {
        ULONG LowPart;
        LONG HighPart;
    };
    struct {
        ULONG LowPart;
        LONG HighPart;
    } u;
    LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER, PHYSICAL_ADDRESS, *PPHYSICAL_ADDRESS;

typedef union _ULARGE_INTEGER {
    __extension__ struct {
        ULONG LowPart;
        ULONG HighPart;
    };
    struct {
        ULONG LowPart;
        ULONG HighPart;
    } u;
    ULONGLONG QuadPart;
} ULARGE_INTEGER, *PULARGE_INTEGER;

/* Counted strings.  Length and MaximumLength are in bytes. */
typedef struct _UNICODE_STRING {
    USHORT Length;
    USHORT MaximumLength;
    PWSTR Buffer;
} UNICODE_STRING, *PUNICODE_STRING;
typedef const UNICODE_STRING *PCUNICODE_STRING;
typedef struct _STRING {
    USHORT Length;
    USHORT MaximumLength;
    PCHAR Buffer;
} STRING, *PSTRING, ANSI_STRING, *PANSI_STRING, OEM_STRING, *POEM_STRING;
typedef const STRING *PCSTRING, *PCANSI_STRING;

/* A constant UNICODE_STRING initializer from a wide string literal. */
#define RTL_CONSTANT_STRING(s) {sizeof(s) - sizeof((s)[0]), sizeof(s), (s)}

/* ---- status codes ----------------------------------------------------------------------- */

#define NT_SUCCESS(s) (((NTSTATUS)(s)) >= 0)
#define NT_INFORMATION(s) ((((ULONG)(s)) >> 30) == 1)
#define NT_WARNING(s) ((((ULONG)(s)) >> 30) == 2)
#define NT_ERROR(s) ((((ULONG)(s)) >> 30) == 3)
#define SUCCEEDED(hr) (((HRESULT)(hr)) >= 0)
#define FAILED(hr) (((HRESULT)(hr)) < 0)

#define STATUS_SUCCESS KSL_STATUS_SUCCESS
#define STATUS_WAIT_0 ((NTSTATUS)0x00000000)
#define STATUS_ALERTED KSL_STATUS_ALERTED
#define STATUS_TIMEOUT KSL_STATUS_TIMEOUT
#define STATUS_PENDING KSL_STATUS_PENDING
#define STATUS_REPARSE ((NTSTATUS)0x00000104)
#define STATUS_MORE_ENTRIES ((NTSTATUS)0x00000105)
#define STATUS_BUFFER_OVERFLOW ((NTSTATUS)0x80000005)
#define STATUS_NO_MORE_ENTRIES ((NTSTATUS)0x8000001A)
#define STATUS_UNSUCCESSFUL KSL_STATUS_UNSUCCESSFUL
#define STATUS_NOT_IMPLEMENTED KSL_STATUS_NOT_IMPLEMENTED
#define STATUS_INVALID_HANDLE ((NTSTATUS)0xC0000008)
#define STATUS_INVALID_PARAMETER KSL_STATUS_INVALID_PARAMETER
#define STATUS_NO_SUCH_DEVICE ((NTSTATUS)0xC000000E)
#define STATUS_INVALID_DEVICE_REQUEST KSL_STATUS_INVALID_DEVICE_REQUEST
#define STATUS_NO_MEMORY KSL_STATUS_NO_MEMORY
#define STATUS_ACCESS_DENIED ((NTSTATUS)0xC0000022)
#define STATUS_BUFFER_TOO_SMALL KSL_STATUS_BUFFER_TOO_SMALL
#define STATUS_OBJECT_NAME_NOT_FOUND ((NTSTATUS)0xC0000034)
#define STATUS_OBJECT_NAME_COLLISION ((NTSTATUS)0xC0000035)
#define STATUS_INSUFFICIENT_RESOURCES KSL_STATUS_INSUFFICIENT_RESOURCES
#define STATUS_DEVICE_NOT_READY KSL_STATUS_DEVICE_NOT_READY
#define STATUS_IO_TIMEOUT KSL_STATUS_IO_TIMEOUT
#define STATUS_NOT_SUPPORTED KSL_STATUS_NOT_SUPPORTED
#define STATUS_INVALID_PARAMETER_1 ((NTSTATUS)0xC00000EF)
#define STATUS_INVALID_PARAMETER_2 ((NTSTATUS)0xC00000F0)
#define STATUS_CANCELLED KSL_STATUS_CANCELLED
#define STATUS_INVALID_DEVICE_STATE KSL_STATUS_INVALID_DEVICE_STATE
#define STATUS_KEY_DELETED ((NTSTATUS)0xC000017C)
#define STATUS_DEVICE_CONFIGURATION_ERROR ((NTSTATUS)0xC0000182)
#define STATUS_NOT_FOUND KSL_STATUS_NOT_FOUND
#define STATUS_NO_MATCH ((NTSTATUS)0xC0000272)
#define STATUS_NOINTERFACE ((NTSTATUS)0xC00002B9)
#define STATUS_INVALID_BUFFER_SIZE ((NTSTATUS)0xC0000206)
#define STATUS_DEVICE_BUSY ((NTSTATUS)0x80000011)
#define STATUS_UNRECOGNIZED_MEDIA ((NTSTATUS)0xC0000014)
#define STATUS_INVALID_INFO_CLASS ((NTSTATUS)0xC0000003)
#define STATUS_INFO_LENGTH_MISMATCH ((NTSTATUS)0xC0000004)

#define S_OK ((HRESULT)0)
#define S_FALSE ((HRESULT)1)
#define E_NOTIMPL ((HRESULT)0x80004001)
#define E_NOINTERFACE ((HRESULT)0x80004002)
#define E_POINTER ((HRESULT)0x80004003)
#define E_FAIL ((HRESULT)0x80004005)
#define E_OUTOFMEMORY ((HRESULT)0x8007000E)
#define E_INVALIDARG ((HRESULT)0x80070057)

/* ---- helpers ---------------------------------------------------------------------------- */

/* basetsd.h conversions between integers and pointers. */
#define ULongToPtr(ul) ((PVOID)(ULONG_PTR)(ULONG)(ul))
#define LongToPtr(l) ((PVOID)(LONG_PTR)(LONG)(l))
#define UIntToPtr(ui) ((PVOID)(UINT_PTR)(UINT)(ui))
#define IntToPtr(i) ((PVOID)(INT_PTR)(INT)(i))
#define PtrToUlong(p) ((ULONG)(ULONG_PTR)(p))
#define PtrToLong(p) ((LONG)(LONG_PTR)(p))
#define PtrToUint(p) ((UINT)(UINT_PTR)(p))
#define PtrToInt(p) ((INT)(INT_PTR)(p))
#define HandleToULong(h) ((ULONG)(ULONG_PTR)(h))

#define UNREFERENCED_PARAMETER(p) ((void)(p))
#define DBG_UNREFERENCED_PARAMETER(p) ((void)(p))
#define DBG_UNREFERENCED_LOCAL_VARIABLE(v) ((void)(v))
#define FIELD_OFFSET(type, field) ((LONG)offsetof(type, field))
#define RTL_FIELD_SIZE(type, field) (sizeof(((type *)0)->field))
#define RTL_NUMBER_OF(a) (sizeof(a) / sizeof((a)[0]))
#define ARRAYSIZE(a) RTL_NUMBER_OF(a)
#define CONTAINING_RECORD(address, type, field) ((type *)((char *)(address) - offsetof(type, field)))
#define C_ASSERT(e) typedef char KSL_WDK_CAT_(ksl_c_assert_, __LINE__)[(e) ? 1 : -1] __attribute__((unused))
#define KSL_WDK_CAT_(a, b) KSL_WDK_CAT2_(a, b)
#define KSL_WDK_CAT2_(a, b) a##b
#define MAKELONG(lo, hi) ((LONG)(((WORD)(lo)) | (((DWORD)((WORD)(hi))) << 16)))
#define LOWORD(l) ((WORD)(((DWORD_PTR)(l)) & 0xffff))
#define HIWORD(l) ((WORD)((((DWORD_PTR)(l)) >> 16) & 0xffff))
#define LOBYTE(w) ((BYTE)(((DWORD_PTR)(w)) & 0xff))
#define HIBYTE(w) ((BYTE)((((DWORD_PTR)(w)) >> 8) & 0xff))
#if !defined(NOMINMAX) && !defined(min) && !defined(max)
#define min(a, b) (((a) < (b)) ? (a) : (b))
#define max(a, b) (((a) > (b)) ? (a) : (b))
#endif

/* ---- SAL and driver annotations: documentation only ------------------------------------- */

#define _In_
#define _In_opt_
#define _In_z_
#define _In_opt_z_
#define _In_reads_(n)
#define _In_reads_opt_(n)
#define _In_reads_bytes_(n)
#define _In_reads_bytes_opt_(n)
#define _Out_
#define _Out_opt_
#define _Out_writes_(n)
#define _Out_writes_opt_(n)
#define _Out_writes_bytes_(n)
#define _Out_writes_bytes_opt_(n)
#define _Out_writes_to_(n, m)
#define _Out_writes_bytes_to_(n, m)
#define _Out_writes_bytes_to_opt_(n, m)
#define _Out_writes_bytes_all_(n)
#define _Inout_
#define _Inout_opt_
#define _Inout_updates_(n)
#define _Inout_updates_bytes_(n)
#define _Outptr_
#define _COM_Outptr_
#define _COM_Outptr_opt_
#define _COM_Outptr_result_maybenull_
#define _In_range_(a, b)
#define _Out_range_(a, b)
#define _Deref_out_range_(a, b)
#define _Ret_range_(a, b)
#define _In_count_(n)
#define _In_bytecount_(n)
#define _Out_cap_(n)
#define _Out_bytecap_(n)
#define _Inout_z_
#define _Post_z_
#define _Out_z_cap_(n)
#define _Ret_z_
#define _Pre_
#define _Post_
#define _Deref_pre_
#define _Deref_post_
#define _Valid_
#define _Notnull_
#define _Maybenull_
#define _Readable_bytes_(n)
#define _Writable_bytes_(n)
#define _Const_
#define _Out_writes_z_(n)
#define _In_reads_z_(n)
#define _Inout_updates_z_(n)
#define _Outptr_result_buffer_(n)
#define _Outptr_opt_result_maybenull_
#define _Result_nullonfailure_
#define _Result_zeroonfailure_
#define _Ret_writes_bytes_maybenull_(n)
#define _Post_writable_size_(n)
#define _Pre_writable_size_(n)
#define _Pre_readable_size_(n)
#define _Pre_writable_byte_size_(n)
#define _Pre_readable_byte_size_(n)
#define _Must_inspect_impl_
#define _Enum_is_bitflag_
#define _Strict_type_match_
#define _Has_lock_kind_(k)
#define _Has_lock_level_(l)
#define _Lock_level_order_(a, b)
#define _Create_lock_level_(l)
#define _Kernel_clear_do_init_(y)
#define _Kernel_requires_resource_held_(r)
#define _Kernel_requires_resource_not_held_(r)
#define _Kernel_acquires_resource_(r)
#define _Kernel_releases_resource_(r)
#define _Kernel_IoGetDmaAdapter_
#define _When_wdm_
#define _Outptr_opt_
#define _Outptr_result_maybenull_
#define _Outptr_result_bytebuffer_(n)
#define _Ret_maybenull_
#define _Ret_notnull_
#define _Must_inspect_result_
#define _Check_return_
#define _Success_(e)
#define _When_(c, a)
#define _At_(t, a)
#define _Pre_notnull_
#define _Post_invalid_
#define _Post_writable_byte_size_(n)
#define _Field_size_(n)
#define _Field_size_bytes_(n)
#define _Field_range_(a, b)
#define _Struct_size_bytes_(n)
#define _Null_terminated_
#define _Use_decl_annotations_
#define _Analysis_assume_(e)
#define _Function_class_(n)
#define _Dispatch_type_(t)
#define _Kernel_float_saved_
#define _Kernel_float_restored_
#define _IRQL_requires_(i)
#define _IRQL_requires_max_(i)
#define _IRQL_requires_min_(i)
#define _IRQL_requires_same_
#define _IRQL_raises_(i)
#define _IRQL_saves_
#define _IRQL_restores_
#define _IRQL_saves_global_(k, p)
#define _IRQL_restores_global_(k, p)
#define _IRQL_always_function_min_(i)
#define _IRQL_always_function_max_(i)
#define _IRQL_uses_cancel_
#define _Requires_lock_held_(l)
#define _Requires_lock_not_held_(l)
#define _Acquires_lock_(l)
#define _Releases_lock_(l)
#define _Releases_exclusive_lock_(l)
#define _Acquires_exclusive_lock_(l)
#define _Guarded_by_(l)
#define _Interlocked_
#define _Interlocked_operand_
#define _Literal_
#define _Notliteral_
#define _Strict_type_match_
#define _Points_to_data_
#define _Post_satisfies_(e)
#define _Pre_satisfies_(e)
#define _Frees_ptr_
#define _Frees_ptr_opt_
#define _Post_maybenull_
#define _Post_notnull_
#define _Printf_format_string_
#define _Reserved_
#define __drv_aliasesMem
#define __drv_allocatesMem(k)
#define __drv_freesMem(k)
#define __drv_when(c, a)
#define __drv_reportError(m)
#define __drv_maxIRQL(i)
#define __drv_minIRQL(i)
#define __drv_requiresIRQL(i)
#define __drv_setsIRQL(i)
#define __drv_savesIRQL
#define __drv_restoresIRQL
#define __drv_raisesIRQL(i)
#define __drv_dispatchType(t)
#define __drv_functionClass(n)
#define __drv_sameIRQL
#define __drv_strictTypeMatch(m)
#define __drv_useCancelIRQL
#define __drv_inTry
#define __drv_arg(e, a)
#define __drv_in(a)
#define __drv_out(a)
#define __drv_valueIs(a)
#define __in
#define __in_opt
#define __out
#define __out_opt
#define __inout
#define __inout_opt
#define __in_bcount(n)
#define __out_bcount(n)
#define __deref_out
#define __checkReturn

#endif
