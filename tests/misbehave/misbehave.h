/* SPDX-License-Identifier: MIT */
/*
 * Drivers that misbehave the ways untrusted code can (tests/misbehave): the environment variable
 * KSLAB_MISBEHAVE picks what the driver's entry point does before it starts the reference driver
 * it wraps, KSLAB_MISBEHAVE_LOAD what the plugin's constructor does when it is loaded:
 *
 *   exit     exit(0)                 abort   abort()
 *   crash    a NULL dereference      spin    loop for ever without calling the kernel
 *   closefds close every descriptor above stderr (kslab's pipes among them), then spin
 *   fork-crash  start a child process that sleeps (holding every inherited descriptor), then crash
 *   print    write to stdout and stderr (as a chatty driver does), then behave
 *   pid      append "PID PARENT-PID" to the file KSLAB_MISBEHAVE_PIDFILE names, then behave
 *   (unset)  behave
 */
#ifndef KSLAB_TESTS_MISBEHAVE_H
#define KSLAB_TESTS_MISBEHAVE_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline void misbehave(const char *var, const char *where)
{
    const char *how = getenv(var);
    if (!how || !*how)
        return;
    if (strcmp(how, "exit") == 0)
        exit(0);
    if (strcmp(how, "abort") == 0)
        abort();
    if (strcmp(how, "crash") == 0)
        *(volatile int *)(uintptr_t)(how[0] == 'c' ? 0 : 1) = 1;
    if (strcmp(how, "spin") == 0)
        for (volatile unsigned long i = 0;; i++)
            ;
    if (strcmp(how, "closefds") == 0) {
        for (int fd = STDERR_FILENO + 1; fd < 1024; fd++)
            close(fd);
        for (volatile unsigned long i = 0;; i++)
            ;
    }
    if (strcmp(how, "fork-crash") == 0) {
        if (fork() == 0) {
            sleep(30);
            _exit(0);
        }
        *(volatile int *)(uintptr_t)(how[0] == 'f' ? 0 : 1) = 1;
    }
    if (strcmp(how, "pid") == 0) {
        FILE *f = fopen(getenv("KSLAB_MISBEHAVE_PIDFILE"), "a");
        if (f) {
            fprintf(f, "%ld %ld\n", (long)getpid(), (long)getppid());
            fclose(f);
        }
    }
    if (strcmp(how, "print") == 0) {
        printf("{\"a driver\": \"printing into kslab's stdout\"} from %s\n", where);
        fprintf(stderr, "the driver complains on stderr in %s\n", where);
        for (int i = 0; i < 2000; i++) /* more than kslab keeps: head and tail are shown */
            printf("line %d of chatter from %s\n", i, where);
        fflush(stdout);
    }
}

#endif
