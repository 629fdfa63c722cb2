/* backend_cuda_create for builds without the CUDA backend (DTB_CUDA_ENABLED OFF). */
#include "backend.h"

#include <stdio.h>

int backend_cuda_create(int device_index, dtb_backend **out, char *err, size_t err_len)
{
    (void)device_index;
    *out = NULL;
    if (err != NULL && err_len > 0) {
        snprintf(err, err_len, "dtbench was built without the CUDA backend");
    }
    return -1;
}
