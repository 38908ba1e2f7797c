/* SPDX-License-Identifier: MIT */
/*
 * SARIF 2.1.0 for the outcome of one run, in the form GitHub code scanning accepts
 * (github/codeql-action/upload-sarif):
 *
 *  - runs[0].tool.driver: name "kslab", version, and EVERY rule of the catalog (ksl_rules()),
 *    in catalog order: id, shortDescription (the summary), fullDescription (summary, what it is
 *    modelled on, its RULES.md number), defaultConfiguration.level "error", properties.rule
 *    ("W3", or "kernel" for the K. checks);
 *  - results: empty for a clean run, or one result for the finding: ruleId, ruleIndex, level
 *    "error", message.text (the finding's message), locations[0] (the call site: its file made
 *    relative to `srcroot` with uriBaseId "%SRCROOT%", region.startLine when the line is known),
 *    partialFingerprints.primaryLocationLineHash (a stable hash of rule, file and line, so the
 *    same bug is the same alert from run to run), properties (replay token, context, CPU, IRQL,
 *    step, virtual time, the finding's detail), and codeFlows[0]: the events of the ring (see
 *    recorder.h) as SARIF threads: one threadFlow per context (thread, DPC, ISR, work item,
 *    "idle on CPU n", "device") in order of first appearance, each event a threadFlowLocation
 *    with the message "CPU 1 DISPATCH_LEVEL DPC 'x': acquire spin lock" and an executionOrder
 *    that numbers the events across all thread flows in the order they happened (the
 *    interleaving), ending with the finding itself in the context that broke it;
 *  - runs[0].properties.replay: the replay token, when given.
 *
 * Locations: GitHub refuses a file whose result location has no artifact URI, so a finding
 * without a call site (a deadlock, a hang) is placed at the last event of its CPU that has one
 * (else the last event with one), and its message says so; a thread-flow step without a call
 * site (a context beginning, a device event) is placed at the previous step of its thread flow
 * that has one, else at the result's location.  Only when no location is known at all (no call
 * site, no such event) are the locations left out.  URIs: a file under `srcroot` (or whose real
 * path is) becomes relative to it ("miniports/ac97/stream.c"); another relative file stays as
 * it is; another absolute file becomes a file:// URI without a base.  Characters outside
 * [A-Za-z0-9-._~/] are percent-encoded.
 *
 * Host code.
 */
#ifndef KSLAB_TOOLS_SARIF_H
#define KSLAB_TOOLS_SARIF_H

#include <stddef.h>

#include <kslab/engine.h>

#include "recorder.h"

/*
 * Write the SARIF log for a run to `path`, atomically: into a temporary file next to it, then
 * renamed over it, so readers see the old file or the complete new one, never a partial one.
 *   finding       the run's finding, or NULL for a clean run (no results)
 *   ev, nev       the last events of the run, oldest first (recorder_ring), for the code flow;
 *                 may be NULL / 0
 *   replay_token  `kslab replay` token reproducing the run, or NULL
 *   srcroot       the source root the repository-relative URIs are taken from (e.g. the
 *                 current directory), or NULL / "" to keep files as they are
 * Returns 0, or -1 with `err` filled ("cannot write 'x/y.sarif': No such file or directory");
 * on failure nothing is left behind (the temporary file is removed, an existing `path` is
 * untouched).
 */
int sarif_write(const char *path, const ksl_finding *finding, const recorder_entry *ev, size_t nev,
                const char *replay_token, const char *srcroot, char *err, size_t errlen);

#endif
