/* SPDX-License-Identifier: MIT */
/*
 * `kslab rules --markdown`: the catalog of checks as the Markdown page docs/CHECKS.md, one
 * heading per rule id (the anchor SARIF's helpUri points at, --docs-url), grouped by family,
 * then the device faults.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <kslab/rules.h>

#include "checks_md.h"

static const struct {
    char prefix;
    const char *title, *what;
} families[] = {
    {'W', "WavePci miniports (W)", "the rules of the WavePci seed page: mappings, the spin lock, revocation"},
    {'S', "Stream class minidrivers (S)", "the rules of the stream class seed page: synchronization and budgets"},
    {'K', "Kernel checks (K)", "what Driver Verifier and the kernel would stop, and what makes a run unusable"},
};

void print_checks_markdown(FILE *f)
{
    size_t n, nf;
    const ksl_rule *r = ksl_rules(&n);
    const ksl_fault_info *fault = ksl_fault_catalog(&nf);
    fputs("# kslab's checks\n\n"
          "Every rule id kslab reports, what it means, what it is modelled on and how to fix it. SARIF results\n"
          "link here (`--docs-url`). Made by `kslab rules --markdown`; the test suite checks this page is its\n"
          "output. The rule numbers (W1, S5, ...) are those of RULES.md.\n",
          f);
    for (size_t k = 0; k < sizeof families / sizeof families[0]; k++) {
        fprintf(f, "\n## %s\n\n%c%s.\n", families[k].title, toupper((unsigned char)families[k].what[0]),
                families[k].what + 1);
        for (size_t i = 0; i < n; i++) {
            if (r[i].id[0] != families[k].prefix)
                continue;
            const char *sum = r[i].summary;
            fprintf(f, "\n### %s\n\n%c%s.\n\n", r[i].id, toupper((unsigned char)sum[0]), sum + 1);
            if (strcmp(r[i].rule, "kernel") == 0)
                fprintf(f, "- **Rule:** a kernel check of kslab\n");
            else
                fprintf(f, "- **Rule:** %s of RULES.md\n", r[i].rule);
            fprintf(f, "- **Modelled on:** %s\n- **Level:** %s\n- **How to fix:** %s\n", r[i].modelled,
                    ksl_rule_level(&r[i]), ksl_rule_fix(&r[i]));
        }
    }
    fputs("\n## Device faults\n\n"
          "What the built-in devices can do wrong at seeded moments (scenario `faults`), and what a correct\n"
          "driver does about each; a finding after an injected fault names it.\n\n"
          "| device | fault | what the device does | what a correct driver does |\n|---|---|---|---|\n",
          f);
    for (size_t i = 0; i < nf; i++)
        fprintf(f, "| %s | %s | %s | %s |\n", fault[i].device, fault[i].name, fault[i].what, fault[i].correct);
}
