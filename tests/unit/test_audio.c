/* SPDX-License-Identifier: MIT */
/* Audio I/O: WAV files survive a round trip bit-exact, bad files are refused with a message that
 * names the file and the problem, a failed write leaves the target as it was; the stream hash does
 * not depend on how the stream is cut; the test signal is deterministic and shows any edit; the
 * capture sink and the tape source do what they say. */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

#include <kslab/audio.h>

static char g_dir[64];

static int make_dir(void **state)
{
    (void)state;
    strcpy(g_dir, "/tmp/kslab_audio_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static void empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    char p[512];
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            empty_dir(p);
            rmdir(p);
        } else {
            unlink(p);
        }
    }
    closedir(d);
}

static int remove_dir(void **state)
{
    (void)state;
    empty_dir(g_dir);
    return rmdir(g_dir);
}

/* A fresh, empty test directory for each test. */
static int clean_dir(void **state)
{
    (void)state;
    empty_dir(g_dir);
    return 0;
}

static void path_of(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", g_dir, name);
}

static size_t entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
    closedir(d);
    return n;
}

/* Open file descriptors of this process (less the one that counts them). */
static size_t open_fds(void)
{
    return entries("/proc/self/fd") - 1;
}

/* The whole contents of a file; *len gets its size. */
static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    uint8_t *p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

static void assert_contains(const char *msg, const char *words)
{
    if (!strstr(msg, words)) {
        fprintf(stderr, "message '%s' lacks '%s'\n", msg, words);
        fail();
    }
}

/* ---- WAV files ---- */

static void round_trip(uint32_t rate, uint16_t channels, size_t frames, uint64_t seed)
{
    ksl_pcm a, b;
    char path[256], err[512];
    snprintf(path, sizeof path, "%s/rt_%u_%u.wav", g_dir, (unsigned)rate, (unsigned)channels);
    assert_int_equal(ksl_pcm_generate(&a, rate, channels, frames, seed), 0);
    assert_int_equal(ksl_wav_write(path, &a, err, sizeof err), 0);
    assert_int_equal(ksl_wav_read(path, &b, err, sizeof err), 0);
    assert_int_equal(b.rate, rate);
    assert_int_equal(b.channels, channels);
    assert_int_equal(b.frames, frames);
    assert_memory_equal(b.samples, a.samples, ksl_pcm_bytes(&a));
    /* A new file is readable by others, like any file a tool writes. */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    ksl_pcm_free(&a);
    ksl_pcm_free(&b);
    assert_null(b.samples);
}

static void test_wav_round_trip(void **state)
{
    (void)state;
    round_trip(8000, 1, 8000, 1);
    round_trip(44100, 2, 44100, 2);
    round_trip(48000, 8, 4800, 3);     /* more than two channels: WAVE_FORMAT_EXTENSIBLE */
    round_trip(48000, 2, 1, 4);        /* one frame */
    /* The temporaries are gone: only the four files. */
    assert_int_equal(entries(g_dir), 4);
}

static void test_wav_overwrite(void **state)
{
    (void)state;
    char path[256], err[512];
    path_of(path, sizeof path, "over.wav");
    ksl_pcm a, b, c;
    assert_int_equal(ksl_pcm_generate(&a, 8000, 1, 4000, 1), 0);
    assert_int_equal(ksl_pcm_generate(&b, 16000, 2, 100, 2), 0);
    assert_int_equal(ksl_wav_write(path, &a, err, sizeof err), 0);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(ksl_wav_write(path, &b, err, sizeof err), 0);
    assert_int_equal(ksl_wav_read(path, &c, err, sizeof err), 0);
    assert_int_equal(c.rate, 16000);
    assert_int_equal(c.frames, 100);
    assert_memory_equal(c.samples, b.samples, ksl_pcm_bytes(&b));
    /* The replaced file's mode is kept. */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(entries(g_dir), 1);
    ksl_pcm_free(&a);
    ksl_pcm_free(&b);
    ksl_pcm_free(&c);
}

static void expect_read_refused(const char *path, const char *words)
{
    ksl_pcm p;
    char err[512] = "";
    memset(&p, 0x5A, sizeof p);
    assert_int_equal(ksl_wav_read(path, &p, err, sizeof err), -1);
    assert_contains(err, words);
    assert_contains(err, path);
    assert_null(p.samples);
    assert_int_equal(p.frames, 0);
}

/* Write a file with libsndfile directly: `frames` frames of a ramp. */
static void write_sf(const char *path, int format, int channels, int frames)
{
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = 48000;
    info.channels = channels;
    info.format = format;
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f) {
        fprintf(stderr, "cannot make '%s': %s\n", path, sf_strerror(NULL));
        fail();
    }
    int n = frames * channels;
    short *s = calloc((size_t)n + 1, sizeof *s);
    assert_non_null(s);
    for (int i = 0; i < n; i++)
        s[i] = (short)(i * 7);
    assert_int_equal(sf_writef_short(f, s, frames), frames);
    free(s);
    assert_int_equal(sf_close(f), 0);
}

static void test_wav_read_refusals(void **state)
{
    (void)state;
    char path[256], want[512], err[512];
    size_t fds = open_fds();

    path_of(path, sizeof path, "missing.wav");
    snprintf(want, sizeof want, "cannot open '%s': No such file or directory", path);
    expect_read_refused(path, want);

    path_of(path, sizeof path, "text.wav");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("This is not audio.  It is a text file with a .wav name.\n", f);
    fclose(f);
    snprintf(want, sizeof want, "'%s' is not a WAV file (", path);
    expect_read_refused(path, want);

    /* A good WAV of 1000 frames cut 1001 bytes short: 499 whole frames left. */
    path_of(path, sizeof path, "cut.wav");
    ksl_pcm a;
    assert_int_equal(ksl_pcm_generate(&a, 8000, 1, 1000, 9), 0);
    assert_int_equal(ksl_wav_write(path, &a, err, sizeof err), 0);
    ksl_pcm_free(&a);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, st.st_size - 1001), 0);
    snprintf(want, sizeof want, "'%s' is truncated: header says 1000 frames, 499 readable", path);
    expect_read_refused(path, want);
    /* Cut to the header alone: still truncated, not "no frames". */
    assert_int_equal(truncate(path, st.st_size - 2000), 0);
    snprintf(want, sizeof want, "'%s' is truncated: header says 1000 frames, 0 readable", path);
    expect_read_refused(path, want);

    path_of(path, sizeof path, "pcm24.wav");
    write_sf(path, SF_FORMAT_WAV | SF_FORMAT_PCM_24, 2, 100);
    snprintf(want, sizeof want, "'%s' holds 24-bit PCM; kslab plays 16-bit PCM", path);
    expect_read_refused(path, want);

    path_of(path, sizeof path, "float.wav");
    write_sf(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 2, 100);
    snprintf(want, sizeof want, "'%s' holds 32-bit float data; kslab plays 16-bit PCM", path);
    expect_read_refused(path, want);

    path_of(path, sizeof path, "u8.wav");
    write_sf(path, SF_FORMAT_WAV | SF_FORMAT_PCM_U8, 1, 100);
    snprintf(want, sizeof want, "'%s' holds 8-bit PCM; kslab plays 16-bit PCM", path);
    expect_read_refused(path, want);

    path_of(path, sizeof path, "empty.wav");
    write_sf(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 2, 0);
    snprintf(want, sizeof want, "'%s' has no audio frames", path);
    expect_read_refused(path, want);

    path_of(path, sizeof path, "nine.wav");
    write_sf(path, SF_FORMAT_WAVEX | SF_FORMAT_PCM_16, 9, 10);
    snprintf(want, sizeof want, "'%s' has 9 channels; kslab plays 1 to 8", path);
    expect_read_refused(path, want);

    path_of(path, sizeof path, "tone.aiff");
    write_sf(path, SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 1, 10);
    snprintf(want, sizeof want, "'%s' is not a WAV file (it is AIFF", path);
    expect_read_refused(path, want);

    snprintf(want, sizeof want, "cannot read '%s': it is a directory", g_dir);
    expect_read_refused(g_dir, want);

    /* libsndfile's own 16-bit WAVE_FORMAT_EXTENSIBLE is accepted. */
    path_of(path, sizeof path, "wavex.wav");
    write_sf(path, SF_FORMAT_WAVEX | SF_FORMAT_PCM_16, 2, 10);
    assert_int_equal(ksl_wav_read(path, &a, err, sizeof err), 0);
    assert_int_equal(a.frames, 10);
    assert_int_equal(a.samples[19], 19 * 7);
    ksl_pcm_free(&a);
    /* No refusal leaks a descriptor. */
    assert_int_equal(open_fds(), fds);
}

/* Bytes of a WAV file written by hand: RIFF header, a 16-byte fmt chunk (16-bit PCM), a data
 * chunk of `data` bytes; the buffer holds `have` data bytes. */
static size_t hand_wav(uint8_t *b, uint32_t riff, uint32_t channels, uint32_t data, uint32_t have)
{
    uint32_t rate = 8000, block = channels * 2;
    size_t n = 0;
#define PUT4(v) (b[n] = (uint8_t)(v), b[n + 1] = (uint8_t)((v) >> 8), b[n + 2] = (uint8_t)((v) >> 16), b[n + 3] = (uint8_t)((v) >> 24), n += 4)
#define PUT2(v) (b[n] = (uint8_t)(v), b[n + 1] = (uint8_t)((v) >> 8), n += 2)
    memcpy(b + n, "RIFF", 4), n += 4;
    PUT4(riff);
    memcpy(b + n, "WAVEfmt ", 8), n += 8;
    PUT4(16u);
    PUT2(1u);
    PUT2(channels);
    PUT4(rate);
    PUT4(rate * block);
    PUT2(block);
    PUT2(16u);
    memcpy(b + n, "data", 4), n += 4;
    PUT4(data);
    for (uint32_t i = 0; i < have; i++)
        b[n++] = (uint8_t)i;
#undef PUT4
#undef PUT2
    return n;
}

static void expect_parse_refused(const void *bytes, size_t n, const char *words)
{
    ksl_pcm p;
    char err[512] = "";
    assert_int_equal(ksl_wav_parse(bytes, n, "in.wav", &p, err, sizeof err), -1);
    assert_contains(err, words);
    assert_null(p.samples);
}

/* The RIFF structure is checked before libsndfile sees a file, and every refusal names the byte
 * where the structure breaks.  The first file is 52 bytes that make libsndfile 1.2.0 loop forever
 * (a LIST chunk that claims 4 GiB): it must be refused at once. */
static void test_wav_structure(void **state)
{
    (void)state;
    static const char hang_b64[] = "UklGRjoAAABXQVZFTElTVAX//////////////xwAAAAAAAAA//8AAf//////////3////w==";
    uint8_t hang[64];
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (const char *c = hang_b64; *c && *c != '='; c++) {
        const char *tab = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        acc = (acc << 6) | (uint32_t)(strchr(tab, *c) - tab);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            hang[n++] = (uint8_t)(acc >> bits);
        }
    }
    assert_int_equal(n, 52);
    expect_parse_refused(hang, n, "byte 12: the 'LIST' chunk claims 4294967045 bytes, but only 32 remain");
    char path[256];
    path_of(path, sizeof path, "hang.wav");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(hang, 1, n, f), n);
    fclose(f);
    ksl_pcm p;
    char err[512];
    assert_int_equal(ksl_wav_read(path, &p, err, sizeof err), -1);
    assert_contains(err, "is not a WAV file kslab can read: byte 12:");

    uint8_t b[256];
    /* fine: 10 stereo frames */
    n = hand_wav(b, 36 + 40, 2, 40, 40);
    char err2[256];
    assert_int_equal(ksl_wav_parse(b, n, "ok.wav", &p, err2, sizeof err2), 0);
    assert_int_equal(p.frames, 10);
    ksl_pcm_free(&p);
    /* a streaming writer's unknown data length: the rest of the file */
    n = hand_wav(b, 0xFFFFFFFFu, 2, 0xFFFFFFFFu, 40);
    assert_int_equal(ksl_wav_parse(b, n, "stream.wav", &p, err2, sizeof err2), 0);
    assert_int_equal(p.frames, 10);
    ksl_pcm_free(&p);
    /* the data chunk claims more than there is */
    n = hand_wav(b, 36 + 40, 2, 400, 40);
    expect_parse_refused(b, n, "truncated: header says 100 frames, 10 readable (byte 36: the 'data' chunk claims 400");
    /* a block size of 0 */
    n = hand_wav(b, 36 + 40, 0, 40, 40);
    expect_parse_refused(b, n, "byte 32: the 'fmt ' chunk gives a block size of 0");
    /* garbage where a chunk header should be */
    n = hand_wav(b, 36 + 40, 2, 40, 40);
    memcpy(b + 12, "\x01\x02\x03\x04", 4);
    expect_parse_refused(b, n, "byte 12: no chunk starts here (bytes 01 02 03 04)");
    /* data before fmt */
    n = hand_wav(b, 36 + 40, 2, 40, 40);
    memcpy(b + 12, "data", 4);
    expect_parse_refused(b, n, "byte 12: the 'data' chunk comes before any 'fmt ' chunk");
    /* no data chunk at all */
    n = hand_wav(b, 36 + 40, 2, 40, 40);
    memcpy(b + 36, "junk", 4);
    expect_parse_refused(b, n, "the file ends without a 'data' chunk");
    /* too short, not RIFF, RIFF of another form */
    expect_parse_refused("RIFF", 4, "too short for a RIFF header");
    expect_parse_refused("FORM\0\0\0\020AIFFCOMM", 16, "(it is AIFF");
    expect_parse_refused("RIFF\x04\0\0\0AVI LIST", 16, "a RIFF file of form 'AVI ', not 'WAVE'");
}

static void test_wav_write_failures(void **state)
{
    (void)state;
    char path[256], want[512], err[512];
    size_t fds = open_fds();
    ksl_pcm a;
    assert_int_equal(ksl_pcm_generate(&a, 48000, 2, 48000, 5), 0);

    /* Into a directory that does not exist: refused, nothing created. */
    path_of(path, sizeof path, "nodir/x.wav");
    assert_int_equal(ksl_wav_write(path, &a, err, sizeof err), -1);
    snprintf(want, sizeof want, "cannot write '%s': its folder '%s/nodir' does not exist", path, g_dir);
    assert_contains(err, want);
    assert_int_equal(entries(g_dir), 0);

    /* Over a directory: refused before anything is written. */
    path_of(path, sizeof path, "adir");
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(ksl_wav_write(path, &a, err, sizeof err), -1);
    snprintf(want, sizeof want, "cannot write '%s'", path);
    assert_contains(err, want);
    assert_int_equal(entries(g_dir), 1);
    assert_int_equal(rmdir(path), 0);

    /* Over an existing file, with the disk "full" half way (the file size limit; root ignores
     * permissions, not this): the old file is byte-identical and no temporary is left. */
    path_of(path, sizeof path, "keep.wav");
    ksl_pcm small;
    assert_int_equal(ksl_pcm_generate(&small, 8000, 1, 100, 6), 0);
    assert_int_equal(ksl_wav_write(path, &small, err, sizeof err), 0);
    size_t n0, n1;
    uint8_t *before = slurp(path, &n0);
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 64 * 1024;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int rc = ksl_wav_write(path, &a, err, sizeof err);     /* 192 000 bytes of data */
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, prev);
    assert_int_equal(rc, -1);
    snprintf(want, sizeof want, "cannot write '%s': File too large", path);
    assert_contains(err, want);
    uint8_t *after = slurp(path, &n1);
    assert_int_equal(n1, n0);
    assert_memory_equal(after, before, n0);
    assert_int_equal(entries(g_dir), 1);
    free(before);
    free(after);

    /* What the reader would refuse is not written. */
    ksl_pcm bad = a;
    bad.channels = 0;
    path_of(path, sizeof path, "bad.wav");
    assert_int_equal(ksl_wav_write(path, &bad, err, sizeof err), -1);
    assert_contains(err, "0 channels");
    bad.channels = 9;
    assert_int_equal(ksl_wav_write(path, &bad, err, sizeof err), -1);
    bad.channels = 2;
    bad.rate = 0;
    assert_int_equal(ksl_wav_write(path, &bad, err, sizeof err), -1);
    assert_int_equal(entries(g_dir), 1);

    ksl_pcm_free(&small);
    ksl_pcm_free(&a);
    assert_int_equal(open_fds(), fds);
}

/* ---- the stream hash ---- */

static void fill_random(uint8_t *p, size_t n, uint64_t x)
{
    for (size_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = (uint8_t)(x >> 56);
    }
}

static uint64_t hash_cut(const uint8_t *p, size_t n, size_t a, size_t b)
{
    ksl_hash64 h;
    ksl_hash64_init(&h);
    ksl_hash64_update(&h, p, a);
    ksl_hash64_update(&h, p + a, b - a);
    ksl_hash64_update(&h, p + b, n - b);
    return ksl_hash64_final(&h);
}

static void test_hash_cuts(void **state)
{
    (void)state;
    uint8_t buf[131];
    fill_random(buf, sizeof buf, 1);
    for (size_t n = 0; n <= sizeof buf; n++) {
        uint64_t whole = ksl_hash64_of(buf, n);
        /* Every single cut 0..n, and for short streams every pair of cuts. */
        for (size_t a = 0; a <= n; a++)
            assert_true(hash_cut(buf, n, a, a) == whole);
        if (n <= 40)
            for (size_t a = 0; a <= n; a++)
                for (size_t b = a; b <= n; b++)
                    assert_true(hash_cut(buf, n, a, b) == whole);
        /* One byte at a time, with final() taken on the way (it does not disturb the state). */
        ksl_hash64 h;
        ksl_hash64_init(&h);
        for (size_t i = 0; i < n; i++) {
            ksl_hash64_update(&h, buf + i, 1);
            assert_true(ksl_hash64_final(&h) == ksl_hash64_of(buf, i + 1));
        }
        assert_true(ksl_hash64_final(&h) == whole);
        assert_true(h.length == n);
    }
}

static void test_hash_differs(void **state)
{
    (void)state;
    /* Known answers: the value of the empty stream (and of one short one) is pinned, so the
     * construction cannot change silently (a Python transcription of the comment in hash.c gives the
     * same values); the NULL pointer is fine for no bytes. */
    assert_true(ksl_hash64_of(NULL, 0) == 0xEC22B4F201A3E9F9ull);
    assert_true(ksl_hash64_of("kslab", 5) == 0xEAFEABA01F7149D2ull);

    enum { N = 64 };
    uint8_t buf[N];
    fill_random(buf, N, 2);
    uint64_t base = ksl_hash64_of(buf, N);
    /* Every one-bit flip gives a hash of its own. */
    uint64_t seen[N * 8];
    for (size_t i = 0; i < N * 8; i++) {
        buf[i / 8] ^= (uint8_t)(1u << (i % 8));
        seen[i] = ksl_hash64_of(buf, N);
        buf[i / 8] ^= (uint8_t)(1u << (i % 8));
        assert_true(seen[i] != base);
        for (size_t j = 0; j < i; j++)
            assert_true(seen[j] != seen[i]);
    }
    /* Two adjacent 16-bit samples swapped. */
    for (size_t i = 0; i + 4 <= N; i += 2) {
        uint8_t t[N];
        memcpy(t, buf, N);
        if (!memcmp(t + i, t + i + 2, 2))
            continue;
        memcpy(t + i, buf + i + 2, 2);
        memcpy(t + i + 2, buf + i, 2);
        assert_true(ksl_hash64_of(t, N) != base);
    }
    /* Trailing zero bytes count: lengths differ, hashes differ. */
    uint8_t z[16] = {0};
    for (size_t n = 0; n < sizeof z; n++)
        assert_true(ksl_hash64_of(z, n) != ksl_hash64_of(z, n + 1));
}

/* ---- the test signal ---- */

static void test_generate(void **state)
{
    (void)state;
    ksl_pcm a, b, c;
    assert_int_equal(ksl_pcm_generate(&a, 48000, 2, 48000, 42), 0);
    assert_int_equal(ksl_pcm_generate(&b, 48000, 2, 48000, 42), 0);
    assert_int_equal(ksl_pcm_generate(&c, 48000, 2, 48000, 43), 0);
    assert_int_equal(a.rate, 48000);
    assert_int_equal(a.channels, 2);
    assert_int_equal(a.frames, 48000);
    assert_memory_equal(a.samples, b.samples, ksl_pcm_bytes(&a));
    assert_memory_not_equal(a.samples, c.samples, ksl_pcm_bytes(&a));

    int peak[2] = {0, 0};
    size_t same_lr = 0;
    for (size_t i = 0; i < a.frames; i++) {
        const int16_t *f = a.samples + 2 * i;
        if (i) {
            /* No frame, and indeed no sample within its channel, repeats the one before. */
            assert_true(f[0] != f[-2]);
            assert_true(f[1] != f[-1]);
        }
        same_lr += f[0] == f[1];
        for (int k = 0; k < 2; k++)
            peak[k] = abs(f[k]) > peak[k] ? abs(f[k]) : peak[k];
    }
    /* About -6 dBFS; the channels are different signals. */
    for (int k = 0; k < 2; k++)
        assert_true(peak[k] > 16000 && peak[k] < 16500);
    assert_true(same_lr < a.frames / 100);

    /* A prefix is a prefix: frames do not depend on how many are asked for. */
    ksl_pcm d;
    assert_int_equal(ksl_pcm_generate(&d, 48000, 2, 1000, 42), 0);
    assert_memory_equal(d.samples, a.samples, ksl_pcm_bytes(&d));
    ksl_pcm_free(&d);

    /* Dropping, repeating or swapping one frame anywhere changes the hash of the stream. */
    size_t bytes = ksl_pcm_bytes(&a), fb = 4;
    uint64_t h = ksl_hash64_of(a.samples, bytes);
    uint8_t *t = malloc(bytes + fb);
    assert_non_null(t);
    const uint8_t *src = (const uint8_t *)a.samples;
    for (size_t i = 1; i < a.frames; i += 4999) {
        memcpy(t, src, i * fb);                                 /* frame i dropped */
        memcpy(t + i * fb, src + (i + 1) * fb, bytes - (i + 1) * fb);
        assert_true(ksl_hash64_of(t, bytes - fb) != h);
        memcpy(t, src, (i + 1) * fb);                           /* frame i repeated */
        memcpy(t + (i + 1) * fb, src + i * fb, bytes - i * fb);
        assert_true(ksl_hash64_of(t, bytes + fb) != h);
        memcpy(t, src, bytes);                                  /* frames i-1 and i swapped */
        memcpy(t + (i - 1) * fb, src + i * fb, fb);
        memcpy(t + i * fb, src + (i - 1) * fb, fb);
        assert_true(ksl_hash64_of(t, bytes) != h);
    }
    free(t);

    /* Every channel count and some odd rates work; nonsense is refused. */
    for (uint16_t ch = 1; ch <= 8; ch++) {
        ksl_pcm e;
        assert_int_equal(ksl_pcm_generate(&e, 8000, ch, 800, ch), 0);
        for (size_t i = 1; i < e.frames; i++)
            for (uint16_t k = 0; k < ch; k++)
                assert_true(e.samples[i * ch + k] != e.samples[(i - 1) * ch + k]);
        ksl_pcm_free(&e);
    }
    ksl_pcm e;
    assert_int_equal(ksl_pcm_generate(&e, 1, 3, 10, 0), 0);
    ksl_pcm_free(&e);
    assert_int_equal(ksl_pcm_generate(&e, 192000, 2, 10, 0), 0);
    ksl_pcm_free(&e);
    assert_int_equal(ksl_pcm_generate(&e, 48000, 2, 0, 0), 0);
    assert_null(e.samples);
    assert_int_equal(ksl_pcm_generate(&e, 0, 2, 10, 0), -1);
    assert_int_equal(ksl_pcm_generate(&e, 48000, 0, 10, 0), -1);
    assert_int_equal(ksl_pcm_generate(&e, 48000, 2, SIZE_MAX / 2, 0), -1);

    ksl_pcm_free(&a);
    ksl_pcm_free(&b);
    ksl_pcm_free(&c);
}

/* ---- sinks and sources ---- */

static void test_capture_sink(void **state)
{
    (void)state;
    uint8_t buf[20000];
    fill_random(buf, sizeof buf, 3);
    static const size_t cuts[] = {0, 1, 7, 4096, 4097, 9000, 19999, 20000};
    for (int keep = 0; keep <= 1; keep++) {
        ksl_capture_sink s;
        ksl_capture_sink_init(&s, keep);
        ksl_pcm_sink k = ksl_capture_sink_as_sink(&s);
        assert_ptr_equal(k.ctx, &s);
        for (size_t i = 1; i < sizeof cuts / sizeof cuts[0]; i++)
            k.put(k.ctx, buf + cuts[i - 1], cuts[i] - cuts[i - 1]);
        assert_true(ksl_hash64_final(&s.hash) == ksl_hash64_of(buf, sizeof buf));
        assert_false(s.oom);
        if (keep) {
            assert_int_equal(s.len, sizeof buf);
            assert_true(s.cap >= s.len);
            assert_memory_equal(s.data, buf, sizeof buf);
        } else {
            assert_int_equal(s.len, 0);
            assert_null(s.data);
        }
        ksl_capture_sink_free(&s);
        assert_null(s.data);
        assert_int_equal(s.len, 0);
    }

    /* A keep allocation that cannot be made (here: the length would overflow): oom is set, the
     * bytes kept so far stay, nothing more is kept, and hashing goes on. */
    ksl_capture_sink s;
    ksl_capture_sink_init(&s, true);
    ksl_pcm_sink k = ksl_capture_sink_as_sink(&s);
    k.put(k.ctx, buf, 100);
    size_t real_len = s.len;
    s.len = SIZE_MAX - 50;
    k.put(k.ctx, buf + 100, 100);
    assert_true(s.oom);
    assert_int_equal(s.len, SIZE_MAX - 50);
    s.len = real_len;
    k.put(k.ctx, buf + 200, 100);
    assert_int_equal(s.len, 100);
    assert_memory_equal(s.data, buf, 100);
    assert_true(ksl_hash64_final(&s.hash) == ksl_hash64_of(buf, 300));
    ksl_capture_sink_free(&s);
}

static void test_tape_source(void **state)
{
    (void)state;
    uint8_t tape[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    ksl_tape_source t;
    ksl_tape_source_init(&t, tape, sizeof tape);
    ksl_pcm_source src = ksl_tape_source_as_source(&t);
    assert_ptr_equal(src.ctx, &t);
    uint8_t out[8];

    memset(out, 0xEE, sizeof out);
    src.get(src.ctx, out, 4);
    assert_memory_equal(out, tape, 4);
    assert_int_equal(t.pos, 4);
    assert_int_equal(t.zeros, 0);

    memset(out, 0xEE, sizeof out);
    src.get(src.ctx, out, 8);                   /* 6 from the tape, then 2 zeros */
    static const uint8_t want[8] = {5, 6, 7, 8, 9, 10, 0, 0};
    assert_memory_equal(out, want, 8);
    assert_int_equal(t.pos, 12);
    assert_int_equal(t.zeros, 2);

    memset(out, 0xEE, sizeof out);
    src.get(src.ctx, out, 5);                   /* past the end: all zeros */
    static const uint8_t zeros[8] = {0};
    assert_memory_equal(out, zeros, 5);
    assert_int_equal(out[5], 0xEE);
    assert_int_equal(t.pos, 17);
    assert_int_equal(t.zeros, 7);

    src.get(src.ctx, out, 0);
    assert_int_equal(t.pos, 17);

    /* An empty tape plays silence. */
    ksl_tape_source_init(&t, NULL, 0);
    src = ksl_tape_source_as_source(&t);
    memset(out, 0xEE, sizeof out);
    src.get(src.ctx, out, 8);
    assert_memory_equal(out, zeros, 8);
    assert_int_equal(t.zeros, 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_wav_round_trip, clean_dir),
        cmocka_unit_test_setup(test_wav_overwrite, clean_dir),
        cmocka_unit_test_setup(test_wav_read_refusals, clean_dir),
        cmocka_unit_test_setup(test_wav_write_failures, clean_dir),
        cmocka_unit_test_setup(test_wav_structure, clean_dir),
        cmocka_unit_test(test_hash_cuts),
        cmocka_unit_test(test_hash_differs),
        cmocka_unit_test(test_generate),
        cmocka_unit_test(test_capture_sink),
        cmocka_unit_test(test_tape_source),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
