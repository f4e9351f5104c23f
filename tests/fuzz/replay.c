/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Runs a harness over every file of its corpus without libFuzzer, so the
 * committed seeds and crash reproducers are a plain test in every build. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "driver.h"

static int
run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t cap = 4096, len = 0;
	unsigned char *buf = malloc(cap);
	while (buf) {
		if (len == cap) {
			unsigned char *bigger = realloc(buf, cap *= 2);
			if (!bigger) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = bigger;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	int err = ferror(f);
	fclose(f);
	if (!buf || err) {
		fprintf(stderr, "%s: cannot read\n", path);
		free(buf);
		return -1;
	}
	/* Exactly `len` bytes, as libFuzzer passes them, so a read past the
	 * end is caught by AddressSanitizer here too. */
	unsigned char *exact = malloc(len ? len : 1);
	if (!exact) {
		free(buf);
		return -1;
	}
	memcpy(exact, buf, len);
	free(buf);
	if (getenv("FZ_VERBOSE"))
		fprintf(stderr, "== %s\n", path);
	/* Each input in its own process: a broken invariant aborts, and the
	 * other inputs still run and report. */
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
		/* exit(), not _exit(): LeakSanitizer checks at exit. */
		exit(0);
	}
	free(exact);
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) != pid) {
		fprintf(stderr, "%s: cannot run: %s\n", path, strerror(errno));
		return -1;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "FAILED: %s\n", path);
		return 1;
	}
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files of a directory in name order, so runs are reproducible. */
static int
run_dir(const char *dir, unsigned *count, unsigned *failed)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return -1;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			char **more = realloc(names, cap * sizeof(*names));
			if (!more) {
				rc = -1;
				break;
			}
			names = more;
		}
		size_t len = strlen(dir) + strlen(de->d_name) + 2;
		names[n] = malloc(len);
		if (!names[n]) {
			rc = -1;
			break;
		}
		snprintf(names[n], len, "%s/%s", dir, de->d_name);
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (rc >= 0 && stat(names[i], &st) == 0 &&
		    S_ISREG(st.st_mode)) {
			int r = run_file(names[i]);
			if (r < 0)
				rc = -1;
			else if (r > 0)
				(*failed)++;
			(*count)++;
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	unsigned count = 0, failed = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		int rc;
		if (S_ISDIR(st.st_mode)) {
			rc = run_dir(argv[i], &count, &failed);
		} else {
			rc = run_file(argv[i]);
			if (rc > 0)
				failed++;
			count++;
		}
		if (rc < 0)
			return 1;
	}
	/* An empty corpus would make this test pass without testing. */
	if (count == 0) {
		fprintf(stderr, "no inputs found\n");
		return 1;
	}
	printf("%u inputs, %u failed\n", count, failed);
	return failed ? 1 : 0;
}
