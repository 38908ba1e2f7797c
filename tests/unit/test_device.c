/* SPDX-License-Identifier: MIT */
/*
 * The device-model hook: port ranges, the access cost charged to the CPU, device events on the
 * virtual clock, and findings a device reports — from an event (on no CPU) and from a register
 * access (on the CPU that made it) — on both executors.
 */
#include "harness.h"

#include <string.h>

#include <kslab/device.h>
#include <kslab/wdk/wdm.h>

#define PROBE_BASE 0x4000u
#define PROBE_REG_DATA 0x0u      /* R/W: a value; writing PROBE_BAD reports a finding */
#define PROBE_REG_ALARM 0x4u     /* W: report a finding from a device event this many ns later */
#define PROBE_BAD 0xDEADu
#define PROBE_COST_NS 3000u

typedef struct probe {
    ksl_device *dev;
    uint32_t data;
    uint64_t event_at;
    uint32_t events;
} probe;

static uint32_t probe_read(void *dev, uint32_t off, unsigned width, uint64_t now)
{
    (void)width;
    (void)now;
    const probe *p = dev;
    return off == PROBE_REG_DATA ? p->data : 0;
}

static void probe_write(void *dev, uint32_t off, unsigned width, uint32_t value, uint64_t now)
{
    (void)width;
    probe *p = dev;
    if (off == PROBE_REG_DATA) {
        p->data = value;
        if (value == PROBE_BAD)
            ksl_report("T.device-register", __FILE__, __LINE__, "bad value 0x%x written", value);
    } else if (off == PROBE_REG_ALARM) {
        ksl_device_schedule(p->dev, now + value, 7);
    }
}

static void probe_event(void *dev, uint64_t cookie, uint64_t now)
{
    probe *p = dev;
    p->events++;
    p->event_at = now;
    if (cookie == 7)
        ksl_report("T.device-event", __FILE__, __LINE__, "alarm at %llu ns", (unsigned long long)now);
}

static const ksl_device_ops probe_ops = {KSL_DEVICE_OPS_VERSION, "probe", probe_read, probe_write, probe_event,
                                         PROBE_COST_NS};

typedef struct dev_state {
    probe p;
    int mode;               /* 0: costs, 1: bad register write, 2: alarm event */
    ULONG read_back;
    ULONGLONG t0, t1;
    volatile int after;     /* set after the action: must stay 0 when the finding stops the run */
} dev_state;

static void dev_thread(void *arg)
{
    dev_state *s = arg;
    switch (s->mode) {
    case 0:
        s->t0 = KeQueryInterruptTime();
        WRITE_PORT_ULONG(PROBE_BASE + PROBE_REG_DATA, 1234u);
        s->read_back = READ_PORT_ULONG(PROBE_BASE + PROBE_REG_DATA);
        s->t1 = KeQueryInterruptTime();
        break;
    case 1:
        WRITE_PORT_ULONG(PROBE_BASE + PROBE_REG_DATA, PROBE_BAD);
        s->after = 1;
        break;
    default:
        WRITE_PORT_ULONG(PROBE_BASE + PROBE_REG_ALARM, 5000u);
        for (int i = 0; i < 1000; i++)
            KeStallExecutionProcessor(1);
        s->after = 1;
        break;
    }
}

static void dev_setup(ksl_engine *e, void *arg)
{
    dev_state *s = arg;
    s->p.dev = ksl_device_attach(e, &probe_ops, &s->p, PROBE_BASE, 0x10);
    assert_non_null(s->p.dev);
    assert_int_equal(ksl_device_base(s->p.dev), PROBE_BASE);
    /* Ranges may not overlap; a wrong ops version is refused. */
    assert_null(ksl_device_attach(e, &probe_ops, &s->p, PROBE_BASE + 8, 0x10));
    ksl_device_ops old = probe_ops;
    old.version = KSL_DEVICE_OPS_VERSION + 1;
    assert_null(ksl_device_attach(e, &old, &s->p, 0x9000u, 0x10));
    ksl_thread_create(e, "driver", dev_thread, s);
}

static ksl_config engine_cfg(uint64_t seed, int threaded)
{
    ksl_config c = cfg_with(seed, 2);
    c.engine = threaded ? KSL_ENGINE_THREADED : KSL_ENGINE_DETERMINISTIC;
    return c;
}

static void test_access_cost_and_values(void **state)
{
    (void)state;
    for (int threaded = 0; threaded < 2; threaded++) {
        dev_state s;
        memset(&s, 0, sizeof s);
        ksl_config c = engine_cfg(1, threaded);
        run_out o = run_scenario(&c, dev_setup, &s);
        assert_clean(o);
        assert_int_equal(s.read_back, 1234u);
        /* Two accesses cost at least 2 x 3 us on the accessing CPU's clock (100 ns units). */
        assert_true(s.t1 - s.t0 >= 2 * PROBE_COST_NS / 100u);
        run_out_free(&o);
    }
}

static void test_report_from_register_access(void **state)
{
    (void)state;
    for (int threaded = 0; threaded < 2; threaded++) {
        for (uint64_t seed = 1; seed <= 10; seed++) {
            dev_state s;
            memset(&s, 0, sizeof s);
            s.mode = 1;
            ksl_config c = engine_cfg(seed, threaded);
            run_out o = run_scenario(&c, dev_setup, &s);
            assert_rule(o, "T.device-register");
            /* Attributed to the CPU that wrote, and the run stopped before the driver went on. */
            assert_non_null(strstr(o.message, "thread 'driver' on CPU"));
            assert_non_null(strstr(o.message, "bad value 0xdead written"));
            assert_int_equal(s.after, 0);
            run_out_free(&o);
        }
    }
}

static void test_report_from_device_event(void **state)
{
    (void)state;
    for (int threaded = 0; threaded < 2; threaded++) {
        for (uint64_t seed = 1; seed <= 10; seed++) {
            dev_state s;
            memset(&s, 0, sizeof s);
            s.mode = 2;
            ksl_config c = engine_cfg(seed, threaded);
            run_out o = run_scenario(&c, dev_setup, &s);
            assert_rule(o, "T.device-event");
            /* Hardware, not a CPU, broke it; the event came on time; the run stopped. */
            assert_null(strstr(o.message, "on CPU"));
            assert_int_equal(s.p.events, 1);
            assert_true(s.p.event_at >= 5000u);
            assert_int_equal(s.after, 0);
            run_out_free(&o);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_access_cost_and_values),
        cmocka_unit_test(test_report_from_register_access),
        cmocka_unit_test(test_report_from_device_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
