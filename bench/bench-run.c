/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Run a command and report its wall time, CPU time and peak RSS. Linux
 * counts the pre-exec memory of the forking process in the child's
 * ru_maxrss, so a small C parent measures, not the Python harness.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench-run COMMAND [ARG]...\n");
		return 127;
	}
	double t0 = now_s();
	pid_t pid = fork();
	if (pid < 0) {
		perror("bench-run: fork");
		return 127;
	}
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		fprintf(stderr, "bench-run: %s: %s\n", argv[1], strerror(errno));
		_exit(127);
	}
	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR) {
			perror("bench-run: wait4");
			return 127;
		}
	double wall = now_s() - t0;
	double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	             (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	fprintf(stderr, "\n@@bench-run {\"wall_s\": %.6f, \"cpu_s\": %.6f, "
	        "\"maxrss_kb\": %ld, \"status\": %d}\n", wall, cpu, ru.ru_maxrss,
	        code);
	return code;
}
