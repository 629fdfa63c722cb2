#include "comm_ops.h"

#include <stdio.h>
#include <string.h>

#include "comm.h"

static const char *const OP_NAMES[COMM_OPS_COUNT] = {"allreduce", "reduce_scatter",
                                                     "allgather", "broadcast"};

const char *comm_op_name(dtb_collective op)
{
    return (int)op >= 0 && (int)op < COMM_OPS_COUNT ? OP_NAMES[op] : "?";
}

int comm_op_parse(const char *name, dtb_collective *out)
{
    for (int k = 0; k < COMM_OPS_COUNT; k++)
        if (strcmp(name, OP_NAMES[k]) == 0) {
            *out = (dtb_collective)k;
            return 0;
        }
    return -1;
}

int comm_op_parse_list(const char *opt, const char *text, dtb_collective *ops, int cap,
                       int *n_out, char *err, size_t err_len)
{
    int n = 0;
    const char *p = text;
    for (;;) {
        size_t len = strcspn(p, ",");
        char name[32];
        dtb_collective op;
        if (len == 0 || len >= sizeof name) {
            snprintf(err, err_len, "--%s: expected a comma-separated list of %s, %s, %s, %s; "
                                   "got '%s'",
                     opt, OP_NAMES[0], OP_NAMES[1], OP_NAMES[2], OP_NAMES[3], text);
            return -1;
        }
        memcpy(name, p, len);
        name[len] = '\0';
        if (comm_op_parse(name, &op) != 0) {
            snprintf(err, err_len, "--%s: unknown collective '%s' (known: %s, %s, %s, %s)", opt,
                     name, OP_NAMES[0], OP_NAMES[1], OP_NAMES[2], OP_NAMES[3]);
            return -1;
        }
        for (int i = 0; i < n; i++)
            if (ops[i] == op) {
                snprintf(err, err_len, "--%s: '%s' is listed twice", opt, name);
                return -1;
            }
        if (n == cap) {
            snprintf(err, err_len, "--%s: more than %d collectives", opt, cap);
            return -1;
        }
        ops[n++] = op;
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    *n_out = n;
    return 0;
}

/* Blocked kinds pass N*block elements in S; the others pass S itself. */
static int is_blocked(dtb_collective op)
{
    return op == DTB_COLL_REDUCE_SCATTER || op == DTB_COLL_ALLGATHER;
}

int64_t comm_op_elements(dtb_collective op, int64_t bytes, int np, size_t esize)
{
    if (bytes <= 0 || np < 1 || esize == 0)
        return 0;
    int64_t per = (int64_t)esize * (is_blocked(op) ? np : 1);
    return bytes / per;
}

int64_t comm_op_bytes(dtb_collective op, int64_t elements, int np, size_t esize)
{
    return elements * (int64_t)esize * (is_blocked(op) ? np : 1);
}

void comm_op_bandwidth(dtb_collective op, int64_t size_bytes, int np, double seconds,
                       double *algbw_gbps, double *busbw_gbps)
{
    if (!(seconds > 0)) {
        *algbw_gbps = *busbw_gbps = 0.0;
        return;
    }
    *algbw_gbps = (double)size_bytes / seconds / 1e9;
    *busbw_gbps = comm_bus_bytes(op, (double)size_bytes, np) / seconds / 1e9;
}
