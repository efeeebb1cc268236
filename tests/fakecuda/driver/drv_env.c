/* Fake libcuda: reads the simulated machine's shape from the environment, once.
 *
 *   FAKECUDA_DEVICE_MEM  bytes per device: a plain integer or one with a K, M, G or T suffix
 *                        (binary multiples, either case), default 16G.
 *   FAKECUDA_DEVICES     number of devices, 1..64, default 1.
 *   FAKECUDA_DRIVER_VERSION  what cuDriverGetVersion answers (1000 * major + 10 * minor),
 *                        1000..99990, default 13000: an older driver than the runtime
 *                        needs, for the report's driver check.
 *
 * A value that does not parse, overflows or is out of range gets one line on stderr and the
 * default, so a typo shows up in the test log instead of silently changing the numbers. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "drv_internal.h"

static pthread_once_t env_once = PTHREAD_ONCE_INIT;
static size_t env_device_mem = DRV_DEFAULT_DEVICE_MEM;
static int env_devices = 1;
static int env_driver_version = DRV_VERSION;

/* Parses "<digits>[KMGT]" into bytes; returns 0 on anything else, including overflow. */
static int parse_bytes(const char *text, size_t *out)
{
    if (text[0] < '0' || text[0] > '9')
        return 0; /* strtoull would accept a sign or leading blanks */
    errno = 0;
    char *end = NULL;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0)
        return 0;
    unsigned shift = 0;
    switch (*end) {
    case '\0': break;
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    case 't': case 'T': shift = 40; break;
    default: return 0;
    }
    if (shift != 0 && end[1] != '\0')
        return 0;
    if (value > (SIZE_MAX >> shift))
        return 0;
    *out = (size_t)value << shift;
    return 1;
}

static int parse_count(const char *text, int *out)
{
    if (text[0] < '0' || text[0] > '9')
        return 0;
    errno = 0;
    char *end = NULL;
    long value = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || value < 1 || value > DRV_MAX_DEVICES)
        return 0;
    *out = (int)value;
    return 1;
}

static void read_env(void)
{
    const char *mem = getenv("FAKECUDA_DEVICE_MEM");
    if (mem != NULL && !parse_bytes(mem, &env_device_mem)) {
        fprintf(stderr, "fakecuda: bad FAKECUDA_DEVICE_MEM '%s', using 16G\n", mem);
        env_device_mem = DRV_DEFAULT_DEVICE_MEM;
    }
    const char *ver = getenv("FAKECUDA_DRIVER_VERSION");
    if (ver != NULL) {
        char *end = NULL;
        long v = strtol(ver, &end, 10);
        if (ver[0] < '0' || ver[0] > '9' || *end != '\0' || v < 1000 || v > 99990) {
            fprintf(stderr, "fakecuda: bad FAKECUDA_DRIVER_VERSION '%s', using %d\n", ver,
                    DRV_VERSION);
        } else {
            env_driver_version = (int)v;
        }
    }
    const char *count = getenv("FAKECUDA_DEVICES");
    if (count != NULL && !parse_count(count, &env_devices)) {
        fprintf(stderr, "fakecuda: bad FAKECUDA_DEVICES '%s' (want 1..%d), using 1\n", count,
                DRV_MAX_DEVICES);
        env_devices = 1;
    }
}

int drv_device_count(void)
{
    pthread_once(&env_once, read_env);
    return env_devices;
}

size_t drv_device_mem(void)
{
    pthread_once(&env_once, read_env);
    return env_device_mem;
}

int drv_driver_version(void)
{
    pthread_once(&env_once, read_env);
    return env_driver_version;
}

int drv_valid_device(int device)
{
    return device >= 0 && device < drv_device_count();
}
