/* Backend-independent parts of the backend interface. */
#include "backend.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int backend_error(dtb_backend *be, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(be->error, sizeof be->error, fmt, args);
    va_end(args);
    return -1;
}

void backend_destroy(dtb_backend *be)
{
    if (be == NULL) {
        return;
    }
    if (be->ops != NULL && be->ops->destroy != NULL) {
        be->ops->destroy(be);
    }
    free(be);
}
