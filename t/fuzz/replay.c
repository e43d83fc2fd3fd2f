
/*
 * A fuzz target's corpus replayed without libFuzzer, as a TAP test: this
 * main() feeds every file of the corpus to the target's
 * LLVMFuzzerTestOneInput(), each in a child process of its own, and
 * reports one test per file ("ok", or "not ok" with the signal or exit
 * code: a failed fuzz_assert() aborts).  The top Makefile links it with
 * each t/fuzz/fuzz_NAME.c and the core, built with the plain compiler,
 * as build/fuzz-replay/NAME, with FUZZ_CORPUS "t/fuzz-corpus/NAME", and
 * `make test` runs these binaries with prove (from the repository root).
 *
 *   build/fuzz-replay/NAME                  the corpus in FUZZ_CORPUS
 *   build/fuzz-replay/NAME FILE|DIR ...     those files instead
 *
 * A corpus that cannot be read, or holds no file, is a failure.  Each
 * input has 60 seconds.
 */


#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>


#ifndef FUZZ_CORPUS
#error "FUZZ_CORPUS: the corpus directory, e.g. \"t/fuzz-corpus/filter\""
#endif

#define REPLAY_SECONDS  60


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_add(const char *path);
static int replay_cmp(const void *a, const void *b);
static int replay_one(size_t n, const char *path);


static char    **replay_files;
static size_t    replay_n, replay_size;
static char     *replay_self;


int
main(int argc, char **argv)
{
    int     i, bad, failed;
    size_t  k;

    replay_self = argv[0];
    bad = 0;

    if (argc > 1) {
        for (i = 1; i < argc; i++) {
            bad |= replay_add(argv[i]);
        }

    } else {
        bad = replay_add(FUZZ_CORPUS);
    }

    if (replay_n > 1) {
        qsort(replay_files, replay_n, sizeof(char *), replay_cmp);
    }

    failed = (bad || replay_n == 0);

    printf("1..%zu\n", replay_n + 1);
    printf("%s 1 - corpus %s read: %zu inputs\n", failed ? "not ok" : "ok",
           (argc > 1) ? "(arguments)" : FUZZ_CORPUS, replay_n);
    fflush(stdout);

    for (k = 0; k < replay_n; k++) {
        failed |= replay_one(k + 2, replay_files[k]);
        free(replay_files[k]);
    }

    free(replay_files);

    return failed ? 1 : 0;
}


/* a file, or the files of a directory (not its subdirectories, dot files) */

static int
replay_add(const char *path)
{
    int             bad;
    char          **files, *name;
    size_t          len;
    DIR            *dir;
    struct stat     st;
    struct dirent  *de;

    if (stat(path, &st) != 0) {
        printf("# %s: %s\n", path, strerror(errno));
        return 1;
    }

    if (!S_ISDIR(st.st_mode)) {
        if (replay_n == replay_size) {
            replay_size = replay_size ? 2 * replay_size : 256;
            files = realloc(replay_files, replay_size * sizeof(char *));

            if (files == NULL) {
                printf("# out of memory\n");
                return 1;
            }

            replay_files = files;
        }

        name = strdup(path);
        if (name == NULL) {
            printf("# out of memory\n");
            return 1;
        }

        replay_files[replay_n++] = name;

        return 0;
    }

    dir = opendir(path);
    if (dir == NULL) {
        printf("# %s: %s\n", path, strerror(errno));
        return 1;
    }

    bad = 0;

    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;
        }

        len = strlen(path) + 1 + strlen(de->d_name) + 1;

        name = malloc(len);
        if (name == NULL) {
            printf("# out of memory\n");
            bad = 1;
            break;
        }

        snprintf(name, len, "%s/%s", path, de->d_name);

        if (stat(name, &st) == 0 && S_ISREG(st.st_mode)) {
            bad |= replay_add(name);
        }

        free(name);
    }

    closedir(dir);

    return bad;
}


static int
replay_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}


/* test n: the input in a child process; 0 if it returned */

static int
replay_one(size_t n, const char *path)
{
    int       status;
    long      len;
    FILE     *f;
    pid_t     pid;
    uint8_t  *data;

    pid = fork();

    if (pid < 0) {
        printf("not ok %zu - %s: fork: %s\n", n, path, strerror(errno));
        return 1;
    }

    if (pid == 0) {
        alarm(REPLAY_SECONDS);

        f = fopen(path, "rb");
        if (f == NULL) {
            fprintf(stderr, "%s: %s\n", path, strerror(errno));
            _exit(2);
        }

        if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0
            || fseek(f, 0, SEEK_SET) != 0)
        {
            fprintf(stderr, "%s: cannot size it\n", path);
            _exit(2);
        }

        /* exactly the input's size: a sanitizer sees a read past it */

        data = malloc(len ? (size_t) len : 1);

        if (data == NULL
            || (len && fread(data, 1, (size_t) len, f) != (size_t) len))
        {
            fprintf(stderr, "%s: cannot read it\n", path);
            _exit(2);
        }

        fclose(f);

        LLVMFuzzerTestOneInput(data, (size_t) len);

        free(data);
        _exit(0);
    }

    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            printf("not ok %zu - %s: waitpid: %s\n", n, path,
                   strerror(errno));
            return 1;
        }
    }

    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        printf("ok %zu - %s\n", n, path);
        fflush(stdout);
        return 0;
    }

    if (WIFSIGNALED(status)) {
        printf("not ok %zu - %s: killed by signal %d%s\n", n, path,
               WTERMSIG(status),
               WTERMSIG(status) == SIGALRM ? " (took too long)" : "");

    } else {
        printf("not ok %zu - %s: exit code %d\n", n, path,
               WEXITSTATUS(status));
    }

    printf("#   again: %s %s\n", replay_self, path);
    fflush(stdout);

    return 1;
}
