/* test_output_path.c — GPUPROF_OUTPUT templates and safe creation of the trace file. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "internal.h"

static void test_expand(void **state)
{
    (void)state;
    char out[256], want[256];
    unsetenv("RANK");
    unsetenv("LOCAL_RANK");
    assert_int_equal(gp_shim_expand_output("t.%p.gz", out, sizeof out), 0);
    snprintf(want, sizeof want, "t.%ld.gz", (long)getpid());
    assert_string_equal(out, want);
    assert_int_equal(gp_shim_expand_output("r%r-100%%", out, sizeof out), 0);
    assert_string_equal(out, "r0-100%");
    setenv("LOCAL_RANK", "3", 1);
    assert_int_equal(gp_shim_expand_output("r%r", out, sizeof out), 0);
    assert_string_equal(out, "r3");
    setenv("RANK", "12;rm -rf /", 1); /* only digits reach the file name */
    assert_int_equal(gp_shim_expand_output("r%r", out, sizeof out), 0);
    assert_string_equal(out, "r12");
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    assert_int_equal(gp_shim_expand_output("%h", out, sizeof out), 0);
    assert_string_equal(out, host);
    assert_int_equal(gp_shim_expand_output("bad%q", out, sizeof out), -EINVAL);
    assert_int_equal(gp_shim_expand_output("trailing%", out, sizeof out), -EINVAL);
    assert_int_equal(gp_shim_expand_output("", out, sizeof out), -EINVAL);
    char small[8];
    assert_int_equal(gp_shim_expand_output("abcdefghij", small, sizeof small), -ENAMETOOLONG);
}

static void test_create(void **state)
{
    (void)state;
    char dir[] = "/tmp/gpuprof-test-XXXXXX", path[512], used[600], target[600];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/trace.gz", dir);
    int fd = gp_shim_create_output(path, used, sizeof used);
    assert_true(fd >= 0);
    assert_string_equal(used, path);
    assert_int_equal(write(fd, "x", 1), 1);
    close(fd);
    /* an existing file is never truncated: the next name is taken */
    fd = gp_shim_create_output(path, used, sizeof used);
    assert_true(fd >= 0);
    snprintf(target, sizeof target, "%s.1", path);
    assert_string_equal(used, target);
    close(fd);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 1);
    /* a symlink at the path is never followed */
    char link[512], victim[512];
    snprintf(victim, sizeof victim, "%s/victim", dir);
    snprintf(link, sizeof link, "%s/link.gz", dir);
    assert_int_equal(symlink(victim, link), 0);
    fd = gp_shim_create_output(link, used, sizeof used);
    assert_true(fd >= 0);
    snprintf(target, sizeof target, "%s.1", link);
    assert_string_equal(used, target);
    close(fd);
    assert_int_equal(access(victim, F_OK), -1);
    /* a missing directory is an error, not a crash */
    snprintf(path, sizeof path, "%s/no/such/dir/t.gz", dir);
    assert_int_equal(gp_shim_create_output(path, used, sizeof used), -ENOENT);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expand),
        cmocka_unit_test(test_create),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
