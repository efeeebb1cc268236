/* fault_static_parent: a statically linked program (the dynamic loader never runs, so
 * LD_PRELOAD does nothing to it) that starts a dynamic child: `sh -c 'echo child: $0' hi`.
 * The input for gpuprof's "loaded into programs that never use CUDA" test: the child gets
 * the shim through LD_PRELOAD, uses no CUDA, and nothing may change or be written. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    printf("static parent\n");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", "echo child: $0", "hi", (char *)NULL);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0)
        return 1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
