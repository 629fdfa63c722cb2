/* Every suite dtbench knows, in `dtbench list` order. */
#include <string.h>

#include "registry.h"

extern const dtb_suite dtb_suite_ddp;
extern const dtb_suite dtb_suite_zero1;
extern const dtb_suite dtb_suite_zero2;
extern const dtb_suite dtb_suite_zero3;
extern const dtb_suite dtb_suite_checkpoint;
extern const dtb_suite dtb_suite_throughput;
extern const dtb_suite dtb_suite_memory;
extern const dtb_suite dtb_suite_comm;

static const dtb_suite *const SUITES[] = {
    &dtb_suite_ddp,
    &dtb_suite_zero1,
    &dtb_suite_zero2,
    &dtb_suite_zero3,
    &dtb_suite_checkpoint,
    &dtb_suite_throughput,
    &dtb_suite_memory,
    &dtb_suite_comm,
};

size_t suite_count(void)
{
    return sizeof SUITES / sizeof SUITES[0];
}

const dtb_suite *suite_at(size_t index)
{
    return index < suite_count() ? SUITES[index] : NULL;
}

const dtb_suite *suite_find(const char *name)
{
    for (size_t i = 0; i < suite_count(); i++)
        if (strcmp(SUITES[i]->name, name) == 0)
            return SUITES[i];
    return NULL;
}
